"""The MMEB-V2 board as data: its summary columns, the tasks each one averages, a score set's values under
those names, and the published per-task scores.

Columns in the paper's order: per group its meta-tasks, then the group's mean, then Overall (the mean of
the 78 tasks, as `aggregate` computes it: VLM2Vec-V2-2B 64.9 / 34.6 / 65.4 and 58.0, the paper's figures).
A column whose tasks are not all present has no value. The leaderboard (`scar leaderboard`, mmeb_v2.md)
renders them beside measured runs.

Published rows come from the official score files (`data/reported.json`, extracted by
tests/parity/mmeb_v2/extract_reported.py); release `v2.0.0` is the one the VLM2Vec-V2 paper reports.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Mapping

from evaluators.tasks.mmeb_v2.aggregate import aggregate
from evaluators.tasks.mmeb_v2.catalog import GROUPS, META_TASKS, PREFIX, SCORED

PAPER_RELEASE = "v2.0.0"  # the official score files the paper's tables were made from
OFFICIAL_COMMIT = "6e1e1d42d4cba85ae4db4d3f7a25cba2465d1e16"
OVERALL = "Overall"
GROUP_TITLES = {"image": "Image", "video": "Video", "visdoc": "VisDoc"}
SHORT = {"Classification": "CLS", "QA": "QA", "Retrieval": "RET", "Grounding": "GD", "Moment Retrieval": "MRET",
         "ViDoRe-V1": "VDRv1", "ViDoRe-V2": "VDRv2", "VisRAG": "VR", "OOD": "OOD"}


def meta_column(group: str, meta: str) -> str:
    """`Image-CLS`, `Video-MRET`, `VisDoc-VDRv1`, ..."""
    return f"{GROUP_TITLES[group]}-{SHORT[meta]}"


def _column_tasks() -> dict[str, tuple[str, ...]]:
    columns: dict[str, tuple[str, ...]] = {}
    for group in GROUPS:
        for meta in META_TASKS[group]:
            columns[meta_column(group, meta)] = tuple(s.task_name for s in SCORED
                                                      if s.group == group and s.meta_task == meta)
        columns[GROUP_TITLES[group]] = tuple(s.task_name for s in SCORED if s.group == group)
    columns[OVERALL] = tuple(s.task_name for s in SCORED)
    return columns


# summary column -> the tasks it averages (`mmeb-v2/<official name>`, as results name them)
COLUMN_TASKS: dict[str, tuple[str, ...]] = _column_tasks()
COLUMNS: tuple[str, ...] = tuple(COLUMN_TASKS)


def summary_values(scores: Mapping[str, float]) -> dict[str, float | None]:
    """Task name (`mmeb-v2/<name>` or the official name) -> score, into every summary column (on the scale
    of the input; None where a task of the column is missing)."""
    block = aggregate(scores)
    values: dict[str, float | None] = {}
    for group in GROUPS:
        for meta in META_TASKS[group]:
            values[meta_column(group, meta)] = block["groups"][group]["meta"][meta]
        values[GROUP_TITLES[group]] = block["groups"][group]["score"]
    values[OVERALL] = block["overall"]
    return values


def reported(release: str | None = PAPER_RELEASE) -> list[dict[str, Any]]:
    """The official score files' rows of `release` (None: every release): model, release, source, paper and
    `scores` (official task name -> headline score, a fraction)."""
    data = json.loads(resources.files("evaluators.tasks.mmeb_v2").joinpath("data/reported.json").read_text())
    return [r for r in data["rows"] if release in (None, r["release"])]


def reported_scores(row: Mapping[str, Any]) -> dict[str, float]:
    """A published row's scored tasks as results name them, in percent."""
    scored = {s.name for s in SCORED}
    return {PREFIX + name: 100.0 * float(v) for name, v in row["scores"].items() if name in scored}
