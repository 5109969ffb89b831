"""`scar models`: every registered model with its HF id, family, region support and defaults."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from evaluators.models.custom import include
from evaluators.models.registry import REGION_VARIANTS, ModelSpec, families, models
from scar.core.errors import ScarError


def add_models_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--family", help="only models of this family")
    parser.add_argument("--json", action="store_true", help="print JSON (one object per model) instead of a table")
    parser.add_argument("--include", action="append", type=Path, default=[], metavar="PATH",
                        help="a .py file, or a folder of them, whose models (scar.register_embedder) are listed too")


def region_support(spec: ModelSpec) -> str:
    """e.g. "native box/point/mask; +crop +circle +boxtext (default boxtext)"."""
    variants = " ".join(f"+{variant}" for variant in REGION_VARIANTS)
    native = f"native {'/'.join(spec.native_regions)}; " if spec.native_regions else ""
    default = f" (default {spec.default_region})" if spec.default_region else ""
    return f"{native}{variants}{default}"


def model_row(spec: ModelSpec) -> dict[str, object]:
    return {
        "name": spec.name,
        "hf_id": spec.hf_id,
        "revision": spec.revision,
        "family": spec.family,
        "native_regions": list(spec.native_regions),
        "region_variants": list(REGION_VARIANTS),
        "default_region": spec.default_region,
        "defaults": dict(spec.defaults),
        "summary": spec.summary,
    }


def run_models(args: argparse.Namespace) -> int:
    for path in getattr(args, "include", None) or []:
        include(path)
    specs = list(models().values())
    wanted = getattr(args, "family", None)
    if wanted:
        known = sorted(set(families()) | {spec.family for spec in specs})
        if wanted not in known:
            raise ScarError(f"unknown family {wanted!r}; available: {', '.join(known)}")
        specs = [spec for spec in specs if spec.family == wanted]
    if getattr(args, "json", False):
        print(json.dumps([model_row(spec) for spec in specs], indent=2))
        return 0

    from rich.console import Console
    from rich.table import Table

    table = Table(title="Registered models (name+crop / +circle / +boxtext picks a region variant)")
    table.add_column("name", no_wrap=True, style="bold")
    table.add_column("HF id @ revision", no_wrap=True)
    table.add_column("family", no_wrap=True)
    table.add_column("regions", overflow="fold")
    table.add_column("defaults", overflow="fold")
    for spec in specs:
        defaults = ", ".join(f"{key}={value}" for key, value in sorted(spec.defaults.items())) or "-"
        hub = f"{spec.hf_id} @ {spec.revision}" if spec.revision else spec.hf_id
        table.add_row(spec.name, hub, spec.family, region_support(spec), defaults)
    # a pipe or a file gets the full width, so names and ids are never cut
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    print(
        "Any local directory or HF id works too: --model PATH[+variant] --family "
        f"{'|'.join(families())}; your own model: --model package.module:Factory, or --include FILE.py."
    )
    return 0
