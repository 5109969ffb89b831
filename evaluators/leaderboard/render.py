"""Rows -> GitHub-flavoured Markdown: scar.md, mmeb.md, mmeb_tasks.md (mmeb_v2.md: evaluators.leaderboard.render_v2).

Deterministic by construction (no dates, stable order), so the files can be golden-tested and diffed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from evaluators.tasks.catalog import MMEB, MMEB_META_TASKS, MMEB_V2, SCAR, averaged

from evaluators.leaderboard.model import (
    EXTRA_COLUMNS,
    extra_columns,
    FLAG_AVERAGED_DIFFERENTLY,
    MEASURED,
    OVERALL,
    REPORTED,
    SUMMARY_COLUMNS,
    Row,
)
from evaluators.leaderboard.text import DASH, escape


def fmt(value: float) -> str:
    return f"{value:.1f}"


@dataclass
class Footnotes:
    """Numbered in order of first use; the same text always gets the same number."""

    texts: list[str] = field(default_factory=list)

    def ref(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return f"[^{self.texts.index(text) + 1}]"

    def render(self) -> str:
        return "\n".join(f"[^{i}]: {text}" for i, text in enumerate(self.texts, 1))


def ordered(rows: Iterable[Row]) -> list[Row]:
    """Groups by their best full-size Overall (descending); in a group the base model, then its variants."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)

    def best(members: list[Row]) -> float | None:
        scores = [r.overall for r in members if r.overall is not None and r.comparable]
        return max(scores) if scores else None

    def group_key(item: tuple[str, list[Row]]) -> tuple[bool, float, str]:
        score = best(item[1])
        return score is None, -(score or 0.0), item[0].lower()

    def row_key(row: Row) -> tuple[bool, str, bool, str, str, int, str]:
        return (
            row.variant is not None,
            (row.variant or "").lower(),
            row.kind == MEASURED,
            row.label.lower(),
            row.tie_rule,
            -1 if row.limit is None else row.limit,
            row.protocol or "",
        )

    return [row for _, members in sorted(groups.items(), key=group_key) for row in sorted(members, key=row_key)]


def _labels(rows: Sequence[Row]) -> list[str]:
    """Full name on a group's first row; later variant rows are indented under it."""
    labels: list[str] = []
    first: Row | None = None
    for row in rows:
        if first is None or row.group != first.group:
            first = row
            labels.append(escape(row.label))
        elif row.variant is not None:
            shown = row.variant if row.model == first.model and row.kind == first.kind else row.label
            labels.append("&nbsp;&nbsp;↳ " + escape(shown))
        else:
            labels.append(escape(row.label))
    return labels


_SYNTHETIC_NOTE = ("Scored on the offline MMEB sample (`--tasks mmeb-sample`): generated pictures and texts, a smoke test "
                   "of the pipeline that measures nothing about a model; never bold.")
_SYNTHETIC_NOTES = {
    MMEB_V2: "Scored on the MMEB-V2 fixture (`evaluators/tasks/mmeb_v2/fixture.py`: generated pictures, frames and "
             "pages, made-up texts, a few queries per task): a smoke test of the pipeline that measures nothing about a "
             "model, not comparable with any published number; never bold.",
}


def source_cell(row: Row, notes: Footnotes) -> str:
    if row.kind == REPORTED:
        assert row.source is not None
        url = f" <{row.source['url']}>" if row.source.get("url") else ""
        return "reported" + notes.ref(f"{row.source['paper']}, {row.source['table']}.{url}")
    cell = MEASURED
    if row.protocol == "fixed":
        cell += ", fixed protocol" + notes.ref(
            "`--protocol fixed`: the model computed as it was meant to, with the reference code's quirks corrected; "
            "not what the published numbers measure, so never bold beside them."
        )
    elif row.protocol not in (None, "official"):
        cell += ", protocol unrecorded" + notes.ref(
            "Result files written before the evaluation protocol was recorded; never bold."
        )
    if row.data == "self-built":
        cell += ", self-built data" + notes.ref(
            "Evaluated on self-built SCaR data (a `scar build`), not the official release: not comparable with "
            "published numbers, never bold."
        )
    elif row.data == "modified":
        cell += ", modified data" + notes.ref(
            "Files named like the official release but with other rows or columns: not comparable with "
            "published numbers, never bold."
        )
    elif row.data == "synthetic":
        cell += ", synthetic data" + notes.ref(_SYNTHETIC_NOTES.get(row.benchmark, _SYNTHETIC_NOTE))
    elif row.data not in (None, "official", "subsample"):
        cell += ", data unrecorded" + notes.ref("Result files that do not record where their data came from; never bold.")
    if row.tie_rule != "official":
        cell += ", strict ties" + notes.ref(
            "Strict tie rule (`--strict-ties`): a tie with the gold candidate counts as wrong; the official rule counts it correct."
        )
    if row.limit is not None:
        cell += ", subsample" + notes.ref(
            f"Computed on a subsample of at most {row.limit} queries per task (`--limit {row.limit}`); "
            "not comparable with full runs and never bold."
        )
    return cell


