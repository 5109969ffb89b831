"""Swaps as common as golds, measured: the golds and swaps of a split's first entities correct the prior.

The prior (prior.py) guesses how often each kind of thing will be a gold from the source's category
counts; what becomes a gold also depends on which entities the loader keeps and which relations the
geometry allows, and what becomes a swap on which things each picture rules out. A text-only model
learns every difference between the two ("a chair" in a tenth of the object swaps and a hundredth of
the golds). So the pipeline generates the split's first entities once (`OfflineGenerator.calibrate`),
counts, per part (object, anchor, scene), how often each kind of thing or scene is the gold's and how
often a swap's, and multiplies its swap weight by the ratio of the two shares. Counts are integers
keyed by strings and the factors are computed in key order: every process gets the same prior.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

PARTS = ("object", "anchor", "scene")
MIN_KIND_GOLDS = 30  # golds of one relation kind before its object and anchor swaps get their own factors
SMOOTHING = 1.0  # pseudo-count per key in both shares
FACTOR_RANGE = (0.01, 10.0)
# golds a relation names by itself are thinned (SwapFactors.keep_chance): an object whose share of one
# relation kind's golds is above MIN_THINNED_SHARE and MAX_KIND_LIFT times its share of all golds
MAX_KIND_LIFT = 2.0
MIN_THINNED_SHARE = 0.1
# stuff that golds of one relation kind name (as object or anchor) more than RESIDUAL_LIFT times as
# often as its swaps do once the factors have done what they can (the floor, the sky, the wall: in
# nearly every picture of their scenes, so seldom a swap) keeps its golds of that kind only as often as
# that allows (SwapFactors.keep_chance), never below MIN_RESIDUAL_KEEP
RESIDUAL_LIFT = 4.0
MIN_RESIDUAL_KEEP = 0.4


class Keyed(str):
    """A swap's text that remembers the key of what it names (a concept key, or a scene key)."""

    key: str | None

    def __new__(cls, text: str, key: str | None) -> "Keyed":
        made = super().__new__(cls, text)
        made.key = key
        return made


def kind_part(part: str, kind: str) -> str:
    """The part name of object or anchor swaps in captions whose gold relation is of this kind ("object@left")."""
    return f"{part}@{kind}"


@dataclass
class Tally:
    """Per part (object, anchor, scene, and object per relation kind), how often each key is a gold's
    and a swap's."""

    gold: dict[str, dict[str, int]] = field(default_factory=dict)
    swap: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, part: str, gold_key: str | None, swap_keys: Sequence[str | None]) -> None:
        gold, swap = self.gold.setdefault(part, {}), self.swap.setdefault(part, {})
        if gold_key is not None:
            gold[gold_key] = gold.get(gold_key, 0) + 1
        for key in swap_keys:
            if key is not None:
                swap[key] = swap.get(key, 0) + 1

    def factors(self, previous: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, dict[str, float]]:
        """Per part, key -> (gold share / swap share), times the factor the swaps were drawn with (the
        previous round's). A relation kind's own parts only with MIN_KIND_GOLDS golds (else the plain
        object and anchor parts serve)."""
        low, high = FACTOR_RANGE
        previous = previous or {}
        out: dict[str, dict[str, float]] = {}
        for part in sorted(set(self.gold) | set(previous)):
            gold, swap = self.gold.get(part, {}), self.swap.get(part, {})
            if part not in PARTS and part not in previous and sum(gold.values()) < MIN_KIND_GOLDS:
                continue  # a later round keeps a kind's table even when thinning left it fewer golds
            keys = sorted(set(gold) | set(swap))
            before = previous.get(part, {})
            if not keys or not gold or not swap:
                out[part] = dict(before)
                continue
            gold_total = sum(gold[k] for k in sorted(gold)) + SMOOTHING * len(keys)
            swap_total = sum(swap[k] for k in sorted(swap)) + SMOOTHING * len(keys)
            table = dict(before)
            for k in keys:
                ratio = ((gold.get(k, 0) + SMOOTHING) / gold_total) / ((swap.get(k, 0) + SMOOTHING) / swap_total)
                table[k] = round(min(high, max(low, before.get(k, 1.0) * ratio)), 9)
            out[part] = dict(sorted(table.items()))
        return out

    def residual_keep(
        self, previous: Mapping[str, Mapping[str, float]] | None = None, only: Callable[[str], bool] = lambda key: True
    ) -> dict[str, dict[str, float]]:
        """Per part of a relation kind with MIN_KIND_GOLDS golds ("object@below", "anchor@below"): key ->
        the chance a gold naming it there is kept, for the keys `only` admits that golds name more than
        RESIDUAL_LIFT times as often as swaps do; times the previous round's chance."""
        previous = previous or {}
        out: dict[str, dict[str, float]] = {k: dict(v) for k, v in sorted(previous.items())}
        for part in sorted(self.gold):
            name, _, kind = part.partition("@")
            gold, swap = self.gold[part], self.swap.get(part, {})
            gold_total = sum(gold[k] for k in sorted(gold))
            if name not in ("object", "anchor") or not kind or gold_total < MIN_KIND_GOLDS:
                continue
            keys = sorted(set(gold) | set(swap))
            swap_total = sum(swap[k] for k in sorted(swap)) + SMOOTHING * len(keys)
            table = out.setdefault(part, {})
            for k in sorted(gold):
                if not only(k):
                    continue
                lift = (gold[k] / gold_total) / ((swap.get(k, 0) + SMOOTHING) / swap_total)
                if lift > RESIDUAL_LIFT:
                    table[k] = round(max(MIN_RESIDUAL_KEEP, table.get(k, 1.0) * RESIDUAL_LIFT / lift), 9)
            if not table:
                out.pop(part)
        return out

    def object_shares(self) -> dict[str, dict[str, tuple[float, float]]]:
        """Per relation kind with MIN_KIND_GOLDS golds: each object's (share of that kind's golds,
        share of all golds)."""
        every = self.gold.get("object", {})
        every_total = sum(every[k] for k in sorted(every)) or 1
        out: dict[str, dict[str, tuple[float, float]]] = {}
        for part in sorted(self.gold):
            name, _, kind = part.partition("@")
            gold = self.gold[part]
            total = sum(gold[k] for k in sorted(gold))
            if name == "object" and kind and total >= MIN_KIND_GOLDS:
                out[kind] = {k: (round(gold[k] / total, 9), round(every.get(k, 0) / every_total, 9)) for k in sorted(gold)}
        return out


