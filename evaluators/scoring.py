"""Scoring one task from cached embeddings: each query against its own candidates, ranks and predictions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evaluators.batching import TaskKeys
from evaluators.cache import EmbeddingCache
from evaluators.metrics import RankOutcome, RankSummary, rank_outcome, summarize
from evaluators.models.protocol import Item
from evaluators.tasks.base import LoadedTask, Query


PREDICTIONS_TOP = 100  # candidates listed per query in predictions.jsonl (all of SCaR's 10)


@dataclass
class TaskScore:
    task: LoadedTask
    summary: RankSummary
    skipped: dict[str, int]
    predictions: list[dict] = field(default_factory=list)  # per scored query: id, ranking, scores, gold rank


def score_task(
    task: LoadedTask, cache: EmbeddingCache, tie_rule: str, bad_images: dict[str, str],
    task_keys: TaskKeys | None = None,
) -> TaskScore:
    """Rank each query's own candidates by cosine (dot of L2-normalised rows) and summarise.

    Scores are float32 and compared exactly (`evaluators.metrics`): `top_tied` / `gold_tied` in a
    prediction count the candidates sharing the top / the gold's score.

    `task_keys` says where a batch-dependent model's embeddings are cached; without it an item's
    cache key is its own `Item.key()`."""
    skipped = dict(task.skipped)
    usable: list[tuple[int, Query]] = []
    for index, query in enumerate(task.queries):
        reason = next((bad_images[i.image] for i in query.items() if i.image in bad_images), None)
        if reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
        else:
            usable.append((index, query))

    def query_key(index: int, query: Query) -> str:
        return task_keys.query_key(index) if task_keys is not None else query.item.key()

    def candidate_key(item: Item) -> str:
        return task_keys.candidate_key(item) if task_keys is not None else item.key()

    keys: dict[str, int] = {}
    for index, query in usable:
        keys.setdefault(query_key(index, query), len(keys))
        for item in query.candidates:
            keys.setdefault(candidate_key(item), len(keys))
    emb = cache.get(list(keys)) if keys else np.zeros((0, 0), np.float32)
    outcomes: list[RankOutcome] = []
    predictions: list[dict] = []
    for index, query in usable:
        q = emb[keys[query_key(index, query)]]
        cand = np.fromiter((keys[candidate_key(c)] for c in query.candidates), dtype=np.int64,
                           count=len(query.candidates))
        # Score each distinct item once: the same item in two slots then ties exactly, as in v1's dict lookup.
        uniq, inverse = np.unique(cand, return_inverse=True)
        scores = (emb[uniq] @ q)[inverse]
        outcome = rank_outcome(scores, query.gold, tie_rule)
        outcomes.append(outcome)
        order = np.argsort(-scores, kind="stable")[:PREDICTIONS_TOP]  # ties: the first index first
        predictions.append({"query": query.qid or str(index), "record": query.record, "gold": query.gold,
                            "gold_rank": outcome.rank, "ranking": order.tolist(),
                            "scores": [round(float(x), 6) for x in scores[order]],
                            "top_tied": outcome.top_tied, "gold_tied": outcome.tied})
    return TaskScore(task=task, summary=summarize(outcomes), skipped=skipped, predictions=predictions)
