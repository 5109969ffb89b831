"""The MMEB-V2 leaderboard table: image, video, visual documents, overall and the meta-task columns, with
published rows (marked `reported`, each citing its source) beside measured ones (`measured`, from a run's
summary.json `mmeb-v2` block). Scores in percent, averages as `aggregate` computes them (Overall: the mean
of the 78 tasks); an incomplete row shows a dash where a mean would be of fewer tasks.

Published rows come from the official score files (`data/reported.json`, extracted by
tests/parity/mmeb_v2/extract_reported.py); release `v2.0.0` is the one the VLM2Vec-V2 paper reports.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Iterable, Mapping

from evaluators.tasks.mmeb_v2.aggregate import aggregate
from evaluators.tasks.mmeb_v2.catalog import GROUPS, META_TASKS

GROUP_TITLES = {"image": "Image", "video": "Video", "visdoc": "VisDoc"}
SHORT = {"Classification": "CLS", "QA": "QA", "Retrieval": "RET", "Grounding": "GD", "Moment Retrieval": "MRET",
         "ViDoRe-V1": "VDRv1", "ViDoRe-V2": "VDRv2", "VisRAG": "VR", "OOD": "OOD"}


def reported(release: str | None = "v2.0.0") -> list[dict[str, Any]]:
    data = json.loads(resources.files("evaluators.tasks.mmeb_v2").joinpath("data/reported.json").read_text())
    return [r for r in data["rows"] if release in (None, r["release"])]


def columns() -> list[str]:
    cols = ["Model", "Kind", "Overall"] + [GROUP_TITLES[g] for g in GROUPS]
    cols += [f"{GROUP_TITLES[g]}-{SHORT[m]}" for g in GROUPS for m in META_TASKS[g]]
    return cols + ["Source"]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def row(model: str, kind: str, block: Mapping[str, Any], source: str) -> list[str]:
    cells = [model, kind, _pct(block["overall"])] + [_pct(block["groups"][g]["score"]) for g in GROUPS]
    cells += [_pct(block["groups"][g]["meta"][m]) for g in GROUPS for m in META_TASKS[g]]
    return cells + [source]


def table(measured: Iterable[tuple[str, Mapping[str, Any], str]] = (), release: str | None = "v2.0.0") -> str:
    """Markdown: the published rows of `release`, then each (model, summary `mmeb-v2` block, source) measured."""
    rows = [row(r["model"], "reported", aggregate(r["scores"]), r["source"]) for r in reported(release)]
    rows += [row(model, "measured", block, source) for model, block, source in measured]
    rows.sort(key=lambda cells: -float(cells[2]) if cells[2] != "–" else 1.0)
    head = columns()
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])
