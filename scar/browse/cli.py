"""`scar browse DIR [--out SITE] [--serve PORT]`: the options and the run."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from scar.core.argtypes import positive_int
from scar.core.errors import ScarError


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be in 0..65535, got {value}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    from scar.browse.site import DEFAULT_CHUNK_ROWS, DEFAULT_THUMB_SIZE

    p.description = (
        "Write a static HTML site (works from file://) to look at and review the samples of a build "
        "folder or a SCaR Parquet file; decisions export as a review file for `scar build --exclude`."
    )
    p.add_argument("path", type=Path, help="a `scar build` output folder, or a SCaR Parquet file")
    p.add_argument("--out", type=Path, help="site folder (default: DIR/browse, or FILE's folder/<stem>-browse)")
    p.add_argument("--images", type=Path, help="images root (default: from stats.json, else DIR/images)")
    p.add_argument("--audit", type=Path, help="audit file with row flags (default: DIR/audit.json when present)")
    p.add_argument("--serve", type=_port, metavar="PORT", help="then serve the site on 127.0.0.1:PORT (0 = any free port)")
    p.add_argument("--thumb-size", type=positive_int, default=DEFAULT_THUMB_SIZE, help=f"longest thumbnail side in px (default {DEFAULT_THUMB_SIZE})")
    p.add_argument("--chunk-rows", type=positive_int, default=DEFAULT_CHUNK_ROWS, help=f"rows per data file (default {DEFAULT_CHUNK_ROWS})")
    p.add_argument("--workers", type=positive_int, help="thumbnail processes (default: all cores, at most 8)")
    p.add_argument("--robustness", type=Path, metavar="PATH",
                   help="perturbed prompts of a `scar eval --robustness` run (<task>.predictions.jsonl or its folder): "
                        "the detail view draws each over the query's image")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from scar.browse.site import SiteOptions, build_site, default_site_dir

    if not args.path.exists():
        raise ScarError(f"{args.path}: no such file or directory")
    console = Console(stderr=True, soft_wrap=True)
    out = args.out or default_site_dir(args.path)
    options = SiteOptions(
        target=args.path,
        out=out,
        images=args.images,
        audit=args.audit,
        chunk_rows=args.chunk_rows,
        thumb_size=args.thumb_size,
        workers=args.workers or min(os.cpu_count() or 1, 8),
        progress=not args.no_progress and sys.stderr.isatty(),
        robustness=args.robustness,
    )
    result = build_site(options)
    t = result.thumbs
    console.print(
        f"site of {result.rows:,} rows in {result.chunks} data files, thumbnails {t.made:,} made, {t.reused:,} reused, "
        f"{result.seconds:.1f}s -> {result.index_html}",
        highlight=False,
    )
    if args.robustness is not None:
        console.print(f"perturbed prompts from {args.robustness}: {result.perturbed_rows:,} rows", highlight=False)
    if result.images_root is None:
        console.print("no images root found: pass --images DIR (the site shows the regions on blank images)", highlight=False)
    for problem, count in sorted(result.image_problems.items()):
        console.print(f"  {count:,} rows without a thumbnail: {problem}", highlight=False)
    if result.audit_file is not None:
        console.print(f"audit flags from {result.audit_file}: {result.flagged_rows:,} rows flagged", highlight=False)
        if result.unmatched_flags:
            console.print(f"  {result.unmatched_flags:,} flagged row ids are not in this build (ignored)", highlight=False)
    if args.serve is None:
        console.print(f"open file://{result.index_html.resolve().as_posix()}", highlight=False)
        return 0
    from scar.browse.server import make_server

    try:
        server = make_server(out, args.serve)
    except OSError as exc:
        raise ScarError(f"cannot serve on 127.0.0.1:{args.serve}: {exc.strerror or exc}") from None
    console.print(f"serving http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", highlight=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
