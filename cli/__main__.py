"""`python -m cli` is the same command line as `tfx-e2e`."""

from cli.main import entry

entry()
