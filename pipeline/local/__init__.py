"""Running the DAG on this machine: LocalDagRunner with Beam DirectRunner, the run lock, unchanged-rerun check."""
