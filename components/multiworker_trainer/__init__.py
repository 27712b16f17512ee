"""Local multi-worker training: the Trainer's run_fn in N worker processes on 127.0.0.1 (TF_CONFIG)."""
