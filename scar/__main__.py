"""`python -m scar ...` (and `torchrun ... -m scar eval ...`) runs the CLI."""

import sys

from scar.cli import main

sys.exit(main())