@dataclass(frozen=True)
class SwapFactors:
    """Per part (object, anchor, scene, and per relation kind): key -> the factor its swap weight is
    multiplied by; and per relation kind, each object's share of that kind's golds and of all golds,
    before any was thinned."""

    by_part: Mapping[str, Mapping[str, float]]
    object_shares: Mapping[str, Mapping[str, tuple[float, float]]] = field(default_factory=dict)
    residual: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def of(self, part: str, key: str) -> float:
        return self.by_part.get(part, {}).get(key, 1.0)

    def keep_chance(self, kind: str, object_key: str | None) -> float:
        """How likely a gold naming this object with this relation kind is kept. A relation that names
        its object by itself ("the sky over ...", "the floor beneath ...": most golds of the kind, and
        many times the object's share of all golds) leaves no object swap a text-only model cannot
        spot; such golds are thinned to MAX_KIND_LIFT times the object's overall share (or to
        MIN_THINNED_SHARE of the kind). An object common everywhere (people) is not thinned."""
        share, overall = self.object_shares.get(kind, {}).get(object_key or "", (0.0, 0.0))
        if share <= MIN_THINNED_SHARE or share <= MAX_KIND_LIFT * overall:
            return 1.0
        return max(MAX_KIND_LIFT * overall, MIN_THINNED_SHARE) / share

    def stuff_keep_chance(self, kind: str, object_key: str | None, anchor_key: str | None) -> float:
        """How likely a gold of this relation kind is kept for the stuff it names as object or anchor
        (Tally.residual_keep): what no swap can be as often as golds are ("the floor beneath ...", "...
        below the sky")."""
        keep = self.residual.get(kind_part("object", kind), {}).get(object_key or "", 1.0)
        return keep * self.residual.get(kind_part("anchor", kind), {}).get(anchor_key or "", 1.0)

    def to_state(self) -> dict[str, Any]:
        return {
            "by_part": {p: dict(v) for p, v in self.by_part.items()},
            "object_shares": {k: {o: list(v) for o, v in t.items()} for k, t in self.object_shares.items()},
            "residual": {k: dict(v) for k, v in self.residual.items()},
        }

    @staticmethod
    def from_state(state: Mapping[str, Any] | None) -> "SwapFactors | None":
        if not state:
            return None
        by_part = {p: dict(v) for p, v in state["by_part"].items()}
        shares = {k: {o: (float(a), float(b)) for o, (a, b) in v.items()} for k, v in state["object_shares"].items()}
        residual = {k: dict(v) for k, v in (state.get("residual") or {}).items()}
        return SwapFactors(by_part, shares, residual)
