"""The MMEB-V2 board as data: published rows agree with the paper's averages; the columns are the paper's."""

from __future__ import annotations

import pytest

from evaluators.tasks.mmeb_v2.aggregate import aggregate
from evaluators.tasks.mmeb_v2.board import (
    COLUMN_TASKS,
    COLUMNS,
    PAPER_RELEASE,
    reported,
    reported_scores,
    summary_values,
)


def test_vlm2vec_v2_matches_the_paper() -> None:
    (row,) = [r for r in reported() if r["model"] == "VLM2Vec-V2.0-Qwen2VL-2B"]
    block = aggregate(row["scores"])
    assert block["complete"]
    assert [round(100 * block["groups"][g]["score"], 1) for g in ("image", "video", "visdoc")] == [64.9, 34.6, 65.4]
    assert round(100 * block["overall"], 1) == 58.0  # the paper's Overall: the mean of the 78 tasks
    values = summary_values(reported_scores(row))  # percent, under the board's column names
    assert [round(values[c], 1) for c in ("Image", "Video", "VisDoc", "Overall")] == [64.9, 34.6, 65.4, 58.0]


def test_columns_are_the_papers() -> None:
    assert COLUMNS == ("Image-CLS", "Image-QA", "Image-RET", "Image-GD", "Image",
                       "Video-CLS", "Video-QA", "Video-RET", "Video-MRET", "Video",
                       "VisDoc-VDRv1", "VisDoc-VDRv2", "VisDoc-VR", "VisDoc-OOD", "VisDoc", "Overall")
    counts = [len(COLUMN_TASKS[c]) for c in COLUMNS]
    assert counts == [10, 10, 12, 4, 36, 5, 5, 5, 3, 18, 10, 4, 6, 4, 24, 78]
    assert all(n.startswith("mmeb-v2/") for n in COLUMN_TASKS["Overall"])


def test_an_incomplete_column_has_no_value() -> None:
    scores = {n: 0.5 for n in COLUMN_TASKS["Image"]} | {"mmeb-v2/K700": 0.25}
    values = summary_values(scores)
    assert values["Image"] == pytest.approx(0.5) and values["Image-GD"] == pytest.approx(0.5)
    assert values["Video"] is None and values["Video-CLS"] is None and values["Overall"] is None


@pytest.mark.parametrize("release", [PAPER_RELEASE, "v2.0.1", "v2.1-baselines-visdoc-page-fixed"])
def test_every_release_kept(release: str) -> None:
    assert len(reported(release)) == 8
