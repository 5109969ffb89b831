"""`python -m scar ...` (and `torchrun ... -m scar eval ...`) runs the CLI."""

from scar.cli import run_cli

run_cli()
