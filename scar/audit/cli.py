"""`scar audit DIR|FILE [--json OUT] [--markdown OUT] [--llm-judge ...]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from scar.audit import AUDIT_NAME, audit_path, to_markdown
from scar.errors import ScarError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="a `scar build` folder or a SCaR Parquet file (official ones too)")
    parser.add_argument("--json", dest="json_out", type=Path, metavar="OUT", help="write the report as JSON")
    parser.add_argument("--markdown", type=Path, metavar="OUT", help="write the Markdown report to a file (default: print it)")
    parser.add_argument(
        "--max-rows", type=int, default=None, metavar="N",
        help="score at most N rows per source and split (a fixed sample; default all)",
    )  # fmt: skip
    parser.add_argument("--llm-judge", action="store_true", help="also ask an LLM (the --llm-* options) to rate the candidates, without the image")
    parser.add_argument("--llm-rows", type=int, default=200, metavar="N", help="rows per source for the LLM judge (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the LLM judge's request and candidate order (default 0)")
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)  # the LLM cache's folder; default: next to the input
    from scar.generate.llm import add_arguments as add_llm_arguments

    add_llm_arguments(parser)


def write_build_audit(build_dir: Path, report: dict[str, Any], row_flags: dict[str, list[str]]) -> Path:
    """DIR/audit.json: the report plus the rows some blind scorer solves (read by `scar browse`)."""
    from scar.pipeline import atomic_write_json

    path = build_dir / AUDIT_NAME
    atomic_write_json(path, {**report, "row_flags": dict(sorted(row_flags.items()))})
    return path


def run(args: argparse.Namespace) -> int:
    if args.max_rows is not None and args.max_rows < 1:
        raise ScarError(f"--max-rows must be >= 1, got {args.max_rows}")
    external = None
    if args.llm_judge:
        from scar.audit.llm_judge import judge_from_args

        external = judge_from_args(args)
    report, result = audit_path(args.path, args.max_rows, external)
    if args.path.is_dir():
        write_build_audit(args.path, report, result.row_flags)
    text = to_markdown(report)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0
