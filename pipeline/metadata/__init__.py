"""Read-only queries over the ML Metadata store: runs, node executions, their artifacts."""
