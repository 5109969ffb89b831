"""A tiny CLIP from the registry path through the evaluation runner, with region variants."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from baselines.tiny import ensure_tiny_models
from evaluators.models.protocol import Item
from evaluators.models.registry import load_embedder
from evaluators.runner import evaluate
from evaluators.tasks.base import LoadedTask, Query
from evaluators.tasks.catalog import task


@pytest.fixture(scope="module")
def scar_like(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    rng = np.random.default_rng(3)
    queries = []
    for index in range(6):
        path = root / f"img{index}.png"
        Image.fromarray(rng.integers(0, 256, size=(60, 90, 3), dtype=np.uint8), "RGB").save(path)
        query = Item(
            text="<|image_1|> Find the caption that best describes the object in the bounding box.",
            image=str(path),
            box_xyxy=(5.0 + index, 8.0, 50.0, 40.0 + index),
        )
        candidates = tuple(Item(text=f"object {index} caption {k} on a table") for k in range(10))
        queries.append(Query(item=query, candidates=candidates, record=f"row {index}"))
    loaded = LoadedTask(info=task("Demo"), queries=queries, fingerprint="tiny-demo")
    return ensure_tiny_models(root / "models"), loaded, root


@pytest.mark.parametrize("suffix", ["", "+crop", "+circle", "+boxtext"])
def test_tiny_clip_runs_through_the_runner(scar_like, suffix):
    models, loaded, root = scar_like
    embedder = load_embedder(str(models["tiny-clip"]) + suffix, family="clip")
    scores, stats = evaluate(embedder, [loaded], root / "cache", batch_size=4, progress=False)
    (score,) = scores
    assert score.summary.num_pred == 6 and not score.skipped
    assert 0 <= score.summary.num_correct <= 6
    # every variant has its own fingerprint, so nothing is reused from another variant's run
    assert stats.unique == 6 + 60 and stats.encoded == 66 and stats.cached == 0
    again, stats_again = evaluate(embedder, [loaded], root / "cache", batch_size=4, progress=False)
    assert stats_again.cached == 66 and stats_again.encoded == 0
    assert again[0].summary == score.summary
