"""The evaluation engine's one run: encode each unique item once (cached, sharded over ranks), score.

Phases: load tasks (`evaluators.task_selection`) -> collect unique items (Item.key) -> check every
image and take its digest -> plan batches -> encode what the cache lacks, batch by batch, appending
to the cache (`evaluators.encoding`) -> score every query against its own candidates
(`evaluators.scoring`).

Batches (`evaluators.batching`): for models whose embeddings do not depend on their batch, by image
size and picture, then texts by length; a model whose embedding depends on its batch (official
VIRTUE) is given the reference code's own batches instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from tqdm.auto import tqdm

from evaluators import distributed
from evaluators.batching import TaskKeys, reference_batches
from evaluators.cache import EmbeddingCache
from evaluators.distributed import DistContext
from evaluators.encoding import EncodeStats, encode_missing, encode_reference_batches, order_by_cost, unique_items
from evaluators.metrics import OFFICIAL
from evaluators.models.protocol import Embedder, is_batch_dependent
from evaluators.scoring import TaskScore, score_task
from evaluators.scoring_v2 import score_v2_task
from evaluators.tasks.base import LoadedTask
from evaluators.tasks.mmeb_v2.loaders import V2Task


def evaluate(
    embedder: Embedder,
    tasks: Sequence[LoadedTask],
    cache_dir: Path,
    *,
    batch_size: int = 16,
    tie_rule: str = OFFICIAL,
    ctx: DistContext | None = None,
    skip_bad: bool = False,
    progress: bool = True,
) -> tuple[list[TaskScore], EncodeStats]:
    """Encode what is missing and score every task; the scores come back on rank 0 only."""
    ctx = ctx or DistContext()
    items, image_record, references = unique_items(tasks)
    stats = EncodeStats(references=references, unique=len(items))
    cache = EmbeddingCache(cache_dir, embedder.info.fingerprint) if ctx.is_main else None
    try:
        if ctx.is_main:
            ordered, bad = order_by_cost(items, image_record, skip_bad, progress)
        else:
            ordered, bad = [], {}
        ordered, bad = distributed.broadcast((ordered, bad), ctx)
        stats.bad_images.update(bad)
        task_keys: list[TaskKeys | None] = [None] * len(tasks)
        if is_batch_dependent(embedder):
            size = int(getattr(embedder, "reference_batch_size", batch_size))
            batches, planned = reference_batches(tasks, size, set(bad))
            task_keys = list(planned)
            stats.unique = len({k for b in batches for k in b.keys})
            stats.batching = f"the reference code's batches: per task, dataset order, queries apart, {size} at a time"
            encode_reference_batches(embedder, batches, cache, ctx, stats, image_record, skip_bad, progress)
        else:
            encode_missing(
                embedder, items, ordered, cache, batch_size, ctx, stats, image_record, skip_bad=skip_bad,
                progress=progress,
            )
        if not ctx.is_main:
            return [], stats
        assert cache is not None
        scores = [
            # MMEB-V2 ranks each query against its own candidates or the whole pool, several relevant
            score_v2_task(t, cache, stats.bad_images) if isinstance(t, V2Task)
            else score_task(t, cache, tie_rule, stats.bad_images, keys)
            for t, keys in tqdm(list(zip(tasks, task_keys)), desc="score", unit="task", disable=not progress)
        ]
        return scores, stats
    finally:
        if cache is not None:
            cache.close()
        close = getattr(embedder, "close", None)
        if callable(close):
            close()
