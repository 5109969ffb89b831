"""`--generator offline`: rule-based gold captions and hard negatives, deterministic, no network.

Modules: picture (the entity and its neighbours as boxes with layout roles), geometry (which relations
hold), relations, objects and scenes (the three caption parts and their swaps), draws (the entity's
random stream), generator (OfflineGenerator). The taxonomy and the negative rules it shares with the
LLM path live in scar.generate.taxonomy and scar.generate.rules.
"""

from __future__ import annotations

import argparse

from scar.generate.offline.generator import MODEL, NAME, PROMPT_VERSION, OfflineGenerator

__all__ = ["MODEL", "NAME", "PROMPT_VERSION", "OfflineGenerator", "add_arguments", "from_args"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Seed and region kind come from the CLI; --thin-stuff is the offline generator's own."""
    parser.add_argument(
        "--thin-stuff", action="store_true",
        help="offline generator: thin golds naming stuff that no swap can be as often (the floor, the sky, the wall) "
        "and give ground and overhead stuff no frame relation; fewer rows from stuff-heavy sources (ADE20K, "
        "COCO-Stuff), no text-only cue from their stuff (README, 'Swaps as common as golds')",
    )  # fmt: skip


def from_args(args: argparse.Namespace) -> OfflineGenerator:
    return OfflineGenerator(
        seed=int(getattr(args, "seed", 0) or 0), region_kind=getattr(args, "region_kind", None) or "box",
        thin_stuff=bool(getattr(args, "thin_stuff", False)),
    )  # fmt: skip
