"""A discriminatively trained blind scorer: logistic regression on hashed word 1-3-grams.

The trigram LM only knows what golds look like; this classifier learns what tells a gold from a
negative (a swapped-in object that is a body part, a relation no gold uses), from the training rows'
candidates labelled gold = 1, negative = 0. It still scores each caption alone (its decision value),
as an embedding model would, so anything it finds is a shortcut open to such a model.
"""

from __future__ import annotations

import warnings
from typing import Any

from scar.audit.ngram import WORD_PATTERN
from scar.audit.rows import AuditRow
from scar.audit.training import TRAIN_ROWS_CAP, Training

N_FEATURES = 2**18
MIN_TRAIN_ROWS = 20
MAX_ITER = 200
SEED = 0


def _vectorizer() -> Any:
    # imported here: scikit-learn takes seconds to import and most `scar` commands never need it
    from sklearn.feature_extraction.text import HashingVectorizer

    # the LM's tokens (single letters kept: "a eye" vs "an eye" is exactly the kind of artefact to find)
    return HashingVectorizer(analyzer="word", ngram_range=(1, 3), n_features=N_FEATURES, alternate_sign=False,
                             lowercase=True, token_pattern=WORD_PATTERN, norm="l2", dtype=float)  # fmt: skip


class TrainedNgramLR:
    """Gold-vs-negative logistic regression (balanced classes) on hashed word 1-3-grams of one caption."""

    name = "trained-ngram-lr"
    per_candidate = True
    description = (
        "logistic regression on hashed word 1-3-grams, trained gold vs negative on the training rows' candidates "
        f"(at most {TRAIN_ROWS_CAP:,} rows per model, chosen by a hash of the row id), scoring each caption alone"
    )

    def __init__(self) -> None:
        self.vectorizer = _vectorizer()
        self.model: Any = None
        self.not_fitted: str | None = "not fitted yet"

    def fit(self, train: Training) -> None:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        self.model = None
        examples = train.examples()
        if len(examples) < MIN_TRAIN_ROWS:
            self.not_fitted = f"a model had {len(examples)} training rows, {MIN_TRAIN_ROWS} needed"
            return
        texts = [c for _, _, cands in examples for c in cands]
        labels = [int(i == 0) for _, _, cands in examples for i in range(len(cands))]
        if len(set(labels)) < 2:
            self.not_fitted = "the training captions are all of one class"
            return
        model = LogisticRegression(solver="liblinear", dual=True, class_weight="balanced", max_iter=MAX_ITER, random_state=SEED)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # a model stopped at MAX_ITER still scores
            model.fit(self._features(texts), labels)
        self.model, self.not_fitted = model, None

    def _features(self, texts: list[str]) -> Any:
        """Hashed n-grams of each text; every distinct text is tokenized once (swaps repeat captions a lot)."""
        index: dict[str, int] = {}
        rows = [index.setdefault(t, len(index)) for t in texts]
        return self.vectorizer.transform(list(index))[rows]

    def scores(self, row: AuditRow) -> list[float]:
        return self.scores_many([row])[0]

    def scores_many(self, rows: list[AuditRow]) -> list[list[float]]:
        """Every candidate of every row in one pass (one vectorizer call, not one per row)."""
        assert self.model is not None, f"{self.name}: {self.not_fitted}"
        if not rows:
            return []
        flat = self.model.decision_function(self._features([c for r in rows for c in r.candidates])).tolist()
        out, start = [], 0
        for r in rows:
            out.append(flat[start : start + len(r.candidates)])
            start += len(r.candidates)
        return out
