"""Ranking metrics of one query against its own candidate list, and the tie rule.

The tie rule lives here and only here:
- "official" (VLM2Vec v1, `np.argmax(scores) == 0`): the first index wins a tie, so a candidate that
  ties with the gold ranks after it when it comes later in the list and before it when earlier.
  With the gold at index 0 a tie with the gold counts as correct.
- "strict": every candidate that ties with the gold ranks before it, so any tie counts as wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

OFFICIAL = "official"
STRICT = "strict"
TIE_RULES = (OFFICIAL, STRICT)
RECALL_K = 5


def gold_rank(scores: np.ndarray, gold: int = 0, tie_rule: str = OFFICIAL) -> int:
    """1-based rank of the gold candidate among `scores` (higher is better) under the tie rule."""
    if tie_rule not in TIE_RULES:
        raise ValueError(f"unknown tie rule {tie_rule!r}; expected one of {TIE_RULES}")
    scores = np.asarray(scores)
    gold_score = scores[gold]
    above = int(np.count_nonzero(scores > gold_score))
    tied = scores == gold_score
    if tie_rule == OFFICIAL:
        tied_before = int(np.count_nonzero(tied[:gold]))
    else:
        tied_before = int(np.count_nonzero(tied)) - 1
    return 1 + above + tied_before


@dataclass(frozen=True)
class RankSummary:
    num_pred: int
    num_correct: int
    precision_at_1: float
    recall_at_5: float
    mrr: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision@1": self.precision_at_1,
            "acc": self.precision_at_1,
            "num_correct": self.num_correct,
            "num_pred": self.num_pred,
            f"recall@{RECALL_K}": self.recall_at_5,
            "mrr": self.mrr,
        }


def summarize_ranks(ranks: Iterable[int]) -> RankSummary:
    """Precision@1 (= hit@1 with one gold), recall@5 and MRR over the gold ranks of all queries."""
    r = np.asarray(list(ranks), dtype=np.int64)
    n = int(r.size)
    if n == 0:
        return RankSummary(0, 0, 0.0, 0.0, 0.0)
    correct = int(np.count_nonzero(r == 1))
    return RankSummary(
        num_pred=n,
        num_correct=correct,
        precision_at_1=correct / n,
        recall_at_5=float(np.count_nonzero(r <= RECALL_K)) / n,
        mrr=float(np.mean(1.0 / r)),
    )
