"""`scar leaderboard`: measured results + published numbers -> Markdown tables, CSV/JSON and a plot.

Outputs in `--out`: scar.md, mmeb.md, mmeb_tasks.md, mmeb_v2.md, scar.png, leaderboard.csv, leaderboard.json,
and robustness.md / robustness.png when a result folder holds `scar eval --robustness` runs. Published rows:
`--reported` (SCaR, MMEB) and the official MMEB-V2 score files (evaluators.leaderboard.reported_v2).
`--ci` adds 95% confidence intervals (evaluators.leaderboard.ci); results of different data under one task
name are split into columns and warned about (evaluators.leaderboard.data_split).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evaluators.leaderboard.ci import attach_ci, render_ci
from evaluators.leaderboard.export import write_exports
from evaluators.leaderboard.measured import load_measured, load_measured_with_warnings
from evaluators.leaderboard.model import Row
from evaluators.leaderboard.plot import write_scar_plot
from evaluators.leaderboard.render import escape, render_mmeb_tasks, render_summary, table_rows
from evaluators.leaderboard.render_v2 import render_mmeb_v2
from evaluators.leaderboard.reported import DEFAULT_PATH, load_reported
from evaluators.leaderboard.reported_v2 import load_reported_v2
from scar.core.errors import ScarError

DEFAULT_OUT = Path("leaderboards-out")

__all__ = ["add_arguments", "run", "build_leaderboard", "load_measured", "load_reported", "Row"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--results",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a results directory written by `scar eval` (repeatable)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output directory (default ./{DEFAULT_OUT}/; the tables shipped in a checkout's "
                             "leaderboards/ are only rewritten when you name that folder)")
    parser.add_argument(
        "--include-reported", action="store_true",
        help="add the published numbers (cited) beside the measured ones: --reported's, and MMEB-V2's official scores"
    )
    parser.add_argument(
        "--reported", type=Path, default=DEFAULT_PATH, metavar="PATH", help="published numbers file (default: %(default)s)"
    )
    parser.add_argument("--ci", action="store_true",
                        help="add 95%% bootstrap confidence intervals of the measured rows (seeded: the same every time)")


def _warnings_section(warnings: list[tuple[str, str]], benchmark: str) -> str:
    mine = [text for bench, text in warnings if bench == benchmark]
    if not mine:
        return ""
    return "## Data warnings\n\n" + "\n".join(f"- {escape(text)}." for text in mine) + "\n"


def _with_sections(text: str, *sections: str) -> str:
    extra = [s for s in sections if s]
    return text if not extra else text + "\n" + "\n".join(extra)


def build_leaderboard(
    results_dirs: list[Path], out: Path, include_reported: bool = False, reported_path: Path = DEFAULT_PATH,
    ci: bool = False,
) -> list[Path]:
    """Read, render and write every output; returns the files written. Warnings (results of different data
    under one task name) go to stderr and into the tables."""
    rows, warnings = load_measured_with_warnings(results_dirs)
    for _, warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if include_reported:
        rows += load_reported(reported_path) + load_reported_v2()
    if not rows:
        where = ", ".join(map(str, results_dirs)) or "no --results given"
        raise ScarError(f"no results to tabulate ({where}); pass --results DIR or --include-reported")
    ordered = table_rows(rows)
    if ci:
        attach_ci(ordered)
    documents = {
        f"{bench}.md": _with_sections(render_summary(ordered, bench), render_ci(ordered, bench) if ci else "",
                                      _warnings_section(warnings, bench))
        for bench in ("scar", "mmeb")
    }
    documents["mmeb_tasks.md"] = render_mmeb_tasks(ordered)
    documents["mmeb_v2.md"] = _with_sections(render_mmeb_v2(ordered), _warnings_section(warnings, "mmeb-v2"))
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in documents.items():
            (out / name).write_text(text, encoding="utf-8")
            written.append(out / name)
        written.append(write_scar_plot(ordered, out / "scar.png"))
        written += write_exports(ordered, out)
        from evaluators.robustness.board import write_board

        written += write_board(results_dirs, out)  # robustness.md / .png, when a run measured robustness
    except OSError as exc:
        raise ScarError(f"cannot write the leaderboards to {out}: {exc.strerror or exc}") from None
    return written


def run(args: argparse.Namespace) -> int:
    written = build_leaderboard(list(args.results), args.out, args.include_reported, args.reported, ci=args.ci)
    print(f"leaderboards written to {args.out}/: {', '.join(p.name for p in written)}")
    return 0
