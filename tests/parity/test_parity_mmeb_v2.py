"""MMEB-V2 parity with the official eval.py (VLM2Vec main 6e1e1d4), on the fixture of
evaluators/tasks/mmeb_v2/fixture.py with tiny random Qwen2-VL weights (tests/parity/mmeb_v2/run.sh makes
the golden data): the project's loaders and scoring, given the official embeddings of every query and
candidate (images, video frames, pages, texts), give the official ranking of every query (its top 10, so
its top-1 pick) and every metric value of the official `_score.json`, bit for bit, for local and global
tasks of all three groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluators.tasks.mmeb_v2.catalog import BY_NAME, task_info
from evaluators.tasks.mmeb_v2.fixture import PARITY_TASKS, write_fixture
from evaluators.tasks.mmeb_v2.loaders import load_v2_task
from evaluators.tasks.mmeb_v2.scoring import score_v2_task
from tests.parity.golden_mmeb_v2 import fixture_hash, load_golden, official_cache


@pytest.fixture(scope="module")
def golden() -> dict:
    return load_golden()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, golden: dict) -> Path:
    root = write_fixture(tmp_path_factory.mktemp("mmeb2-parity"))
    assert fixture_hash(root) == golden["fixture_sha256"], "the fixture writer changed: rerun tests/parity/mmeb_v2/run.sh"
    return root


def test_golden_covers_every_kind(golden: dict) -> None:
    tasks = golden["tasks"]
    assert set(tasks) == set(PARITY_TASKS)
    groups = {BY_NAME[t].group for t in tasks}
    kinds = {BY_NAME[t].eval_type for t in tasks}
    assert groups == {"image", "video", "visdoc"} and kinds == {"local", "global"}
    assert all(sum(BY_NAME[t].group == g for t in tasks) >= 2 for g in groups)


@pytest.mark.parametrize("name", PARITY_TASKS)
def test_same_rankings_and_scores(root: Path, golden: dict, name: str) -> None:
    expected = golden["tasks"][name]
    task = load_v2_task(task_info(BY_NAME[name]), root)
    score = score_v2_task(task, official_cache(task, expected), {})
    assert [list(q.labels) for q in task.queries] == expected["labels"]
    assert [p["prediction"] for p in score.predictions] == expected["top10"]  # top-1 picks included
    official = {k: v for k, v in expected["score"].items() if k not in ("num_pred", "num_data")}
    assert score.summary.metrics == official  # every metric, bit for bit
    assert score.summary.num_pred == expected["score"]["num_pred"]
