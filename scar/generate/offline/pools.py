"""The things a scene allows that may be swapped in although the picture lacks them, with their weights."""

from __future__ import annotations

from typing import Callable, Sequence

from scar.generate.offline.draws import WeightedPool
from scar.generate.taxonomy import Concept

SAME_CLASS_BOOST = 4.0  # a swap of the gold's own layout class (a ground for a ground) is likelier
ROLE_CLASS = {"thing": "thing", "surface": "thing", "carrier": "thing", "part": "part", "ground": "ground",
              "overhead": "overhead", "backdrop": "backdrop"}  # fmt: skip


class SwapPool:
    """Concepts with sampling weights (the build's gold distribution, see prior.py), prepared once per
    scene: a plain weighted pool for anchors, and one per layout class for object swaps."""

    def __init__(
        self, concepts: Sequence[Concept], weights: Sequence[float], factor: Callable[[str], float] | None = None
    ) -> None:
        self.concepts = tuple(concepts)
        self.base = tuple(weights)
        self.factor = factor
        self.weights = tuple(w * factor(c.key) for c, w in zip(self.concepts, self.base)) if factor else self.base
        self.share = {c.key: w for c, w in zip(self.concepts, self.base)}
        self.floor = min((w for w in self.base if w > 0), default=1.0)
        self.plain = WeightedPool(self.concepts, self.weights)
        self._by_class: dict[str, WeightedPool] = {}

    def weight(self, key: str) -> float:
        w = max(self.share.get(key, 0.0), self.floor)
        return w * self.factor(key) if self.factor else w

    def scaled(self, factor: Callable[[str], float]) -> "SwapPool":
        """The same things, each weight times its factor (calibration.py)."""
        return SwapPool(self.concepts, self.base, factor)

    def for_class(self, role_class: str) -> WeightedPool:
        pool = self._by_class.get(role_class)
        if pool is None:
            boosted = [w * (SAME_CLASS_BOOST if ROLE_CLASS.get(c.role) == role_class else 1.0) for c, w in zip(self.concepts, self.weights)]
            pool = self._by_class[role_class] = WeightedPool(self.concepts, boosted)
        return pool
