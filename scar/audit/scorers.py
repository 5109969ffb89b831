"""Blind scorers: models that see the candidate captions and never the image.

A per-candidate scorer gives each caption a score on its own (no other candidate, no image), as an
embedding model scores a caption against a query: if one of them finds the gold well above chance,
the benchmark can be passed without looking; the trained classifier (trained.py) is one of them.
Listwise scorers (the consensus vote) see the whole list; they are reported too, but only listwise
methods can exploit what they find.
"""

from __future__ import annotations

from typing import Protocol

from scar.audit.ngram import KneserNeyTrigram, tokens
from scar.audit.rows import AuditRow
from scar.audit.trained import TrainedNgramLR
from scar.audit.training import Training

__all__ = ["BlindScorer", "ConsensusVote", "LengthRule", "NgramLM", "SharedLM", "TrainedNgramLR", "Training", "default_scorers"]


class BlindScorer(Protocol):
    """Optional extras the audit looks for: `not_fitted` (after `fit`, the reason the scorer cannot score
    with this training set, or None) and `scores_many(rows)` (the scores of many rows at once)."""

    name: str
    per_candidate: bool  # True: each candidate scored alone
    description: str

    def fit(self, train: Training) -> None: ...

    def scores(self, row: AuditRow) -> list[float]: ...


class LengthRule:
    """Prefers the longest (or the shortest) caption: a gold that differs in length from its negatives shows here."""

    per_candidate = True

    def __init__(self, longest: bool = True) -> None:
        self.sign = 1.0 if longest else -1.0
        self.name = "longest" if longest else "shortest"
        self.description = f"the {self.name} caption wins (length in characters)"

    def fit(self, train: Training) -> None:
        pass

    def scores(self, row: AuditRow) -> list[float]:
        return [self.sign * len(c) for c in row.candidates]


class SharedLM:
    """One trigram model per training set, shared by the scorers that read it (fitted once, not twice)."""

    def __init__(self) -> None:
        self.model: KneserNeyTrigram | None = None
        self._fitted_on: int | None = None

    def fit(self, train: Training) -> KneserNeyTrigram:
        if self.model is None or self._fitted_on != id(train):
            self.model = KneserNeyTrigram(counts=train.trigrams)
            self._fitted_on = id(train)
        return self.model


class NgramLM:
    """Log-probability under a word trigram model (Kneser-Ney) trained on gold captions only."""

    per_candidate = True

    def __init__(self, per_word: bool = False, shared: SharedLM | None = None) -> None:
        self.per_word = per_word
        self.name = "ngram_per_word" if per_word else "ngram"
        self.description = (
            "trigram LM (interpolated Kneser-Ney) on the training gold captions: "
            + ("log-probability per word" if per_word else "log-probability of the caption")
        )
        self.shared = shared or SharedLM()
        self.model: KneserNeyTrigram | None = None

    def fit(self, train: Training) -> None:
        self.model = self.shared.fit(train)

    def scores(self, row: AuditRow) -> list[float]:
        assert self.model is not None, "fit first"
        out = []
        for c in row.candidates:
            lp, n = self.model.logprob(c)
            out.append(lp / n if self.per_word else lp)
        return out


class ConsensusVote:
    """Each candidate's mean word overlap (Jaccard) with the others. One-element swaps make the gold the
    candidate closest to all nine others, so this listwise vote finds it by construction."""

    name = "consensus"
    per_candidate = False
    description = "listwise: mean word overlap with the other candidates (the gold is their centre by design)"

    def fit(self, train: Training) -> None:
        pass

    def scores(self, row: AuditRow) -> list[float]:
        sets = [set(tokens(c)) for c in row.candidates]
        out = []
        for i, a in enumerate(sets):
            total = 0.0
            for j, b in enumerate(sets):
                if i != j:
                    union = len(a | b)
                    total += len(a & b) / union if union else 0.0
            out.append(total / max(len(sets) - 1, 1))
        return out


def default_scorers() -> list[BlindScorer]:
    shared = SharedLM()
    return [LengthRule(longest=True), LengthRule(longest=False), NgramLM(shared=shared), NgramLM(per_word=True, shared=shared),
            TrainedNgramLR(), ConsensusVote()]  # fmt: skip
