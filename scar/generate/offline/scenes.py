"""Scenes: the table (scar/data/scenes.json), what an image's categories say about its scene, and scene swaps.

Inference. Each category in the picture votes for the scenes it is plausible in (a strong cue counts
2, any other plausible category 1 / the number of scenes it fits). A weak cue (a road, a hill, leaves:
common beyond their scene) counts as a cue only beside another cue of the same scene (a road and a
sidewalk are a street; a road alone may be a highway or an airfield). One scene with a cue and the
most votes becomes the gold scene. Without a decisive cue the caption says only what the evidence
supports: "an indoor scene" when the categories that fit only indoor or only outdoor scenes all point
one way; with no such category ("a person, a dog and a chair") the entity is rejected with the reason
"no scene evidence" instead of guessing. The categories are the annotated things plus, where the
source has them, names known without a region (`context`: COCO-Stuff's grass, wall-tile, sky...),
which also vote; each choice records how it was made (`SceneChoice.method`, counted in stats.json).
Wording. A scene is named without adjectives: nothing in the annotations says a kitchen is bright or
small, so a gold never says it, and no swap does either (or the adjective would mark the swap). A
source's own scene label is used as it stands, its words included.
Swaps. A swapped-in scene is one the picture cannot be: not the gold scene or a confusable one, not a
scene the categories support about as well, and on the other side of indoor/outdoor when the gold
only says that; scenes where the entity's object is plausible come first, so no "a surfboard in a
library".
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from scar.core.schema import NEGATIVES_PER_TYPE
from scar.generate.offline.draws import Draws, WeightedPool
from scar.generate.taxonomy import Taxonomy
from scar.generate.words import article, norm_name

DATA = Path(__file__).resolve().parent.parent.parent / "data" / "scenes.json"
PLAUSIBLE_BOOST = 4.0  # a scene where the object is plausible is a likelier swap
PREP_BOOST = 10.0  # so is one with the gold scene's preposition: the preposition then tells nothing
SIDE_CONFIDENCE = 0.95  # a picture without a decisive category is called indoor/outdoor only this surely
MAX_LLR = 3.0  # no single category counts for more than this (naive Bayes overstates correlated evidence)
P_FALLBACK_SWAP = 0.15  # without a prior: a named gold scene may get the other side's neutral phrase as a swap
NEUTRAL = {True: "<indoor>", False: "<outdoor>"}  # the neutral phrases as scene names in a prior
NEUTRAL_NAMES = frozenset(NEUTRAL.values())

# How a scene choice was made (stats.json "scene_methods"); "+stuff" marks a choice that the
# categories alone would not have made (another scene, or none).
BY_LABEL = "label"
BY_CATEGORIES = "categories"
BY_SIDE = "indoor/outdoor from categories"
BY_ODDS = "indoor/outdoor from build statistics"
WITH_CONTEXT = "+stuff"


class NoSceneEvidence(Exception):
    pass


@dataclass(frozen=True)
class SceneInfo:
    name: str
    prep: str
    article: str  # "a" (a/an chosen per phrase) or "the"
    indoor: bool | None
    objects: frozenset[str]  # concept keys plausible in this scene (cues included)
    cues: frozenset[str]  # weak ones included
    near: frozenset[str]
    evidence: frozenset[str] = frozenset()  # keys that vote for the scene but are never swapped in (stuff)
    weak: frozenset[str] = frozenset()  # cues that count only beside another cue of the scene


@dataclass(frozen=True)
class SceneChoice:
    name: str | None  # a table scene, an unknown labelled scene, or None for the indoor/outdoor phrase
    indoor: bool | None
    possible: frozenset[str]  # table scenes the picture may show: never swapped in
    method: str = field(default=BY_LABEL, compare=False)  # how it was chosen (BY_* [+ WITH_CONTEXT])


@dataclass(frozen=True)
class SideOdds:
    """Naive Bayes over category presence, learned from the build's pictures whose scene is certain:
    how much each category tilts a picture towards indoor (log-likelihood ratio) and the prior odds.
    A picture with only ambiguous categories ("a person and a chair") is called indoor or outdoor only
    when this data says so with SIDE_CONFIDENCE."""

    log_prior: float
    llr: Mapping[str, float]

    def p_indoor(self, keys: Iterable[str]) -> float:
        # summed in sorted order: a float sum in set order differs by process (PYTHONHASHSEED)
        z = self.log_prior + math.fsum(self.llr.get(k, 0.0) for k in sorted(set(keys)))
        z = max(min(z, 30.0), -30.0)
        return 1.0 / (1.0 + math.exp(-z))

    @staticmethod
    def learn(sided: Iterable[tuple[bool, Iterable[str]]]) -> "SideOdds | None":
        n = {True: 0, False: 0}
        seen: dict[bool, dict[str, int]] = {True: {}, False: {}}
        for indoor, keys in sided:
            n[indoor] += 1
            for k in sorted(set(keys)):
                seen[indoor][k] = seen[indoor].get(k, 0) + 1
        if not n[True] or not n[False]:
            return None
        keys = sorted(set(seen[True]) | set(seen[False]))
        llr = {
            k: max(min(math.log((seen[True].get(k, 0) + 0.5) / (n[True] + 1)) - math.log((seen[False].get(k, 0) + 0.5) / (n[False] + 1)), MAX_LLR), -MAX_LLR)
            for k in keys
        }  # fmt: skip
        return SideOdds(math.log(n[True] / n[False]), llr)


def proportional_sample(pool: WeightedPool, k: int, d: Draws) -> Iterator[Any]:
    """Every item of the pool once: first k of them, each included with probability proportional to
    its weight (systematic sampling over a random order; an item heavier than 1/k of the total is
    always included), then the rest in weighted random order, for when a caller must skip some.

    A weighted draw without replacement includes heavy items less than in proportion (a scene a
    row's three swaps can hold only once), so rare scenes would be swapped in more often than golds
    show them, which a text-only model learns; proportional inclusion keeps the swaps' scene
    frequencies those of the weights."""
    n = len(pool)
    if n == 0:
        return
    weights = [pool.cum[i] - (pool.cum[i - 1] if i else 0.0) for i in range(n)]
    sure: list[int] = []
    rest = list(range(n))
    while True:  # items whose share of the k places is at least 1 are certain; share the rest again
        slots = k - len(sure)
        total = math.fsum(weights[i] for i in rest)
        heavy = [i for i in rest if slots > 0 and weights[i] * slots >= total]
        if not heavy:
            break
        sure += heavy
        rest = [i for i in rest if i not in heavy]
    chosen = list(sure[:k])
    slots = k - len(chosen)
    if slots > 0 and rest:
        total = math.fsum(weights[i] for i in rest)
        order = list(d.walk(rest))
        mark = d.next()  # systematic: the items covering mark, mark + 1, ... on the line of scaled weights
        edge = 0.0
        for i in order:
            start, edge = edge, edge + weights[i] * slots / total
            if start <= mark < edge:
                chosen.append(i)
                mark += 1.0
                if len(chosen) == k:
                    break
    picked = set(chosen)
    for i in d.walk(chosen):
        yield pool.items[i]
    left = [i for i in range(n) if i not in picked]
    for i in d.weighted_walk(left, [weights[i] for i in left]):
        yield pool.items[i]


class SceneTable:
    def __init__(self, data: dict[str, Any], taxonomy: Taxonomy) -> None:
        self.fallback: dict[str, str] = data["fallback"]
        scenes: dict[str, dict[str, Any]] = data["scenes"]
        near: dict[str, set[str]] = {k: set(e.get("near", [])) & set(scenes) for k, e in scenes.items()}
        for k, e in scenes.items():
            for o in e.get("near", []):
                if o in near:
                    near[o].add(k)

        def keys(names: Iterable[str]) -> frozenset[str]:
            return frozenset(k for k in (taxonomy.resolve(n) for n in names) if k)

        self.scenes: dict[str, SceneInfo] = {
            name: SceneInfo(
                name, e["prep"], e.get("article", "a"), e.get("indoor"),
                keys(e.get("objects", ())) | keys(e.get("cues", ())), keys(e.get("cues", ())), frozenset(near[name]),
                keys(e.get("evidence", ())), keys(e.get("weak_cues", ())),
            )  # fmt: skip
            for name, e in scenes.items()
        }
        self.aliases = {norm_name(a): name for name, e in scenes.items() for a in (name, *e.get("aliases", ()))}
        self.names = tuple(self.scenes)
        self._groups: dict[tuple[Any, ...], tuple[Any, tuple[WeightedPool, ...], str | None]] = {}
        # the votes a category gives: a strong cue 2, otherwise 1 / (number of scenes it is plausible in);
        # exact fractions, so that equal totals tie whatever order a picture's categories come in
        votes: dict[str, dict[str, Fraction]] = {}
        for s in self.scenes.values():
            for k in sorted(s.objects | s.evidence):
                votes.setdefault(k, {})
        for k, table in votes.items():
            homes = [s for s in self.scenes.values() if k in s.objects or k in s.evidence]
            for s in homes:
                table[s.name] = (2 if k in s.cues and k not in s.weak else 0) + Fraction(1, len(homes))
        self.votes = votes
        self._weak = [(s.name, s.weak, s.cues) for s in self.scenes.values() if s.weak]
        # categories that fit only indoor (True) or only outdoor (False) scenes
        self.side: dict[str, bool] = {}
        for k in votes:
            sides = {self.scenes[s].indoor for s in votes[k]}
            if len(sides) == 1 and None not in sides:
                self.side[k] = sides.pop()

    @classmethod
    def load(cls, taxonomy: Taxonomy, path: Path | None = None) -> "SceneTable":
        return cls(json.loads((path or DATA).read_text(encoding="utf-8")), taxonomy)

    # ------------------------------------------------------------ inference

    def choose(
        self, label: str | None, keys: Iterable[str], sides: "SideOdds | None" = None, context: Iterable[str] = ()
    ) -> SceneChoice:
        """The gold scene from the source's label, else from the concept keys of everything in the picture.
        `sides`: how the build's other pictures say each category leans indoor or outdoor (see SideOdds).
        `context`: keys of what the source knows the picture shows without a region (its stuff); they
        count like the others, and the choice's method says when they made the difference."""
        keys = sorted({k for k in keys if k})
        extra = sorted({k for k in context if k} - set(keys))
        if label or not extra:
            return self._choose(label, sorted({*keys, *extra}), sides)
        choice = self._choose(label, sorted({*keys, *extra}), sides)
        try:
            alone = self._choose(label, keys, sides)
        except NoSceneEvidence:
            alone = None
        if alone is None or (alone.name, alone.indoor) != (choice.name, choice.indoor):
            choice = replace(choice, method=choice.method + WITH_CONTEXT)
        return choice

    def _choose(self, label: str | None, keys: list[str], sides: "SideOdds | None") -> SceneChoice:
        if label:
            name = self.aliases.get(norm_name(label.replace("/", " / ").split("/")[-1]))
            if name is not None:
                info = self.scenes[name]
                return SceneChoice(name, info.indoor, frozenset({name}) | info.near, BY_LABEL)
            indoor = self._side_of(keys)
            return SceneChoice(norm_name(label.replace("/", " / ").split("/")[-1]), indoor, self._supported(keys), BY_LABEL)
        votes = self._votes(keys)
        if votes:
            best = max(votes.values())
            winners = [s for s, v in votes.items() if v == best]
            if best >= 2 and len(winners) == 1:
                name = winners[0]
                possible = {s for s, v in votes.items() if 2 * v >= best} | {name} | self.scenes[name].near
                return SceneChoice(name, self.scenes[name].indoor, frozenset(possible), BY_CATEGORIES)
        indoor = self._side_of(keys)
        method = BY_SIDE
        if indoor is None and sides is not None:
            p = sides.p_indoor(keys)
            indoor = True if p >= SIDE_CONFIDENCE else False if p <= 1.0 - SIDE_CONFIDENCE else None
            method = BY_ODDS
        if indoor is None:
            raise NoSceneEvidence("no category that only fits indoor or only outdoor scenes" if votes else "no known category")
        return SceneChoice(None, indoor, frozenset(s for s, info in self.scenes.items() if info.indoor is indoor), method)

    def _side_of(self, keys: list[str]) -> bool | None:
        sides = {self.side[k] for k in keys if k in self.side}
        return sides.pop() if len(sides) == 1 else None

    def _votes(self, keys: list[str]) -> dict[str, Fraction]:
        votes: dict[str, Fraction] = {}
        for k in keys:
            for s, v in self.votes.get(k, {}).items():
                votes[s] = votes.get(s, Fraction(0)) + v
        for name, weak, cues in self._weak:
            weak_here = sum(1 for k in keys if k in weak)
            if weak_here and sum(1 for k in keys if k in cues) >= 2:
                votes[name] += 2 * weak_here
        return votes

    def _supported(self, keys: list[str]) -> frozenset[str]:
        votes = self._votes(keys)
        best = max(votes.values(), default=Fraction(0))
        return frozenset(s for s, v in votes.items() if 2 * v >= best)

    # ------------------------------------------------------------ wording and swaps

    def phrase(self, name: str | None, indoor: bool | None) -> tuple[str, str]:
        """(preposition, noun phrase): ("on", "a beach"); the neutral phrase says indoor/outdoor. No
        adjective is added: the annotations never say a beach is sunny (module docstring)."""
        if name is None:
            return "in", self.fallback["indoor" if indoor else "outdoor"]
        info = self.scenes.get(name)
        art = info.article if info else "a"
        return (info.prep if info else "in"), (f"the {name}" if art == "the" else f"{article(name)} {name}")

    def swaps(
        self, choice: SceneChoice, object_key: str | None, d: Draws, weights: Mapping[str, float] | None = None
    ) -> Iterator[tuple[str, str, str]]:
        """(preposition, noun phrase, scene key) of scenes the picture cannot be, plausible ones for the object first.

        With `weights` (how often golds will show each scene, or neutral phrase "<indoor>"/"<outdoor>",
        in this build; see prior.py) swaps are drawn as often as golds show them."""
        groups, neutral = self._swap_groups(choice, object_key, weights)
        if weights is None:
            if neutral and (choice.name is None or d.next() < P_FALLBACK_SWAP):
                yield (*self.neutral_phrase(neutral), neutral)
            for group in groups:
                for s in d.walk(group.items):
                    yield (*self.phrase(s, self.scenes[s].indoor), s)
            return
        for group in groups:
            for s in proportional_sample(group, NEGATIVES_PER_TYPE, d):
                yield (*(self.neutral_phrase(s) if s in NEUTRAL_NAMES else self.phrase(s, self.scenes[s].indoor)), s)

    def _swap_groups(
        self, choice: SceneChoice, object_key: str | None, weights: Mapping[str, float] | None
    ) -> tuple[tuple[WeightedPool, ...], str | None]:
        """Candidate swap scenes in preference order (cached: many entities share a scene choice)."""
        key = (choice, object_key, id(weights))
        cached = self._groups.get(key)
        if cached is not None and cached[0] is weights:  # the same prior object, not a new one at a reused id
            return cached[1], cached[2]
        blocked = set(choice.possible)
        for s in list(blocked):
            if s in self.scenes:
                blocked |= self.scenes[s].near
        candidates = [s for s in self.names if s not in blocked]
        if choice.indoor is not None and (choice.name is None or choice.name not in self.scenes):
            candidates = [s for s in candidates if self.scenes[s].indoor is (not choice.indoor)]
        plausible = [s for s in candidates if object_key in self.scenes[s].objects]
        others = [s for s in candidates if object_key not in self.scenes[s].objects]
        neutral = NEUTRAL[not choice.indoor] if choice.indoor is not None else None
        if weights is None:
            groups = (WeightedPool(plausible, [1.0] * len(plausible)), WeightedPool(others, [1.0] * len(others)))
        else:
            # one weighted draw: as often as golds show each scene, likelier where the object is
            # plausible and with the gold's own preposition ("the bowl in a" is then no clue)
            prep = self.scenes[choice.name].prep if choice.name in self.scenes else "in"
            names = plausible + others + ([neutral] if neutral and weights.get(neutral, 0.0) > 0 else [])
            boosts = [
                (PLAUSIBLE_BOOST if s in plausible or s in NEUTRAL_NAMES else 1.0)
                * (PREP_BOOST if (self.scenes[s].prep if s in self.scenes else "in") == prep else 1.0)
                for s in names
            ]
            groups = (WeightedPool(names, [weights.get(s, 0.0) * b for s, b in zip(names, boosts)]),)
        if len(self._groups) > 4096:
            self._groups.clear()
        self._groups[key] = (weights, groups, neutral)
        return groups, neutral

    def neutral_phrase(self, neutral: str) -> tuple[str, str]:
        return "in", self.fallback["indoor" if neutral == NEUTRAL[True] else "outdoor"]

    def gold_scene_counts(self, images: Iterable[Iterable[str]]) -> tuple[dict[str, int], dict[str, int], SideOdds | None]:
        """(how many golds each scene or neutral phrase will have, in how many pictures each cannot be a
        swap, the SideOdds learnt on the way): the inference run on every image's concept keys."""
        images = [frozenset(keys) for keys in images]
        choices = list(self._choices(images, None))
        sides = SideOdds.learn((c.indoor, keys) for c, keys in zip(choices, images) if c is not None and c.indoor is not None)
        if sides is not None:  # only pictures without a decisive category can change
            undecided = [keys for c, keys in zip(choices, images) if c is None]
            again = iter(self._choices(undecided, sides))
            choices = [c if c is not None else next(again) for c in choices]
        counts: dict[str, int] = {}
        excluded: dict[str, int] = {}
        for c in choices:
            if c is None:
                continue
            key = c.name if c.name in self.scenes else NEUTRAL.get(c.indoor) if c.name is None else None  # type: ignore[arg-type]
            if key:
                counts[key] = counts.get(key, 0) + 1
            for s in self._blocked_by(c):
                excluded[s] = excluded.get(s, 0) + 1
        return counts, excluded, sides

    def _choices(self, images: Iterable[Iterable[str]], sides: SideOdds | None) -> Iterator[SceneChoice | None]:
        cache: dict[frozenset[str], SceneChoice | None] = {}
        for keys in images:
            key = frozenset(keys)
            if key not in cache:
                try:
                    cache[key] = self.choose(None, key, sides)
                except NoSceneEvidence:
                    cache[key] = None
            yield cache[key]

    def _blocked_by(self, c: SceneChoice) -> set[str]:
        blocked = set(c.possible)
        for s in c.possible:
            if s in self.scenes:
                blocked |= self.scenes[s].near
        if c.indoor is not None:
            blocked.add(NEUTRAL[c.indoor])
        return blocked
