"""The MMEB-V2 board: published rows agree with the paper's averages; measured rows sit beside them."""

from __future__ import annotations

import pytest

from evaluators.tasks.mmeb_v2.aggregate import aggregate
from evaluators.tasks.mmeb_v2.board import reported, table


def test_vlm2vec_v2_matches_the_paper() -> None:
    (row,) = [r for r in reported() if r["model"] == "VLM2Vec-V2.0-Qwen2VL-2B"]
    block = aggregate(row["scores"])
    assert block["complete"]
    assert [round(100 * block["groups"][g]["score"], 1) for g in ("image", "video", "visdoc")] == [64.9, 34.6, 65.4]
    assert round(100 * block["overall"], 1) == 58.0  # the paper's Overall: the mean of the 78 tasks


def test_table_marks_reported_and_measured() -> None:
    half = aggregate({"ImageNet-1K": 0.5})
    md = table([("my-model", half, "results/my-model")])
    assert "| my-model | measured | – |" in md
    assert md.count("| reported |") == 8 and "experiments/public/all_scores/v2.0.0/" in md
    assert md.splitlines()[0].startswith("| Model | Kind | Overall | Image | Video | VisDoc | Image-CLS")


@pytest.mark.parametrize("release", ["v2.0.1", "v2.1-baselines-visdoc-page-fixed"])
def test_later_releases_kept(release: str) -> None:
    assert len(reported(release)) == 8
