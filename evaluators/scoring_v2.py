"""Scoring an MMEB-V2 task from cached embeddings, as `eval.py` ranks (local or global) and scores.

Scores are dot products of the L2-normalised float32 rows (`np.dot(query, candidates.T)`), ranked with
`np.argsort(-scores)` (numpy's default sort, as the official code; it decides the order of exact ties).
A `global` task ranks every query against its whole pool in blocks of `BLOCK` queries, so memory holds
one block of scores, never the queries x pool matrix. The metrics read the top 10 of each ranking
(`evaluators.tasks.mmeb_v2.metrics`); the runner calls it for every MMEB-V2 task. Each prediction line keeps the top `PREDICTIONS_TOP` candidates
(indices into the query's candidates: the pool for a global task), the top 10 names, the relevant names
and the rank of the best-ranked relevant one (`gold_rank`), as the project's results layout has it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaluators.metrics import OFFICIAL, RankSummary, rank_outcome, summarize
from evaluators.scoring import TaskScore
from evaluators.tasks.mmeb_v2.catalog import GLOBAL, HEADLINE
from evaluators.tasks.mmeb_v2.loaders import V2Query, V2Task
from evaluators.tasks.mmeb_v2.metrics import K_LIST, Accumulator, Case

BLOCK = 256  # queries scored at once against a global pool
PREDICTIONS_TOP = 100
TOP_NAMES = max(K_LIST)


@dataclass(frozen=True)
class V2Summary(RankSummary):
    """RankSummary's fields (precision@1 = hit@1, recall@5 as the official, mrr over the whole ranking,
    the tie statistics) plus the official score dict and the task's headline."""

    metrics: dict[str, float] = field(default_factory=dict)
    main_metric: str = ""
    eval_type: str = ""
    pool_size: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = super().as_dict()
        out.update(self.metrics)
        out.update({"main_metric": self.main_metric, "main_score": self.metrics.get(self.main_metric, 0.0),
                    "eval_type": self.eval_type, "num_data": self.num_pred, "candidate_pool": self.pool_size})
        return out


def _ranked(scores: np.ndarray) -> np.ndarray:
    return np.argsort(-scores)  # numpy's default kind, as eval.py


def score_v2_task(task: V2Task, cache: Any, bad_images: dict[str, str], block: int = BLOCK) -> TaskScore:
    assert task.spec is not None
    skipped = dict(task.skipped)

    def bad(item: Any) -> str | None:
        return bad_images.get(item.image) if item.image is not None else None

    usable: list[tuple[int, V2Query]] = []
    for index, query in enumerate(task.queries):
        reason = bad(query.item)
        if reason is None and task.eval_type != GLOBAL:
            reason = next((bad(c) for c in query.candidates if bad(c)), None)
        if reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
        else:
            usable.append((index, query))  # type: ignore[arg-type]
    acc = Accumulator()
    outcomes = []
    reciprocal: list[float] = []
    predictions: list[dict] = []

    def record(index: int, query: V2Query, scores: np.ndarray, names: tuple[str, ...]) -> None:
        order = _ranked(scores)
        case = Case([names[i] for i in order[:TOP_NAMES]], list(query.labels),
                    None if query.rel_scores is None else list(query.rel_scores))
        values = acc.add(case)
        relevant = set(query.labels)
        best = next((int(r) for r, i in enumerate(order) if names[i] in relevant), None)
        gold = int(order[best]) if best is not None else query.gold
        outcome = rank_outcome(scores, gold, OFFICIAL)
        outcomes.append(outcome)
        reciprocal.append(1.0 / (best + 1) if best is not None else 0.0)
        top = order[:PREDICTIONS_TOP]
        predictions.append({
            "query": query.qid or str(index), "record": query.record, "gold": gold,
            "gold_rank": best + 1 if best is not None else len(names) + 1,
            "ranking": top.tolist(), "scores": [round(float(x), 6) for x in scores[top]],
            "prediction": case.prediction, "label": list(query.labels),
            "rel_scores": None if query.rel_scores is None else list(query.rel_scores),
            "top_tied": outcome.top_tied, "gold_tied": outcome.tied,
            task.spec.metric: values[task.spec.metric],  # type: ignore[union-attr]
        })

    if task.eval_type == GLOBAL:
        keep = [i for i, item in enumerate(task.pool) if bad(item) is None]
        if len(keep) < len(task.pool):
            skipped["pool candidate with a broken image"] = len(task.pool) - len(keep)
        names = tuple(task.pool_names[i] for i in keep)
        pool = cache.get([task.pool[i].key() for i in keep]) if keep else np.zeros((0, 0), np.float32)
        for start in range(0, len(usable), block):
            chunk = usable[start:start + block]
            queries = cache.get([q.item.key() for _, q in chunk])
            scores = np.dot(queries, pool.T)
            for row, (index, query) in zip(scores, chunk):
                record(index, query, row, names)
    else:
        rows: dict[str, int] = {}
        for _, query in usable:
            for item in query.items():
                rows.setdefault(item.key(), len(rows))
        emb = cache.get(list(rows)) if rows else np.zeros((0, 0), np.float32)
        for index, query in usable:
            cands = emb[[rows[c.key()] for c in query.candidates]]
            record(index, query, np.dot(emb[rows[query.item.key()]], cands.T), query.names)
    base = summarize(outcomes)
    metrics = acc.result()
    n = len(outcomes)
    summary = V2Summary(
        num_pred=n, num_correct=int(round(metrics["hit@1"] * n)) if n else 0, precision_at_1=metrics["hit@1"],
        recall_at_5=metrics["recall@5"], mrr=math.fsum(reciprocal) / n if n else 0.0, ties=base.ties,
        metrics=metrics, main_metric=HEADLINE[task.spec.group], eval_type=task.eval_type,
        pool_size=len(task.pool) if task.eval_type == GLOBAL else max((len(q.candidates) for q in task.queries), default=0),
    )
    return TaskScore(task=task, summary=summary, skipped=skipped, predictions=predictions)
