"""mmeb_v2.md: MMEB-V2 rows -> Markdown, in the board's columns (evaluators.tasks.mmeb_v2.board).

- The main table holds the published rows (`reported`, each citing its score file) and measured runs on
  real data, groups ordered by their best full-size Overall.
- A run of some of the 78 tasks shows every column whose tasks it has in full; a column with only some of
  them reads `– (k/n)` and the row's source says `partial (k/78 tasks)`: never a mean of fewer tasks.
- Runs on the synthetic fixture (`data_provenance.kind` synthetic) sit in a table of their own, marked,
  never beside the published rows; tasks in no average (the three unscored ViDoRe v2 configs, a task split
  by its data) in another; tasks whose ties at the top were flagged are listed last.
Deterministic (no dates, stable order), like the other tables.
"""

from __future__ import annotations

from typing import Sequence

from evaluators.tasks.catalog import MMEB_V2
from evaluators.tasks.mmeb_v2.board import COLUMN_TASKS, GROUP_TITLES, OVERALL, PAPER_RELEASE, reported, reported_scores

from evaluators.leaderboard.model import MEASURED, MMEB_V2_COLUMNS, REPORTED, Row, extra_columns
from evaluators.leaderboard.render import Footnotes, markdown_table, ordered, source_cell
from evaluators.leaderboard.text import DASH, escape

SYNTHETIC = "synthetic"
PAGE_FIXED_RELEASE = "v2.1-baselines-visdoc-page-fixed"
_PAGE_TASKS = ("mmeb-v2/ViDoSeek-page", "mmeb-v2/MMLongBench-page")
_FLAGSHIP = "VLM2Vec-V2.0-Qwen2VL-2B"


def coverage(row: Row, column: str) -> tuple[int, int]:
    """(tasks of the column the row has, tasks the column averages)."""
    names = COLUMN_TASKS[column]
    return sum(n in row.values for n in names), len(names)


def _missing(row: Row, column: str) -> str:
    if row.kind == MEASURED and column in COLUMN_TASKS:
        found, total = coverage(row, column)
        if 0 < found < total:
            return f"{DASH} ({found}/{total})"
    return DASH


def _source(row: Row, notes: Footnotes) -> str:
    cell = source_cell(row, notes)
    if row.kind == MEASURED and 0 < row.tasks_done < row.tasks_total:
        cell += f", partial ({row.tasks_done}/{row.tasks_total} tasks)"
    return cell


def _columns_text() -> str:
    groups = []
    for title in GROUP_TITLES.values():
        metas = [f"{c.removeprefix(title + '-')} {len(COLUMN_TASKS[c])}" for c in MMEB_V2_COLUMNS
                 if c.startswith(title + "-")]
        groups.append(f"{title} {len(COLUMN_TASKS[title])} ({', '.join(metas)})")
    return "; ".join(groups)


def _page_fix_text() -> str:
    """What release v2.0.0's page labels do to the published rows, with the official numbers that show it."""
    old = next(reported_scores(r) for r in reported(PAPER_RELEASE) if r["model"] == _FLAGSHIP)
    new = next(reported_scores(r) for r in reported(PAGE_FIXED_RELEASE) if r["model"] == _FLAGSHIP)
    fixed = " and ".join(f"{new[t]:.1f} on {t.removeprefix('mmeb-v2/')}" for t in _PAGE_TASKS)
    before = " and ".join(f"{old[t]:.1f}" for t in _PAGE_TASKS)
    return (f"Release {PAPER_RELEASE} scored ViDoSeek-page and MMLongBench-page with page labels later found wrong "
            "(VLM2Vec issue 167); `scar eval` reads the corrected `*-page-fixed` annotations, on which release "
            f"{PAGE_FIXED_RELEASE} gives the official {_FLAGSHIP} {fixed}, where {PAPER_RELEASE} has {before}: a "
            "measured VisDoc-OOD, VisDoc and Overall differ from the reported ones for that reason alone.")


def _intro() -> str:
    return (
        "# MMEB-V2 leaderboard\n\n"
        "Scores (%) on MMEB-V2's 78 tasks (VLM2Vec-V2, arXiv 2507.04590), each task's headline as the official "
        "`eval.py` computes it: hit@1 on image and video tasks, NDCG@5 with linear gain (`ndcg_linear@5`) on "
        "visual documents. Columns as in the paper: per group its meta-tasks, each the mean of its tasks, then the "
        f"group's mean: {_columns_text()}. **Overall is the mean of all 78 tasks**, as `report_score_v2.py` and "
        "the paper average, not the mean of the three groups. Reported rows are release "
        f"{PAPER_RELEASE} of the official per-task score files (the release the paper reports), averaged here "
        f"the same way. {_page_fix_text()}"
    )


_LEGEND = (
    "Rows are **measured** (`scar eval --tasks mmeb-v2` result files) or **reported** (published numbers, cited in "
    "the footnotes), groups ordered by their best Overall. **Bold**: best in column among full-size results. "
    f"{DASH}: not evaluated; {DASH} (k/n): only k of the column's n tasks were evaluated, so there is no mean. "
    "A run of some of the 78 tasks (`--tasks mmeb-v2-image`, ...) shows the columns it covers in full and is "
    "marked `partial (k/78 tasks)`. Runs on the synthetic fixture are in a table of their own."
)
_SYNTHETIC_INTRO = (
    "## Synthetic fixture: not comparable\n\n"
    "Runs on the MMEB-V2 fixture (`evaluators/tasks/mmeb_v2/fixture.py`, generated data in the official layouts): "
    "they check the evaluation path end to end and measure nothing about a model."
)
_EXTRAS_INTRO = ("## Not in any average\n\n"
                 "MMEB-V2 tasks that belong to no average (the english-only ViDoRe v2 configs of `visdoc.yaml`, "
                 "unscored: VLM2Vec issue 96; a task whose results came from different data, split by it).")


def render_mmeb_v2(rows: Sequence[Row]) -> str:
    """mmeb_v2.md from every row (other benchmarks' rows are ignored)."""
    notes = Footnotes()
    mine = [r for r in rows if r.benchmark == MMEB_V2]
    scored = [r for r in mine if r.kind == REPORTED or r.tasks_done > 0]
    main = ordered(r for r in scored if r.data != SYNTHETIC)
    synthetic = ordered(r for r in scored if r.kind == MEASURED and r.data == SYNTHETIC)
    extras = extra_columns(mine, MMEB_V2)
    aside = ordered(r for r in mine if any(c in r.values for c in extras))
    parts = [_intro(), _LEGEND]
    if main:
        parts.append("\n".join(markdown_table(main, MMEB_V2_COLUMNS, notes, missing=_missing, source=_source)))
    else:
        parts.append("No MMEB-V2 results yet.")
    if synthetic:
        parts.append(_SYNTHETIC_INTRO)
        parts.append("\n".join(markdown_table(synthetic, MMEB_V2_COLUMNS, notes, missing=_missing, source=_source)))
    if aside:
        parts.append(_EXTRAS_INTRO)
        present = [c for c in extras if any(c in r.values for r in aside)]
        parts.append("\n".join(markdown_table(aside, present, notes)))
    ties = [text for r in mine for _, text in sorted(r.tie_notes.items())]
    if ties:  # the tables show no task columns, so a tie-flagged task is listed here
        parts.append("## Ties at the top\n\n" + "\n".join(f"- {escape(text)}." for text in ties))
    if notes.texts:
        parts.append(notes.render())
    return "\n\n".join(parts) + "\n"


assert MMEB_V2_COLUMNS[-1] == OVERALL