def _competes(row: Row, column: str) -> bool:
    """May this cell be bold? Official protocol, not a subsample, not an Overall its source averaged another way,
    not a task whose ties at the top were flagged (†)."""
    if not row.comparable or column not in row.values or column in row.tie_notes:
        return False
    return not (column == OVERALL and FLAG_AVERAGED_DIFFERENTLY in row.flags)


def _best(rows: Sequence[Row], column: str) -> str | None:
    """The best shown value, if at least two rows compete for it (a lone value is not 'best')."""
    shown = [fmt(r.values[column]) for r in rows if _competes(r, column)]
    return max(shown, key=float) if len(shown) > 1 else None


def markdown_table(
    rows: Sequence[Row],
    columns: Sequence[str],
    notes: Footnotes,
    cell_note: Callable[[Row, str], str] = lambda row, column: "",
    missing: Callable[[Row, str], str] = lambda row, column: DASH,
    source: Callable[[Row, Footnotes], str] = source_cell,
) -> list[str]:
    best = {c: _best(rows, c) for c in columns}
    lines = [
        "| " + " | ".join(["Model", "Source", *map(escape, columns)]) + " |",
        "|" + "|".join([":--", ":--", *(["--:"] * len(columns))]) + "|",
    ]
    for label, row in zip(_labels(rows), rows):
        cells = [label, source(row, notes)]
        for column in columns:
            if column not in row.values:
                cells.append(missing(row, column))
                continue
            text = fmt(row.values[column])
            if _competes(row, column) and text == best[column]:
                text = f"**{text}**"
            tie = "†" + notes.ref(row.tie_notes[column]) if column in row.tie_notes else ""
            cells.append(text + tie + cell_note(row, column))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _overall_note(notes: Footnotes) -> Callable[[Row, str], str]:
    def note(row: Row, column: str) -> str:
        if column != OVERALL or not row.notes:
            return ""
        return "".join(notes.ref(text) for text in row.notes)

    return note


def _partial_overall(row: Row, column: str) -> str:
    if column == OVERALL and row.kind == MEASURED and 0 < row.tasks_done < row.tasks_total:
        return f"{DASH} ({row.tasks_done}/{row.tasks_total})"
    return DASH


_LEGEND = (
    "Rows are **measured** (`scar eval` result files) or **reported** (published numbers, cited in the footnotes); "
    "variants (↳) are listed under their base model, groups ordered by their best Overall. "
    f"**Bold**: best in column among full-size results. {DASH}: not evaluated; "
    f"{DASH} (k/n) in Overall: only k of the n tasks were evaluated, so there is no Overall."
)
_TASKS_LEGEND = (
    "Variants (↳) are listed under their base model, groups ordered by their best MMEB Overall. "
    f"**Bold**: best in column among full-size results. {DASH}: not evaluated."
)

