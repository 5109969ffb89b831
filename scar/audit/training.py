"""What a blind scorer may learn from: the rows it must never score.

A `Training` holds the trigram counts of every gold (the language model's whole need) and, for the
trained classifier, the candidate lists of at most `TRAIN_ROWS_CAP` of those rows: the ones with the
smallest hash of their id, so the same rows are kept on every run and in any reading order, and
memory stays bounded however large the split.
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field

from scar.audit.ngram import trigrams
from scar.audit.rows import AuditRow

TRAIN_ROWS_CAP = 10_000  # rows per training set whose candidates are kept (each set fits one model)

Example = tuple[int, str, tuple[str, ...]]  # (crc32 of the row id, row id, candidates with the gold first)


def _key(row: AuditRow) -> Example:
    return (zlib.crc32(row.id.encode("utf-8")), row.id, row.candidates)


@dataclass
class Training:
    """Trigram counts of the gold captions, and a bounded, order-free sample of the rows' candidates."""

    trigrams: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    captions: int = 0
    cap: int = TRAIN_ROWS_CAP
    _examples: list[Example] = field(default_factory=list, repr=False)

    def add(self, gold: str) -> None:
        self.trigrams.update(trigrams(gold))
        self.captions += 1

    def add_row(self, row: AuditRow) -> None:
        self.add(row.gold)
        self._examples.append(_key(row))
        if len(self._examples) >= 2 * self.cap:  # trim now and then: memory <= 2 * cap rows
            self._examples = self.examples()

    def examples(self) -> list[Example]:
        """The kept rows, smallest hash first (the same list whatever order the rows came in)."""
        self._examples = sorted(self._examples)[: self.cap]
        return self._examples

    def merged(self, other: "Training") -> "Training":
        cap = min(self.cap, other.cap)
        return Training(self.trigrams + other.trigrams, self.captions + other.captions, cap,
                        sorted(self.examples() + other.examples())[:cap])  # fmt: skip
