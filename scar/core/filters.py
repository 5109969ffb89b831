"""Checks that keep a candidate list fair: distinct texts, and no length cue that gives the gold away.

Generators call these on each sample before returning it; they are pure functions on strings (no I/O),
cheap enough to run on every candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from scar.core.schema import Entity, Rejected

# A negative may differ in length from the gold by at most max(LENGTH_ABS_TOL chars, LENGTH_REL_TOL * len(gold)),
# so a text-only model cannot pick the gold (or rule a negative out) by length alone.
LENGTH_ABS_TOL = 12
LENGTH_REL_TOL = 0.35


def normalise(text: str) -> str:
    """Case-folded, whitespace-collapsed, without trailing punctuation: the form candidates are compared in."""
    return " ".join(text.lower().split()).rstrip(".!?,;: ")


def length_ok(gold: str, negative: str, rel_tol: float = LENGTH_REL_TOL, abs_tol: int = LENGTH_ABS_TOL) -> bool:
    return abs(len(negative) - len(gold)) <= max(abs_tol, rel_tol * len(gold))


def duplicates(texts: Iterable[str]) -> list[str]:
    """Texts that occur more than once after normalisation (each reported once, in first-seen order)."""
    seen: set[str] = set()
    dups: list[str] = []
    for t in texts:
        n = normalise(t)
        if n in seen and n not in dups:
            dups.append(n)
        seen.add(n)
    return dups


def candidate_problems(
    gold: str, negatives: Sequence[str], rel_tol: float = LENGTH_REL_TOL, abs_tol: int = LENGTH_ABS_TOL
) -> list[str]:
    """Why this candidate list is unfair or broken (empty list = fine)."""
    problems = []
    normal = [normalise(t) for t in (gold, *negatives)]
    if not all(normal):
        problems.append("empty candidate")
    if len(set(normal)) != len(normal):
        problems.append(f"candidates not distinct: {duplicates(normal)[0]!r}")
    long_short = [n for n in negatives if not length_ok(gold, n, rel_tol, abs_tol)]
    if long_short:
        problems.append(f"length parity: {long_short[0]!r} vs gold {gold!r}")
    return problems


@dataclass
class DuplicateEntityFilter:
    """Drops an entity that repeats an earlier one of the same image (same category, nearly the same box).

    Sources such as Visual Genome annotate one object several times; two queries on the same region with
    the same gold would only duplicate work. Keyed per image, so it is order-independent within an image
    as long as the source yields an image's entities together (all SCaR sources do).
    """

    box_tolerance: float = 2.0  # pixels, per coordinate
    _image: str | None = None
    _seen: list[tuple[str, tuple[float, ...]]] = field(default_factory=list)

    def check(self, entity: Entity) -> Rejected | None:
        if entity.image_id != self._image:
            self._image, self._seen = entity.image_id, []
        box = tuple(entity.region.box_xywh)
        for category, other in self._seen:
            if category == entity.category and all(abs(a - b) <= self.box_tolerance for a, b in zip(box, other)):
                return Rejected(entity.source, entity.id, "duplicate entity", detail=f"same {category} box as an earlier one")
        self._seen.append((entity.category, box))
        return None
