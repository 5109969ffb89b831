"""MMEB-V2's ranking metrics, as the official `RankingMetrics` computes them (src/utils/eval_utils/metrics.py).

Each query gives a ranked list of candidate names (`prediction`), its relevant names (`label`, one or
several) and optionally graded relevance (`rel_scores`, parallel to `label`). For k in (1, 5, 10):
  hit@k        1 if any relevant name is in the top k;
  precision@k  relevant names in the top k / k;         recall@k  / number of relevant names;
  f1@k         harmonic mean of the two (0 when both are 0);
  ndcg_linear@k, ndcg_exponential@k  DCG of the top k (gain rel or 2**rel - 1, discount log2(rank + 1))
               over the DCG of the ideal order (binary relevance without rel_scores);
  map@k        sum of precision at each relevant hit in the top k / min(relevant, k);
  mrr@k        1 / rank of the first relevant name in the top k, else 0.
Each is the plain mean over queries. Relevant names are de-duplicated first; a query without any
relevant name scores 0 everywhere except recall (1.0), as the official code does.

One difference, on purpose: with graded relevance the official code pairs the de-duplicated labels
(`list(set(label))`, an order that depends on PYTHONHASHSEED) with the rel_scores in their original
order, so a query whose relevant pages carry different grades gets an NDCG that changes from run to
run. Here each label keeps its own grade (`official_pairing` = False). Binary relevance and equal grades
(every image and video task, ViDoRe v1, VisRAG) are unaffected; ViDoRe v2's qrels have grades 1 and 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

K_LIST = (1, 5, 10)
METRICS = ("hit", "ndcg", "precision", "recall", "f1", "map", "mrr")  # eval.py's default list, in its order


@dataclass(frozen=True)
class Case:
    prediction: Sequence[str]  # ranked candidate names (only the first max(K_LIST) are read)
    label: Sequence[str]
    rel_scores: Sequence[float] | None = None

    @classmethod
    def of(cls, row: Mapping) -> "Case":
        label = row["label"]
        labels = list(label) if isinstance(label, (list, tuple, set)) else [label]
        rel = row.get("rel_scores")
        return cls(list(row["prediction"]), labels, None if rel is None else list(rel))


def _dcg(gains: Iterable[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg(prediction: Sequence[str], labels: Sequence[str], k: int, rel_scores: Sequence[float] | None,
         exponential: bool = False) -> float:
    """NDCG@k of one ranking. `labels` are the relevant names (already unique), `rel_scores` their grades."""
    if rel_scores is None:
        relevant = set(labels)
        gains = [1.0 if name in relevant else 0.0 for name in prediction[:k]]
        ideal = [1.0] * min(len(relevant), k)
    else:
        if len(labels) != len(rel_scores):
            raise ValueError("rel_scores must be parallel to the labels")
        grade = dict(zip(labels, rel_scores))
        gains = [grade.get(name, 0) for name in prediction[:k]]
        ideal = sorted(grade.values(), reverse=True)[:k]
    if exponential:
        gains = [2 ** g - 1 for g in gains]
        ideal = [2 ** g - 1 for g in ideal]
    best = _dcg(ideal) if ideal else 1.0
    return _dcg(gains) / best if best > 0 else 0.0


def _unique(labels: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(labels))


def query_metrics(case: Case, k_list: Sequence[int] = K_LIST) -> dict[str, float]:
    """Every metric of one query, `<metric>@<k>` -> value."""
    labels = _unique(case.label)
    relevant = set(labels)
    rel_scores = case.rel_scores
    if rel_scores is not None:
        # one grade per unique label: the highest given (the official loader keeps the max per qrels pair)
        best: dict[str, float] = {}
        for name, grade in zip(case.label, rel_scores):
            best[name] = max(best.get(name, grade), grade)
        rel_scores = [best[name] for name in labels]
    out: dict[str, float] = {}
    first_hit = next((i for i, name in enumerate(case.prediction[:max(k_list)]) if name in relevant), None)
    for k in k_list:
        top = case.prediction[:k]
        hits = len(set(top) & relevant)
        precision = hits / k if relevant and k else 0.0
        recall = (hits / len(relevant)) if relevant else 1.0
        out[f"hit@{k}"] = 1.0 if relevant and hits else 0.0
        out[f"precision@{k}"] = precision
        out[f"recall@{k}"] = recall
        out[f"f1@{k}"] = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
        out[f"ndcg_linear@{k}"] = ndcg(case.prediction, labels, k, rel_scores)
        out[f"ndcg_exponential@{k}"] = ndcg(case.prediction, labels, k, rel_scores, exponential=True)
        if relevant:
            found, total = 0, 0.0
            for i, name in enumerate(top):
                if name in relevant:
                    found += 1
                    total += found / (i + 1)
            out[f"map@{k}"] = total / min(len(relevant), k) if found else 0.0
        else:
            out[f"map@{k}"] = 0.0
        out[f"mrr@{k}"] = 1.0 / (first_hit + 1) if relevant and first_hit is not None and first_hit < k else 0.0
    return out


def _key_order(k_list: Sequence[int]) -> list[str]:
    """The official score dict's key order."""
    keys = []
    for metric in ("hit", "ndcg_linear", "ndcg_exponential", "precision", "recall", "f1"):
        keys += [f"{metric}@{k}" for k in k_list]
    for metric in ("map", "mrr"):
        keys += [f"{metric}@{k}" for k in k_list]
    return keys


def evaluate(cases: Iterable[Case | Mapping], k_list: Sequence[int] = K_LIST) -> dict[str, float]:
    """The task's score dict (means over queries), keys in the official order; zeros when there is no query."""
    acc = Accumulator(k_list)
    for case in cases:
        acc.add(case if isinstance(case, Case) else Case.of(case))
    return acc.result()


class Accumulator:
    """`evaluate` one query at a time (global tasks stream their rankings block by block). Means are
    numpy's (pairwise summation), as the official `np.mean`, so the values agree to the last bit."""

    def __init__(self, k_list: Sequence[int] = K_LIST) -> None:
        self.k_list = tuple(sorted(k_list))
        self.values: dict[str, list[float]] = {key: [] for key in _key_order(self.k_list)}

    @property
    def n(self) -> int:
        return len(next(iter(self.values.values()), []))

    def add(self, case: Case) -> dict[str, float]:
        values = query_metrics(case, self.k_list)
        for key, value in values.items():
            self.values[key].append(value)
        return values

    def result(self) -> dict[str, float]:
        import numpy as np

        return {key: (float(np.mean(v)) if v else 0.0) for key, v in self.values.items()}
