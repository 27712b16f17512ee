"""`python -m pipeline` is the same command line as `tfx-e2e`."""

import sys

from pipeline.cli import main

sys.exit(main())
