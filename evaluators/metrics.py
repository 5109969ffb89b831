"""Ranking metrics of one query against its own candidate list, the tie rule, and how often ties decide.

The tie rule lives here and only here:
- "official" (VLM2Vec v1, `np.argmax(scores) == 0`): the first index wins a tie, so a candidate that
  ties with the gold ranks after it when it comes later in the list and before it when earlier.
  With the gold at index 0 a tie with the gold counts as correct.
- "strict": every candidate that ties with the gold ranks before it, so any tie counts as wrong.

Ties are exact: two candidates tie when their scores, as computed (float32 dot products of the
cached rows), are equal bit for bit; no tolerance. A constant model ties everywhere and scores 100%
under the official rule, so every result also reports how often the top score was shared
(`tie_rate_top`), how often the gold's score was (`tie_rate_gold`), and the tie-aware expected
scores: ties broken uniformly at random, so a k-way tie holding the gold gives it each of its k
ranks with probability 1/k (P@1 1/k for a k-way tie at the top).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

OFFICIAL = "official"
STRICT = "strict"
TIE_RULES = (OFFICIAL, STRICT)
RECALL_K = 5
TIE_WARN_RATE = 0.05  # a task whose top score is shared in more queries than this is flagged


@dataclass(frozen=True)
class RankOutcome:
    """Where the gold landed in one query: `above` candidates scored higher, `tied` (the gold
    included) scored the same, and `top_tied` candidates share the highest score."""

    rank: int  # 1-based, under the tie rule
    above: int
    tied: int
    top_tied: int

    @property
    def expected_reciprocal_rank(self) -> float:
        return float(np.mean(1.0 / np.arange(self.above + 1, self.above + self.tied + 1)))

    def expected_hit(self, k: int) -> float:
        """P(rank <= k) with ties broken uniformly at random."""
        return min(max(k - self.above, 0), self.tied) / self.tied


def rank_outcome(scores: np.ndarray, gold: int = 0, tie_rule: str = OFFICIAL) -> RankOutcome:
    """The gold's rank among `scores` (higher is better) under the tie rule, and its ties."""
    if tie_rule not in TIE_RULES:
        raise ValueError(f"unknown tie rule {tie_rule!r}; expected one of {TIE_RULES}")
    scores = np.asarray(scores)
    gold_score = scores[gold]
    above = int(np.count_nonzero(scores > gold_score))
    tied = scores == gold_score
    n_tied = int(np.count_nonzero(tied))
    tied_before = int(np.count_nonzero(tied[:gold])) if tie_rule == OFFICIAL else n_tied - 1
    top_tied = n_tied if above == 0 else int(np.count_nonzero(scores == scores.max()))
    return RankOutcome(rank=1 + above + tied_before, above=above, tied=n_tied, top_tied=top_tied)


def gold_rank(scores: np.ndarray, gold: int = 0, tie_rule: str = OFFICIAL) -> int:
    """1-based rank of the gold candidate among `scores` (higher is better) under the tie rule."""
    return rank_outcome(scores, gold, tie_rule).rank


@dataclass(frozen=True)
class TieSummary:
    """How often ties decided a task, and the scores with ties broken at random."""

    num_top_ties: int  # queries whose top score is shared by >= 2 candidates
    num_gold_ties: int  # queries whose gold's score is shared with >= 1 other candidate
    rate_top: float
    rate_gold: float
    expected_precision_at_1: float
    expected_recall_at_5: float
    expected_mrr: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "tie_rate_top": self.rate_top,
            "tie_rate_gold": self.rate_gold,
            "num_top_ties": self.num_top_ties,
            "num_gold_ties": self.num_gold_ties,
            "expected_precision@1": self.expected_precision_at_1,
            f"expected_recall@{RECALL_K}": self.expected_recall_at_5,
            "expected_mrr": self.expected_mrr,
        }


@dataclass(frozen=True)
class RankSummary:
    num_pred: int
    num_correct: int
    precision_at_1: float
    recall_at_5: float
    mrr: float
    ties: TieSummary | None = None  # None when summarised from ranks alone

    def as_dict(self) -> dict[str, float | int]:
        out: dict[str, float | int] = {
            "precision@1": self.precision_at_1,
            "acc": self.precision_at_1,
            "num_correct": self.num_correct,
            "num_pred": self.num_pred,
            f"recall@{RECALL_K}": self.recall_at_5,
            "mrr": self.mrr,
        }
        if self.ties is not None:
            out.update(self.ties.as_dict())
        return out


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


def summarize(outcomes: Iterable[RankOutcome]) -> RankSummary:
    """`summarize_ranks` of the outcomes' ranks, with their ties and tie-aware expected scores."""
    outcomes = list(outcomes)
    base = summarize_ranks(o.rank for o in outcomes)
    n = len(outcomes)
    if n == 0:
        return RankSummary(0, 0, 0.0, 0.0, 0.0, TieSummary(0, 0, 0.0, 0.0, 0.0, 0.0, 0.0))
    top = sum(o.top_tied >= 2 for o in outcomes)
    gold = sum(o.tied >= 2 for o in outcomes)
    ties = TieSummary(
        num_top_ties=top,
        num_gold_ties=gold,
        rate_top=top / n,
        rate_gold=gold / n,
        expected_precision_at_1=math.fsum(o.expected_hit(1) for o in outcomes) / n,
        expected_recall_at_5=math.fsum(o.expected_hit(RECALL_K) for o in outcomes) / n,
        expected_mrr=math.fsum(o.expected_reciprocal_rank for o in outcomes) / n,
    )
    return RankSummary(base.num_pred, base.num_correct, base.precision_at_1, base.recall_at_5, base.mrr, ties)


def ties_flagged(summary: RankSummary, threshold: float = TIE_WARN_RATE) -> bool:
    """Ties at the top decide too many queries for P@1 under the official rule to be read alone."""
    return summary.ties is not None and summary.ties.rate_top > threshold


def tie_warning(model: str, task: str, summary: RankSummary, threshold: float = TIE_WARN_RATE) -> str:
    assert summary.ties is not None
    ties = summary.ties
    return (f"warning: {model} on {task}: ties at the top in {100 * ties.rate_top:.1f}% of queries "
            f"(threshold {100 * threshold:g}%): P@1 {100 * summary.precision_at_1:.1f} counts a tie with the gold "
            f"as a hit (official rule); with ties broken at random, expected P@1 {100 * ties.expected_precision_at_1:.1f}")
