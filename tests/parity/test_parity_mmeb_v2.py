"""MMEB-V2 parity with the official eval.py (VLM2Vec main 6e1e1d4), on the fixture of
evaluators/tasks/mmeb_v2/fixture.py with tiny random Qwen2-VL weights (tests/parity/mmeb_v2/run.sh makes
the golden data): the project's loaders and scoring, given the official embeddings of every query and
candidate (images, video frames, pages, texts), give the official ranking of every query (its top 10, so
its top-1 pick) and every metric value of the official `_score.json`, bit for bit, for local and global
tasks of all three groups.

The model level: the committed tiny weights (`data/mmeb_v2/ckpt/`, made by the harness's make_weights.py,
seeded) through `load_embedder(..., family="vlm2vec")` with the V2 eval's settings give every query's and
candidate's official vector within TOLERANCE, for each input kind (text, image, page, video frames fed as
a video), and the official top-1 pick of every query. Showing a video's middle frame instead (what a
single-image model sees) must break that.

Golden data from Pillow 11.3 (the harness pins it; Pillow 13 resizes pages differently, so does the
project's pin below 13 guard)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evaluators.models.protocol import Item
from evaluators.models.registry import load_embedder

from evaluators.tasks.mmeb_v2.catalog import BY_NAME, task_info
from evaluators.tasks.mmeb_v2.fixture import PARITY_TASKS, write_fixture
from evaluators.tasks.mmeb_v2.loaders import load_v2_task
from evaluators.scoring_v2 import score_v2_task
from tests.parity.golden_mmeb_v2 import GOLDEN, VectorCache, fixture_hash, load_golden, official_cache
from tests.parity.support import TOLERANCE

CKPT = GOLDEN.parent / "ckpt"
KINDS = ("text", "image", "page", "video")


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


# ---- the model: the project's Qwen2-VL embedder on the committed tiny weights --------------------------

def input_kind(item: Item, group: str) -> str:
    if item.frames:
        return "video"
    if item.image:
        return "page" if group == "visdoc" else "image"
    return "text"


def official_vectors(task: Any, expected: dict) -> tuple[list[Item], np.ndarray]:
    """Every distinct query and candidate of a task with its official vector."""
    rows: dict[str, tuple[Item, list[float]]] = {}
    for query, vector in zip(task.queries, expected["query_vectors"]):
        rows.setdefault(query.item.key(), (query.item, vector))
        for name, item in zip(query.names, query.candidates):
            rows.setdefault(item.key(), (item, expected["candidate_vectors"][name]))
    items = [item for item, _ in rows.values()]
    return items, np.asarray([vector for _, vector in rows.values()], dtype=np.float32)


@pytest.fixture(scope="module")
def embedder():
    # the V2 eval's settings (eval_1gpu.sh): no pre-resize, processor pixel limits 3136 .. 1003520
    return load_embedder(str(CKPT), family="vlm2vec", image_resolution="original", min_pixels=3136,
                         max_pixels=1003520)


def test_committed_weights_are_the_golden_ones(golden: dict) -> None:
    assert fixture_hash(CKPT) == golden["ckpt_sha256"], "tests/parity/data/mmeb_v2/ckpt changed: rerun run.sh --update-golden"
    assert int(golden["packages"]["pillow"].split(".")[0]) < 13  # Pillow 13 resizes differently


def test_every_input_kind_has_golden_vectors(root: Path, golden: dict) -> None:
    kinds = set()
    for name in PARITY_TASKS:
        task = load_v2_task(task_info(BY_NAME[name]), root)
        kinds |= {input_kind(item, BY_NAME[name].group) for item in official_vectors(task, golden["tasks"][name])[0]}
    assert kinds == set(KINDS)


@pytest.mark.parametrize("name", PARITY_TASKS)
def test_model_reproduces_the_official_vectors_and_picks(root: Path, golden: dict, embedder, name: str) -> None:
    expected = golden["tasks"][name]
    task = load_v2_task(task_info(BY_NAME[name]), root)
    items, reference = official_vectors(task, expected)
    got = embedder.encode(items, 16).numpy()
    diff = np.abs(got - reference).max(axis=1)
    for kind in KINDS:
        rows = [i for i, item in enumerate(items) if input_kind(item, BY_NAME[name].group) == kind]
        assert not rows or diff[rows].max() <= TOLERANCE, f"{name} {kind}: max|d| {diff[rows].max():.2e}"
    mine = VectorCache()
    mine.rows = {item.key(): vector for item, vector in zip(items, got)}
    picks = [p["prediction"][0] for p in score_v2_task(task, mine, {}).predictions]
    assert picks == [top[0] for top in expected["top10"]]


def test_a_middle_frame_stand_in_is_not_the_official_video(root: Path, golden: dict, embedder,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    task = load_v2_task(task_info(BY_NAME["MSR-VTT"]), root)
    items, reference = official_vectors(task, golden["tasks"]["MSR-VTT"])
    videos = [i for i, item in enumerate(items) if item.frames]
    monkeypatch.setattr(embedder, "reads_video", False)  # shown `Item.image`, the middle frame
    got = embedder.encode([items[i] for i in videos], 16).numpy()
    assert np.abs(got - reference[videos]).max(axis=1).min() > TOLERANCE
