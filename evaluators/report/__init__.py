"""`scar report RESULTS_DIR`: the error analysis of `scar eval` results as Markdown and a plot.

Writes `report.md` and `report.png` into `--out` (default `RESULTS_DIR/report/`): per task result,
precision@1 with its 95% bootstrap interval, the errors by the winning negative's type (SCaR), and
precision@1 by source and by category, all recomputed from the per-query predictions
(evaluators.analysis).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scar.core.errors import ScarError

REPORT_MD = "report.md"
REPORT_PNG = "report.png"
DEFAULT_MAX_CATEGORIES = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, metavar="RESULTS_DIR", help="a results folder written by `scar eval`")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: RESULTS_DIR/report)")
    parser.add_argument("--max-categories", type=int, default=DEFAULT_MAX_CATEGORIES, metavar="N",
                        help=f"categories listed per task, largest first (default {DEFAULT_MAX_CATEGORIES})")
    parser.add_argument("--no-plot", action="store_true", help="write the Markdown only")


def write_report(results_dir: Path, out: Path, max_categories: int = DEFAULT_MAX_CATEGORIES,
                 plot: bool = True) -> list[Path]:
    from evaluators.report.collect import collect
    from evaluators.report.markdown import render
    from evaluators.report.plot import write_plot

    if max_categories < 1:
        raise ScarError("--max-categories must be at least 1")
    reports = sorted(collect(results_dir), key=lambda r: (r.benchmark != "scar", r.model, r.run, r.task))
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = [out / REPORT_MD]
        (out / REPORT_MD).write_text(render(reports, str(results_dir), REPORT_PNG if plot else None, max_categories),
                                     encoding="utf-8")
        if plot:
            written.append(write_plot(reports, out / REPORT_PNG))
    except OSError as exc:
        raise ScarError(f"cannot write the report to {out}: {exc.strerror or exc}") from None
    return written


def run(args: argparse.Namespace) -> int:
    out = args.out if args.out is not None else args.results / "report"
    written = write_report(args.results, out, args.max_categories, plot=not args.no_plot)
    print(f"report written to {out}/: {', '.join(p.name for p in written)}")
    return 0
