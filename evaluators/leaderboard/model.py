"""The leaderboard's row: one model (or variant) on one benchmark, measured or reported.

Column names come from the task catalog, so the tables can never drift from the task list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from evaluators.tasks.catalog import (
    ALL_TASKS,
    MMEB,
    MMEB_EXTRA_TASKS,
    MMEB_META_TASKS,
    MMEB_SAMPLE_PREFIX,
    MMEB_V2,
    SCAR,
    SCAR_EXTRA_TASKS,
    averaged,
    is_custom_name,
)
from evaluators.tasks.mmeb_v2.board import COLUMNS as MMEB_V2_BOARD_COLUMNS

OFFICIAL_PROTOCOL = "official"
OFFICIAL_DATA = "official"
SUBSAMPLE_DATA = "subsample"
UNRECORDED_PROTOCOL = "unrecorded"
OVERALL = "Overall"
IND = "IND"
OOD = "OOD"
MEASURED = "measured"
REPORTED = "reported"

SCAR_DATASETS: tuple[str, ...] = tuple(t.name for t in averaged(SCAR))
SCAR_COLUMNS: tuple[str, ...] = (*SCAR_DATASETS, OVERALL)
MMEB_COLUMNS: tuple[str, ...] = (*MMEB_META_TASKS, IND, OOD, OVERALL)
MMEB_TASK_NAMES: tuple[str, ...] = tuple(t.name for t in averaged(MMEB))
# MMEB-V2: per group its meta-tasks then the group (Image-CLS ... Image, Video-CLS ... Video, VisDoc-VDRv1 ...
# VisDoc), then Overall = the mean of the 78 tasks (evaluators.tasks.mmeb_v2.board)
MMEB_V2_COLUMNS: tuple[str, ...] = MMEB_V2_BOARD_COLUMNS
MMEB_V2_TASK_NAMES: tuple[str, ...] = tuple(t.name for t in averaged(MMEB_V2))
# SCaR-shaped / MMEB tasks that run but belong to no average: shown apart from Overall.
EXTRA_COLUMNS: dict[str, tuple[str, ...]] = {
    SCAR: tuple(t.name for t in SCAR_EXTRA_TASKS),
    MMEB: tuple(t.name for t in MMEB_EXTRA_TASKS),
    MMEB_V2: tuple(t.name for t in ALL_TASKS.values() if t.benchmark == MMEB_V2 and not t.in_average),
}
SUMMARY_COLUMNS: dict[str, tuple[str, ...]] = {SCAR: SCAR_COLUMNS, MMEB: MMEB_COLUMNS, MMEB_V2: MMEB_V2_COLUMNS}
AVERAGING = {SCAR: "mean-of-5-datasets", MMEB: "mean-of-36-tasks", MMEB_V2: "mean-of-78-tasks"}  # measured rows
assert MMEB_V2_COLUMNS[-1] == OVERALL


SPLIT_MARK = "@"  # `<task>@<data>`: one of several data sets under one task name (evaluators.leaderboard.data_split)


def is_extra_column(name: str) -> bool:
    """A `<build>/<source>` task, a task of the offline MMEB sample, or a task split by its data."""
    return is_custom_name(name) or name.startswith(MMEB_SAMPLE_PREFIX) or SPLIT_MARK in name


def extra_columns(rows: "Iterable[Row]", benchmark: str) -> tuple[str, ...]:
    """The benchmark's never-averaged catalog tasks, then any `<build>/<source>`, sample or split task the rows hold."""
    custom = sorted({name for r in rows if r.benchmark == benchmark for name in r.values if is_extra_column(name)})
    return (*EXTRA_COLUMNS[benchmark], *custom)

# Flags a row can carry; each has a footnote in the tables.
FLAG_OVERALL_MISMATCH = "overall-mismatch"  # published Overall != recomputed from its columns
FLAG_IND_OOD_MISMATCH = "ind-ood-mismatch"  # published Overall != (20 IND + 16 OOD) / 36
FLAG_AVERAGED_DIFFERENTLY = "averaged-differently"  # the source's Overall is not the mean of 36


@dataclass
class Row:
    benchmark: str  # "scar" | "mmeb" | "mmeb-v2"
    kind: str  # MEASURED | REPORTED
    model: str  # name as shown: published name, or registry name / HF id / local dir name
    group: str  # rows with the same group are listed together, base model first
    variant: str | None = None  # "+Crop", "+SCaR-train", "+crop" ...; None for the base model
    values: dict[str, float] = field(default_factory=dict)  # column or task name -> percent (MMEB-V2: its headline)
    averaging: str = ""  # how Overall was (or, for a source, is said to have been) computed
    source: dict[str, str] | None = None  # reported: paper, table, transcribed_from
    notes: list[str] = field(default_factory=list)  # footnote texts for flagged values
    flags: list[str] = field(default_factory=list)
    recomputed_overall: float | None = None
    tasks_done: int = 0  # measured: averaged tasks present
    tasks_total: int = 0
    limit: int | None = None  # measured on a subsample of at most `limit` queries per task
    tie_rule: str = "official"
    protocol: str | None = None  # measured: "official" | "fixed" | "unrecorded" (results older than the switch)
    data: str | None = None  # measured: "official" | "self-built" | "modified" | "unrecorded" (its least official task)
    files: list[str] = field(default_factory=list)  # measured: the result files read
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # measured: task -> (num_correct, num_pred)
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)  # `--ci`: column -> 95% interval, percent
    tie_notes: dict[str, str] = field(default_factory=dict)  # measured: task -> footnote of a tie-flagged cell

    @property
    def label(self) -> str:
        """Reported: "VIRTUE-2B +Crop" as printed; measured: the registry spelling "clip-vit-l-14+crop"."""
        if self.variant is None:
            return self.model
        return f"{self.model}{self.variant}" if self.kind == MEASURED else f"{self.model} {self.variant}"

    @property
    def overall(self) -> float | None:
        return self.values.get(OVERALL)

    @property
    def partial(self) -> bool:
        return self.kind == MEASURED and self.tasks_done < self.tasks_total

    @property
    def comparable(self) -> bool:
        """Full-size numbers computed as the reference code computes them: they may compete for 'best in column'."""
        if self.kind != MEASURED:
            return True
        return self.limit is None and self.protocol == OFFICIAL_PROTOCOL and self.data in (OFFICIAL_DATA, SUBSAMPLE_DATA)
