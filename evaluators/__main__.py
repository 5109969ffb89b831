"""`python -m evaluators eval|tasks ...`: the evaluation CLI without the rest of `scar`."""

import sys

from evaluators.cli import main

sys.exit(main())
