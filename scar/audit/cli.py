"""`scar audit DIR|FILE [--json OUT] [--markdown OUT] [--llm-judge ...]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from scar.audit import audit_path, to_markdown
from scar.audit.report import write_build_audit
from scar.core.errors import ScarError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="a `scar build` folder or a SCaR Parquet file (official ones too)")
    parser.add_argument("--json", dest="json_out", type=Path, metavar="OUT", help="write the report as JSON")
    parser.add_argument("--markdown", type=Path, metavar="OUT", help="write the Markdown report to a file (default: print it)")
    parser.add_argument(
        "--max-rows", type=int, default=None, metavar="N",
        help="score at most N rows per source and split (a fixed sample; default all)",
    )  # fmt: skip
    parser.add_argument("--strict", action="store_true", help="exit 1 when a source fails (a per-candidate scorer above the limits)")
    parser.add_argument("--llm-judge", action="store_true", help="also ask an LLM (the --llm-* options) to rate the candidates, without the image")
    parser.add_argument("--llm-rows", type=int, default=200, metavar="N", help="rows per source for the LLM judge (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the LLM judge's request and candidate order (default 0)")
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)  # the LLM cache's folder; default: next to the input
    from scar.generate.llm import add_arguments as add_llm_arguments

    add_llm_arguments(parser)


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
    return 1 if args.strict and not all(src["passes"] for src in report["sources"].values()) else 0


def verdict(report: dict[str, Any]) -> str:
    """One line per source: passes or FAILS, with the worst per-candidate P@1 and win rate."""
    per_candidate = {n for n, s in report["scorers"].items() if s["per_candidate"]}
    lines = []
    for name, src in report["sources"].items():
        figures = [e for n, e in src["scorers"].items() if n in per_candidate]
        p1 = max((e["p_at_1"] for e in figures), default=0.0)
        win = max((v for e in figures for v in e["win_rate"].values()), default=0.0)
        lines.append(f"audit {name}: {'passes' if src['passes'] else 'FAILS'} (blind P@1 <= {p1:.1%}, win rates <= {win:.1%}; "
                     f"limits {report['limits']['p_at_1']:.0%} / {report['limits']['win_rate']:.0%})")
    return "\n".join(lines)
