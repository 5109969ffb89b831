"""`scar export DIR --layout official|hub --out OUT`: the options and the run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scar.core.errors import ScarError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Export a `scar build` folder: `--layout official` writes the file names and single images root the "
        "official sony/virtue loaders read; `--layout hub` writes a self-contained folder with a README.md "
        "that `datasets.load_dataset(OUT)` reads (builds already write that README into DIR)."
    )
    p.add_argument("path", type=Path, metavar="DIR", help="a `scar build` output folder")
    p.add_argument("--layout", choices=("official", "hub"), required=True, help="official file layout, or a hub dataset folder")
    p.add_argument("--out", type=Path, required=True, help="output folder: new, empty, or an earlier export of the same layout")
    p.add_argument("--images", type=Path, help="images root of every source (default: each source's root in DIR/stats.json)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--copy-images", action="store_true", help="copy the images (default: hard links, copies where links fail)")
    group.add_argument("--no-images", action="store_true", help="write no images (paths are still checked)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from scar.export.hub import export_hub
    from scar.export.images import COPY, LINK, NONE
    from scar.export.official import export_official

    if not args.path.exists():
        raise ScarError(f"{args.path}: no such file or directory")
    mode = NONE if args.no_images else COPY if args.copy_images else LINK
    export = export_official if args.layout == "official" else export_hub
    result = export(args.path, args.out, mode, args.images, progress=not args.no_progress and sys.stderr.isatty())
    console = Console(stderr=True, soft_wrap=True, highlight=False)
    rows = sum(result.files.values())
    i = result.images
    images = ("no images" if mode == NONE else
              f"{i.total:,} images ({i.linked:,} linked, {i.copied:,} copied, {i.reused:,} already there)")
    console.print(f"exported {rows:,} rows in {len(result.files)} files and {images} -> {args.out} (layout {args.layout})")
    if result.pruned:
        console.print(f"  removed {result.pruned:,} images an earlier export left that no row uses")
    guide = "LAYOUT.md" if args.layout == "official" else "README.md"
    console.print(f"see {args.out / guide}")
    return 0
