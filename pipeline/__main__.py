"""`python -m pipeline` is the same command line as `tfx-e2e`."""

from pipeline.cli import entry

entry()
