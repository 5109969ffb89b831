"""Deterministic random choices for one entity, drawn from its own generator (seed, entity id)."""

from __future__ import annotations

import math
from typing import Any, Iterator, Sequence

from scar.seeding import rng_for

_STRIDES: dict[int, tuple[int, ...]] = {}


class Draws:
    """Uniform floats from the entity's rng, drawn in one call (numpy per-call overhead dominates otherwise)."""

    def __init__(self, seed: int, key: str, n: int = 48) -> None:
        self.rng = rng_for(seed, key)
        self.values = self.rng.random(n).tolist()
        self.i = 0

    def next(self) -> float:
        if self.i >= len(self.values):
            self.values, self.i = self.rng.random(len(self.values)).tolist(), 0
        self.i += 1
        return self.values[self.i - 1]

    def pick(self, items: Sequence[Any]) -> Any:
        return items[min(int(self.next() * len(items)), len(items) - 1)]

    def walk(self, items: Sequence[Any]) -> Iterator[Any]:
        """Every item once, in a random order made of a random start and a random stride (lazy, O(1) draws)."""
        n = len(items)
        if n == 0:
            return
        start = int(self.next() * n) % n
        strides = _STRIDES.get(n)
        if strides is None:
            strides = _STRIDES[n] = tuple(k for k in range(1, n) if math.gcd(k, n) == 1) or (1,)
        stride = strides[int(self.next() * len(strides)) % len(strides)]
        for i in range(n):
            yield items[(start + i * stride) % n]

    def weighted_walk(self, items: Sequence[Any], weights: Sequence[float]) -> Iterator[Any]:
        """Every item once, heavier ones earlier: sorted by u ** (1 / weight) (weighted sampling without replacement)."""
        keys = []
        for index, w in enumerate(weights):
            u = self.next() or 1e-12
            keys.append((-(u ** (1.0 / w)) if w > 0 else 0.0, index))
        keys.sort()
        for _, index in keys:
            yield items[index]