_INTRO = {
    SCAR: (
        "# SCaR leaderboard\n\n"
        "Precision@1 (%) on the five SCaR evaluation sets: each query is an image region with 10 candidate captions "
        "(1 gold, 9 hard negatives), so chance is 10%. Overall is the mean of the five datasets."
    ),
    MMEB: (
        "# MMEB leaderboard\n\n"
        "Precision@1 (%) on MMEB's 36 tasks. A meta-task score is the mean of its tasks; IND is the mean of the 20 tasks "
        "with MMEB-train data and OOD of the other 16; **Overall is the mean of all 36 tasks**, not the mean of the four "
        "meta-task scores. A reported row whose source averaged differently, or whose published Overall disagrees with "
        "its own columns beyond rounding (more than 0.1), keeps the published value and carries a footnote; an Overall "
        "averaged another way is never bold. "
        "Per-task detail: [mmeb_tasks.md](mmeb_tasks.md)."
    ),
}

_EXTRAS_INTRO = {
    SCAR: "SCaR-shaped tasks that belong to no average (Demo: the embedded demo source, for trying the toolkit "
          "anywhere; `<build>/<source>`: the eval split of a `scar build` source with no SCaR task of its own).",
    MMEB: "MMEB subsets that belong to no average (CIFAR-100).",
}


def render_summary(rows: Sequence[Row], benchmark: str) -> str:
    """scar.md or mmeb.md: the summary columns, then any never-averaged tasks in a table of their own."""
    notes = Footnotes()
    columns = SUMMARY_COLUMNS[benchmark]
    extras = extra_columns(rows, benchmark)
    main = ordered(r for r in rows if r.benchmark == benchmark and (r.kind == REPORTED or r.tasks_done > 0))
    aside = ordered(r for r in rows if r.benchmark == benchmark and any(c in r.values for c in extras))
    parts = [_INTRO[benchmark], _LEGEND]
    if main:
        parts.append("\n".join(markdown_table(main, columns, notes, _overall_note(notes), _partial_overall)))
    else:
        parts.append(f"No {benchmark.upper() if benchmark == MMEB else 'SCaR'} results yet.")
    if aside:
        parts.append("## Not in any average\n\n" + _EXTRAS_INTRO[benchmark])
        present = [c for c in extras if any(c in r.values for r in aside)]
        parts.append("\n".join(markdown_table(aside, present, notes)))
    if notes.texts:
        parts.append(notes.render())
    return "\n\n".join(parts) + "\n"


def render_mmeb_tasks(rows: Sequence[Row]) -> str:
    """mmeb_tasks.md: every measured MMEB task, one table per meta-task (published sources give no per-task numbers)."""
    notes = Footnotes()
    measured = ordered(r for r in rows if r.benchmark == MMEB and r.kind == MEASURED)
    parts = [
        "# MMEB per-task results\n\n"
        "Precision@1 (%) per task, grouped by meta-task; the last column of each table is the meta-task score "
        "(mean of its tasks, shown only when all were evaluated). Only measured rows appear: the published sources "
        "report meta-task scores only (see [mmeb.md](mmeb.md)).",
        _TASKS_LEGEND,
    ]
    if not measured:
        parts.append("No measured MMEB results yet.")
    tasks = averaged(MMEB)
    for meta in MMEB_META_TASKS if measured else ():
        members = [t for t in tasks if t.meta_task == meta]
        ind = ", ".join(t.name for t in members if t.ind) or DASH
        ood = ", ".join(t.name for t in members if not t.ind) or DASH
        here = [r for r in measured if any(t.name in r.values for t in members)]
        parts.append(f"## {meta} ({len(members)} tasks)\n\nIND: {ind}. OOD: {ood}.")
        if here:
            parts.append("\n".join(markdown_table(here, [*(t.name for t in members), meta], notes)))
        else:
            parts.append(f"No measured {meta} tasks yet.")
    extra = [r for r in measured if any(c in r.values for c in EXTRA_COLUMNS[MMEB])]
    if extra:
        present = [c for c in EXTRA_COLUMNS[MMEB] if any(c in r.values for r in extra)]
        parts.append("## Not in any average\n\n" + _EXTRAS_INTRO[MMEB])
        parts.append("\n".join(markdown_table(extra, present, notes)))
    if notes.texts:
        parts.append(notes.render())
    return "\n\n".join(parts) + "\n"


def table_rows(rows: Sequence[Row]) -> list[Row]:
    """All rows in the order the tables show them: SCaR first, then MMEB, then MMEB-V2."""
    return [row for bench in (SCAR, MMEB, MMEB_V2) for row in ordered(r for r in rows if r.benchmark == bench)]
