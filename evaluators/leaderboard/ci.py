"""`scar leaderboard --ci`: the 95% confidence interval of every measured value (evaluators.bootstrap).

A task's interval needs only its counts (num_correct of num_pred, in every result file), so it exists
for any result, old ones included; an average's interval resamples every task of the average together.
Published rows carry none: their sources give no per-query data; nor do MMEB-V2 rows (a visual-document
task's headline is an NDCG, which no count of hits gives).
"""

from __future__ import annotations

from typing import Sequence

from evaluators.bootstrap import LEVEL, RESAMPLES, SEED, mean_ci, precision_ci
from evaluators.tasks.catalog import MMEB, MMEB_META_TASKS, SCAR, averaged

from evaluators.leaderboard.model import IND, MEASURED, OOD, OVERALL, SUMMARY_COLUMNS, Row, extra_columns
from evaluators.leaderboard.render import DASH, escape, ordered


def _averages(benchmark: str) -> dict[str, list[str]]:
    """Each summary column that is an average -> the tasks it averages."""
    tasks = averaged(benchmark)
    names = [t.name for t in tasks]
    if benchmark == SCAR:
        return {OVERALL: names}
    columns = {meta: [t.name for t in tasks if t.meta_task == meta] for meta in MMEB_META_TASKS}
    return {**columns, IND: [t.name for t in tasks if t.ind], OOD: [t.name for t in tasks if not t.ind], OVERALL: names}


def attach_ci(rows: Sequence[Row]) -> None:
    """Fill `row.ci` (percent) of every measured row: its tasks, then the averages it has every task of."""
    for row in rows:
        if row.kind != MEASURED or row.benchmark not in (SCAR, MMEB):  # MMEB-V2: NDCG has no counts to resample
            continue
        found: dict[str, tuple[float, float]] = {}
        for task, (correct, total) in sorted(row.counts.items()):
            ci = precision_ci(correct, total, task)
            if ci is not None:
                found[task] = ci
        for column, names in _averages(row.benchmark).items():
            ci = mean_ci(row.counts, names)
            if ci is not None:
                found[column] = ci
        row.ci = {column: (100 * low, 100 * high) for column, (low, high) in found.items()}


def _label(row: Row) -> str:
    """The row's name plus what sets it apart from a full official run (as the table above marks it)."""
    marks = [m for m in (
        "fixed protocol" if row.protocol == "fixed" else "",
        f"{row.data} data" if row.data not in (None, "official", "subsample") else "",
        "strict ties" if row.tie_rule != "official" else "",
        f"--limit {row.limit}" if row.limit is not None else "",
    ) if m]
    return escape(row.label) + (f" ({', '.join(marks)})" if marks else "")


def _cell(row: Row, column: str) -> str:
    if column not in row.ci:
        return DASH
    low, high = row.ci[column]
    return f"{low:.1f}–{high:.1f}"


def render_ci(rows: Sequence[Row], benchmark: str) -> str:
    """The section `--ci` appends to scar.md / mmeb.md ("" when no measured row has an interval)."""
    shown = ordered(r for r in rows if r.benchmark == benchmark and r.kind == MEASURED and r.ci)
    if not shown:
        return ""
    columns = [c for c in (*SUMMARY_COLUMNS[benchmark], *extra_columns(shown, benchmark)) if any(c in r.ci for r in shown)]
    lines = [
        f"## {round(100 * LEVEL)}% confidence intervals",
        "",
        f"Precision@1 (%) of the measured rows above as a {round(100 * LEVEL)}% interval: a percentile bootstrap over "
        f"each task's queries ({RESAMPLES:,} resamples, seed {SEED}, one stream per task), so the same results always "
        "give the same intervals. An average's interval resamples all of its tasks together. Two rows whose intervals "
        "overlap may not differ at all.",
        "",
        "| " + " | ".join(["Model", *map(escape, columns)]) + " |",
        "|" + "|".join([":--", *(["--:"] * len(columns))]) + "|",
    ]
    for row in shown:
        lines.append("| " + " | ".join([_label(row), *(_cell(row, c) for c in columns)]) + " |")
    return "\n".join(lines) + "\n"

