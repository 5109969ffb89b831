"""Aggregates: measured rows reuse the evaluation engine's rules (evaluators.results.aggregate);
published rows are re-derived from their own printed columns.

MMEB: meta-task = mean of its tasks, IND = mean of 20, OOD = mean of 16, Overall = mean of all 36
(not the mean of the four meta-task scores). SCaR: Overall = mean of the five datasets. MMEB-V2: as
`report_score_v2.py` and the paper average (evaluators.tasks.mmeb_v2.board): meta-task and group = mean
of their tasks, Overall = mean of all 78. An average whose tasks are not all present does not exist.
Extra tasks (CIFAR-100, Demo, the three unscored ViDoRe v2 configs) are in no average.
"""

from __future__ import annotations

from statistics import fmean
from typing import Mapping

from evaluators.results import aggregate
from evaluators.tasks.catalog import MMEB, MMEB_META_TASKS, MMEB_V2, SCAR, averaged
from evaluators.tasks.mmeb_v2.board import summary_values

from evaluators.leaderboard.model import IND, OOD, OVERALL

# Two one-decimal roundings (the published parts, the published whole) can move an average by at most
# 0.05 + 0.05: anything further apart is a real disagreement, not rounding.
ROUNDING_TOLERANCE = 0.1 + 1e-9


def aggregates(benchmark: str, task_values: Mapping[str, float]) -> dict[str, float | None]:
    """Summary columns of one measured row (None where a task is missing), on the scale of the input."""
    if benchmark == MMEB_V2:
        return summary_values(task_values)
    summary = aggregate(task_values)
    if benchmark == SCAR:
        return {OVERALL: summary["scar"]["overall"]}
    mmeb = summary["mmeb"]
    return {**mmeb["meta"], IND: mmeb["IND"], OOD: mmeb["OOD"], OVERALL: mmeb["overall"]}


def _mmeb_counts() -> dict[str, int]:
    tasks = averaged(MMEB)
    counts = {meta: sum(t.meta_task == meta for t in tasks) for meta in MMEB_META_TASKS}
    counts[IND] = sum(t.ind is True for t in tasks)
    counts[OOD] = sum(t.ind is False for t in tasks)
    return counts


def mean_of_datasets(values: Mapping[str, float]) -> float:
    """SCaR Overall from the five published dataset scores."""
    return fmean(values[t.name] for t in averaged(SCAR))


def mean_of_36_from_meta(meta_scores: Mapping[str, float]) -> float:
    """The mean of all 36 tasks implied by the four meta-task means (weighted by their task counts)."""
    counts = _mmeb_counts()
    return sum(counts[m] * meta_scores[m] for m in MMEB_META_TASKS) / sum(counts[m] for m in MMEB_META_TASKS)


def mean_of_36_from_ind_ood(ind: float, ood: float) -> float:
    counts = _mmeb_counts()
    return (counts[IND] * ind + counts[OOD] * ood) / (counts[IND] + counts[OOD])


def mean_of_meta_tasks(meta_scores: Mapping[str, float]) -> float:
    """The other rule some sources use: the plain mean of the four meta-task scores."""
    return fmean(meta_scores[m] for m in MMEB_META_TASKS)
