"""report.md: precision@1 with its interval, what beat the gold, and where (by source, by category).

Deterministic (no dates, stable order), like the leaderboard's tables.
"""

from __future__ import annotations

from typing import Any, Sequence

from evaluators.bootstrap import LEVEL, RESAMPLES, SEED
from evaluators.leaderboard.text import DASH, escape
from evaluators.report.collect import TaskReport
from scar.core.schema import NEG_TYPES


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _ci(analysis: dict[str, Any]) -> str:
    ci = analysis.get("precision@1_ci95")
    return f"{_pct(ci[0])}–{_pct(ci[1])}" if ci else DASH


def _share(count: int, total: int) -> str:
    return f"{count} ({100 * count / total:.1f}%)" if total else str(count)


def _type_cells(errors: dict[str, int]) -> list[str]:
    total = sum(errors.get(t, 0) for t in NEG_TYPES)
    return [_share(errors.get(t, 0), total) for t in NEG_TYPES]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int) -> str:
    align = [":--"] * numeric_from + ["--:"] * (len(header) - numeric_from)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _who(r: TaskReport) -> list[str]:
    return [escape(r.model), f"`{r.run}`", escape(r.task)]


def _precision_section(reports: Sequence[TaskReport]) -> str:
    rows = []
    for r in reports:
        a = r.analysis
        rows.append([*_who(r), f"{a['num_pred']:,}", _pct(a["precision@1"]), _ci(a), f"{a['num_errors']:,}"])
    header = ["Model", "Run", "Task", "n", "P@1 (%)", f"{round(100 * LEVEL)}% CI", "errors"]
    return f"## Precision@1 with its {round(100 * LEVEL)}% confidence interval\n\n" + _table(header, rows, 3)


def _types_section(typed: Sequence[TaskReport]) -> str:
    intro = (
        "## What beat the gold\n\n"
        "Each wrong query counted once, by the type of its *winning negative* (the best-ranked candidate that is "
        "not the gold); in brackets the share of the task's errors. Every query has three negatives of each type, "
        "so a model blind to the difference between them would spread its errors about evenly (33% each); a "
        "type far above that is the part of the caption (object, relation to another object, scene) the model "
        "does not check."
    )
    if not typed:
        return intro + ("\n\nNo predictions here carry negative types (`neg_types`): not SCaR results, or results "
                        "written before the error analysis.")
    rows = [[*_who(r), f"{r.analysis['num_errors']:,}", *_type_cells(r.analysis["errors_by_negative_type"])] for r in typed]
    return intro + "\n\n" + _table(["Model", "Run", "Task", "errors", *NEG_TYPES], rows, 3)


def _group_rows(r: TaskReport, field: str, limit: int | None) -> tuple[list[list[str]], int]:
    groups = r.analysis[field]
    names = sorted(groups, key=lambda g: (-groups[g]["num_pred"], g))
    shown = names if limit is None else names[:limit]
    rows = []
    for name in shown:
        g = groups[name]
        rows.append([*_who(r), escape(name), f"{g['num_pred']:,}", _pct(g["precision@1"]),
                     *_type_cells(g["errors_by_negative_type"])])
    return rows, len(names) - len(shown)


def _groups_section(typed: Sequence[TaskReport], field: str, title: str, what: str, limit: int | None) -> str:
    if not typed:
        return ""
    rows, hidden = [], 0
    for r in typed:
        more, left = _group_rows(r, field, limit)
        rows += more
        hidden += left
    note = f" The {limit} largest per task are shown ({hidden:,} smaller ones left out: `--max-categories`)." if hidden else ""
    header = ["Model", "Run", "Task", what, "n", "P@1 (%)", *(f"{t} errors" for t in NEG_TYPES)]
    return (f"## {title}\n\nPrecision@1 and the errors by winning negative type within each {what}, largest first.{note}\n\n"
            + _table(header, rows, 4))


def render(reports: Sequence[TaskReport], results_dir: str, plot_name: str | None, max_categories: int) -> str:
    typed = [r for r in reports if "errors_by_negative_type" in r.analysis]
    untyped = [r for r in reports if not r.has_predictions]
    parts = [
        "# Error analysis\n\n"
        f"Results in `{escape(results_dir)}`, computed from each task's per-query predictions "
        "(`<task>.predictions.jsonl`: the ranking of the candidates, the gold's rank under the run's tie rule), "
        f"so every model is analysed alike. Intervals: percentile bootstrap over the task's queries ({RESAMPLES:,} "
        f"resamples, seed {SEED}; the same results always give the same intervals). "
        "How to read this: README, \"Reading the error analysis\".",
    ]
    if untyped:
        parts.append(f"{len(untyped)} task result(s) have no predictions file: only their interval is shown.")
    if plot_name:
        parts.append(f"![precision@1 and what beat the gold]({plot_name})")
    parts += [_precision_section(reports), _types_section(typed),
              _groups_section(typed, "by_source", "By source", "source", None),
              _groups_section(typed, "by_category", "By category", "category", max_categories)]
    return "\n\n".join(p for p in parts if p) + "\n"
