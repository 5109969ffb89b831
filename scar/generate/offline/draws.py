"""Deterministic random choices for one entity, drawn from its own generator (seed, entity id)."""

from __future__ import annotations

import bisect
import itertools
import math
import random
from typing import Any, Iterator, Sequence

from scar.core.seeding import stable_hash

_STRIDES: dict[int, tuple[int, ...]] = {}


class Draws:
    """Uniform floats from the entity's own random stream: a Mersenne Twister seeded by a stable hash of
    (seed, entity id), the same on every platform and Python version, and cheap to create per entity."""

    def __init__(self, seed: int, key: str) -> None:
        self._random = random.Random(stable_hash("offline", int(seed), key)).random

    def next(self) -> float:
        return self._random()

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



class WeightedPool:
    """Items with weights, prepared once (cumulative sums) so that drawing a few of them in weighted
    order, without replacement, costs a few draws and bisections instead of one draw per item."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        kept = [(item, float(w)) for item, w in zip(items, weights) if w > 0]
        self.items = tuple(item for item, _ in kept)
        self.cum = tuple(itertools.accumulate(w for _, w in kept))
        self.total = self.cum[-1] if self.cum else 0.0

    def __len__(self) -> int:
        return len(self.items)

    def order(self, d: Draws, first: "WeightedPool | None" = None) -> Iterator[Any]:
        """Items of `first` and of this pool, each once, in weighted random order (lazy): a weighted
        draw over both until a few misses in a row, then the rest in weight order."""
        pools = [p for p in (first, self) if p is not None and p.total > 0]
        seen: list[set[int]] = [set() for _ in pools]
        left = [p.total for p in pools]
        misses = 0
        while misses < 8 and any(len(s) < len(p) for s, p in zip(seen, pools)):
            u = d.next() * sum(left)
            k = 0 if len(pools) == 1 or u < left[0] else 1
            p = pools[k]
            i = min(bisect.bisect_right(p.cum, d.next() * p.total), len(p) - 1)
            if i in seen[k]:
                misses += 1
                continue
            misses = 0
            seen[k].add(i)
            left[k] -= p.cum[i] - (p.cum[i - 1] if i else 0.0)
            yield p.items[i]
        for k, p in enumerate(pools):
            rest = sorted((i for i in range(len(p)) if i not in seen[k]), key=lambda i: -(p.cum[i] - (p.cum[i - 1] if i else 0.0)))
            for i in rest:
                yield p.items[i]
