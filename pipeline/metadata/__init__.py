"""ML Metadata read back: opening the store (store), runs and node executions (runs), the records the inspect
commands print (queries, lineage, compare, eval_results), and what a run's artifacts hold (statistics, eval_results,
summary)."""
