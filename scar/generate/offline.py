"""The offline generator: rule-based gold captions and hard negatives, deterministic, no network.

Gold caption = CaptionParts(object, relation, scene):
  object    the category's wording from the taxonomy, sometimes with a colour/size the source gives;
  relation  from the geometry between the entity's box and its most salient neighbour (nearest), or,
            without a usable neighbour, its place in the frame ("on the left side of");
  scene     the source's scene label, else inferred from the categories in the image (scenes.json),
            else a neutral "an indoor scene" / "an outdoor scene".
Negatives replace exactly one part: 3 object swaps (never a synonym, hypernym, hyponym or confusable of
the gold, nor anything else in the image; plausible for the scene where possible), 3 relation swaps
(contradictory kinds that the geometry also makes false), 3 scene swaps (other, non-confusable scenes).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from scar import filters
from scar.schema import NEGATIVES_PER_TYPE, CaptionParts, Entity, GeneratorInfo, Rejected, RegionKind, Sample
from scar.seeding import rng_for

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
NAME, MODEL, PROMPT_VERSION = "offline", "rules-v1", "offline-1"

COLOUR_WORDS = frozenset(
    "red blue green yellow orange purple pink white black brown grey gray silver gold beige tan".split()
)
SIZE_WORDS = frozenset("big small large little tiny huge tall short".split())

# Probabilities of the rule choices (drawn per entity from its own rng).
P_COLOUR = 0.6
P_SIZE = 0.3
P_FRAME = 0.15  # use a frame relation although a neighbour exists, for variety
P_NEXT = 0.25  # say "next to" instead of left/right for close side-by-side pairs
P_SCENE_ADJ = 0.35


def _norm_name(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").split(",")[0].split())


def _head(phrase: str) -> str:
    words = phrase.split()
    return words[-1] if words else ""


def _article(phrase: str) -> str:
    first = phrase.split()[0] if phrase else ""
    if first.startswith(("uni", "use", "one", "eu")):
        return "a"
    return "an" if first[:1] in "aeiou" or first in ("hour", "honest") else "a"


# ---------------------------------------------------------------- taxonomy


@dataclass(frozen=True)
class Concept:
    key: str
    display: str
    det: str  # "a" (a/an chosen per phrase), "the", "some" or "" (mass/plural nouns)
    stuff: bool
    colour: bool
    abstract: bool

    @property
    def head(self) -> str:
        return _head(self.display)


class Taxonomy:
    """Category names -> concepts, with is-a closure and the 'never swap these' relation precomputed."""

    def __init__(self, data: dict[str, Any]) -> None:
        cats: dict[str, dict[str, Any]] = data["categories"]
        self.concepts: dict[str, Concept] = {}
        self.lookup: dict[str, str] = {}
        for key, e in cats.items():
            display = e.get("display", _norm_name(key))
            self.concepts[key] = Concept(
                key, display, e.get("det", "a"), bool(e.get("stuff", False)), not e.get("nocol", False), bool(e.get("abstract", False))
            )
            for name in (key, display, *e.get("syn", [])):
                self.lookup.setdefault(_norm_name(name), key)
        self.lookup.update({_norm_name(k): k for k in cats})  # a key always names itself
        parents = {k: [self.lookup[_norm_name(p)] for p in e.get("is_a", [])] for k, e in cats.items()}
        near: dict[str, set[str]] = {k: set() for k in cats}
        for k, e in cats.items():
            for other in e.get("near", []):
                o = self.lookup[_norm_name(other)]
                near[k].add(o)
                near[o].add(k)

        def ancestors(k: str, seen: frozenset[str] = frozenset()) -> set[str]:
            out: set[str] = set()
            for p in parents[k]:
                if p not in seen:
                    out |= {p} | ancestors(p, seen | {k})
            return out

        self.ancestors = {k: frozenset(ancestors(k)) for k in cats}
        descendants: dict[str, set[str]] = {k: set() for k in cats}
        for k, anc in self.ancestors.items():
            for a in anc:
                descendants[a].add(k)
        self.descendants = {k: frozenset(v) for k, v in descendants.items()}
        related: dict[str, frozenset[str]] = {}
        for k in cats:
            lineage = {k} | self.ancestors[k]
            confusable: set[str] = set()
            for a in lineage:
                for n in near[a]:
                    confusable |= {n} | self.descendants[n]
            related[k] = frozenset(lineage | self.descendants[k] | confusable)
        # make it symmetric: if a never swaps with b, b never swaps with a
        sym: dict[str, set[str]] = {k: set(v) for k, v in related.items()}
        for k, rel in related.items():
            for r in rel:
                sym[r].add(k)
        self.related = {k: frozenset(v) for k, v in sym.items()}

    @classmethod
    def load(cls, path: Path | None = None) -> "Taxonomy":
        return cls(json.loads((path or DATA_DIR / "taxonomy.json").read_text(encoding="utf-8")))

    def resolve(self, name: str) -> str | None:
        """The concept key for a category name: exact name or synonym, a plural, else its head noun."""
        n = _norm_name(name)
        key = self.lookup.get(n)
        if key is None and n.endswith("s"):
            key = self.lookup.get(n[:-1])
        if key is None and " " in n:
            key = self.lookup.get(_head(n))
        return key

    def relatives(self, name: str) -> frozenset[str]:
        """Keys never to be swapped in for this name (plus the name's own head noun, for unknown names)."""
        key = self.resolve(name)
        n = _norm_name(name)
        base = self.related[key] if key else frozenset()
        return base | {n, _head(n)}


# ---------------------------------------------------------------- scenes


@dataclass(frozen=True)
class SceneInfo:
    name: str
    prep: str
    article: str  # "a" (a/an chosen per phrase) or "the"
    indoor: bool | None
    adjectives: tuple[str, ...]
    objects: frozenset[str]  # concept keys plausible in this scene
    cues: frozenset[str]
    near: frozenset[str]


class SceneTable:
    def __init__(self, data: dict[str, Any], taxonomy: Taxonomy) -> None:
        self.fallback: dict[str, str] = data["fallback"]
        scenes: dict[str, dict[str, Any]] = data["scenes"]
        near: dict[str, set[str]] = {k: set(e.get("near", [])) for k, e in scenes.items()}
        for k, e in scenes.items():
            for o in e.get("near", []):
                near.setdefault(o, set()).add(k)

        def keys(names: Iterable[str]) -> frozenset[str]:
            return frozenset(k for k in (taxonomy.resolve(n) for n in names) if k)

        self.scenes: dict[str, SceneInfo] = {
            name: SceneInfo(
                name,
                e["prep"],
                e.get("article", "a"),
                e.get("indoor"),
                tuple(e.get("adjectives", ())),
                keys(e.get("objects", ())),
                keys(e.get("cues", ())),
                frozenset(near.get(name, ())),
            )
            for name, e in scenes.items()
        }
        self.names = tuple(self.scenes)
        # evidence a category gives for each scene: strong cue 2, otherwise 1 / (number of scenes it appears in)
        votes: dict[str, dict[str, float]] = {}
        for s in self.scenes.values():
            for k in s.objects | s.cues:
                votes.setdefault(k, {})
        for k, table in votes.items():
            homes = [s for s in self.scenes.values() if k in s.objects]
            for s in homes:
                table[s.name] = 1.0 / len(homes)
            for s in self.scenes.values():
                if k in s.cues:
                    table[s.name] = table.get(s.name, 0.0) + 2.0
        self.votes = votes

    @classmethod
    def load(cls, taxonomy: Taxonomy, path: Path | None = None) -> "SceneTable":
        return cls(json.loads((path or DATA_DIR / "scenes.json").read_text(encoding="utf-8")), taxonomy)


# ---------------------------------------------------------------- geometry -> relations

Box = tuple[float, float, float, float]  # xyxy

REL_PHRASES: dict[str, tuple[str, ...]] = {
    "left": ("to the left of", "left of"),
    "right": ("to the right of", "right of"),
    "above": ("above", "over"),
    "below": ("below", "beneath"),
    "on": ("on top of", "on"),
    "under": ("under", "underneath"),
    "front": ("in front of",),
    "behind": ("behind",),
    "next": ("next to", "beside"),
    "far": ("far from", "far away from"),
}
# Kinds that contradict each gold kind; the first is its direct opposite and is always tried first.
# A kind is only used when the geometry also makes it false (see loosely_true).
CONTRADICTS: dict[str, tuple[str, ...]] = {
    "left": ("right", "on", "under", "above", "below"),
    "right": ("left", "on", "under", "above", "below"),
    "above": ("below", "under", "front", "on", "far", "left", "right"),
    "below": ("above", "on", "behind", "far", "left", "right"),
    "on": ("under", "below", "far", "left", "right"),
    "under": ("on", "above", "behind", "far", "left", "right"),
    "front": ("behind", "on", "above", "far", "left", "right"),
    "behind": ("front", "under", "below", "far", "left", "right"),
    "next": ("far", "on", "under", "above", "below"),
}
FRAME_PHRASES: dict[str, tuple[str, ...]] = {
    "f_left": ("on the left side of", "at the left edge of"),
    "f_right": ("on the right side of", "at the right edge of"),
    "f_top": ("at the top of", "in the upper part of"),
    "f_bottom": ("at the bottom of", "in the lower part of"),
    "f_middle": ("in the middle of", "in the centre of"),
    "f_top_left": ("in the top left corner of",),
    "f_top_right": ("in the top right corner of",),
    "f_bottom_left": ("in the bottom left corner of",),
    "f_bottom_right": ("in the bottom right corner of",),
}
FRAME_CONTRADICTS: dict[str, tuple[str, ...]] = {
    "f_left": ("f_right", "f_top_right", "f_bottom_right", "f_middle"),
    "f_right": ("f_left", "f_top_left", "f_bottom_left", "f_middle"),
    "f_top": ("f_bottom", "f_bottom_left", "f_bottom_right", "f_middle"),
    "f_bottom": ("f_top", "f_top_left", "f_top_right", "f_middle"),
    "f_middle": ("f_top_left", "f_top_right", "f_bottom_left", "f_bottom_right", "f_left", "f_right"),
    "f_top_left": ("f_bottom_right", "f_right", "f_bottom", "f_top_right", "f_bottom_left", "f_middle"),
    "f_top_right": ("f_bottom_left", "f_left", "f_bottom", "f_top_left", "f_bottom_right", "f_middle"),
    "f_bottom_left": ("f_top_right", "f_right", "f_top", "f_top_left", "f_bottom_right", "f_middle"),
    "f_bottom_right": ("f_top_left", "f_left", "f_top", "f_top_right", "f_bottom_left", "f_middle"),
}


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return min(a1, b1) - max(a0, b0)


def _gap(e: Box, n: Box) -> float:
    gx = max(0.0, n[0] - e[2], e[0] - n[2])
    gy = max(0.0, n[1] - e[3], e[1] - n[3])
    return math.hypot(gx, gy)


def _contained(inner: Box, outer: Box, frac: float = 0.9) -> bool:
    iw, ih = _overlap(inner[0], inner[2], outer[0], outer[2]), _overlap(inner[1], inner[3], outer[1], outer[3])
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return iw > 0 and ih > 0 and iw * ih >= frac * area


def strict_on(e: Box, n: Box) -> bool:
    """E rests on N: E is smaller, its centre is over N, its bottom in N's top half and it sticks out above N."""
    nw, nh = n[2] - n[0], n[3] - n[1]
    ew, eh = e[2] - e[0], e[3] - e[1]
    ecx = (e[0] + e[2]) / 2
    smaller = ew < 1.1 * nw and ew * eh < nw * nh  # what rests on something is (in the picture) smaller than it
    return smaller and n[0] <= ecx <= n[2] and n[1] - 0.1 * nh <= e[3] <= n[1] + 0.5 * nh and e[1] < n[1] + 0.2 * nh


def gold_relation(e: Box, n: Box, r_next: float) -> str:
    """The relation kind that best describes E relative to N (the boxes must not contain each other)."""
    ew, eh, nw, nh = e[2] - e[0], e[3] - e[1], n[2] - n[0], n[3] - n[1]
    ecx, ecy, ncx, ncy = (e[0] + e[2]) / 2, (e[1] + e[3]) / 2, (n[0] + n[2]) / 2, (n[1] + n[3]) / 2
    hov, vov = _overlap(e[0], e[2], n[0], n[2]), _overlap(e[1], e[3], n[1], n[3])
    if strict_on(e, n):
        return "on"
    if hov > 0 and vov > 0:
        margin = 0.08 * max(eh, nh)
        if e[3] > n[3] + margin:
            return "front"
        if e[3] < n[3] - margin:
            return "behind"
        return "next"
    gx = max(0.0, n[0] - e[2], e[0] - n[2])
    gy = max(0.0, n[1] - e[3], e[1] - n[3])
    if gx >= gy:
        if vov > 0.5 * min(eh, nh) and gx < 0.5 * max(ew, nw) and r_next < P_NEXT:
            return "next"
        return "left" if ecx < ncx else "right"
    if ecy < ncy:
        return "above"
    return "under" if hov > 0 else "below"


def loosely_true(e: Box, n: Box, diag: float) -> frozenset[str]:
    """Every relation kind that could be said of E and N with some goodwill; a negative must be outside it."""
    ew, eh, nw, nh = e[2] - e[0], e[3] - e[1], n[2] - n[0], n[3] - n[1]
    ecx, ecy, ncx, ncy = (e[0] + e[2]) / 2, (e[1] + e[3]) / 2, (n[0] + n[2]) / 2, (n[1] + n[3]) / 2
    hov = min(e[2], n[2]) - max(e[0], n[0])
    tol_x, tol_y = 0.1 * max(ew, nw), 0.1 * max(eh, nh)
    gap = _gap(e, n)
    true = []
    if ecx < ncx + tol_x:
        true.append("left")
    if ecx > ncx - tol_x:
        true.append("right")
    if ecy < ncy + tol_y:
        true.append("above")
        # touching or nearly (a floating thing is not "on" what is far below it)
        if hov > 0 and e[3] <= n[1] + 0.75 * nh and n[1] - e[3] <= 0.25 * max(eh, nh):
            true.append("on")
    if ecy > ncy - tol_y:
        true.append("below")
        if hov > 0:
            true.append("under")
    if e[3] > n[3] - tol_y:
        true.append("front")
    if e[3] < n[3] + tol_y:
        true.append("behind")
    if gap <= 0.5 * max(ew, nw, eh, nh):
        true.append("next")
    if gap > 0.05 * diag:
        true.append("far")
    return frozenset(true)


def frame_relation(e: Box, w: float, h: float) -> str:
    cx, cy = (e[0] + e[2]) / (2 * w), (e[1] + e[3]) / (2 * h)
    horiz = "left" if cx < 0.35 else "right" if cx > 0.65 else ""
    vert = "top" if cy < 0.35 else "bottom" if cy > 0.65 else ""
    if horiz and vert and (cx < 0.3 or cx > 0.7) and (cy < 0.3 or cy > 0.7):
        return f"f_{vert}_{horiz}"
    if horiz:
        return f"f_{horiz}"
    if vert:
        return f"f_{vert}"
    return "f_middle"


def frame_loosely_true(e: Box, w: float, h: float) -> frozenset[str]:
    """Every frame position the box could be said to be at; a negative must be outside it."""
    left, right = e[0] < 0.45 * w, e[2] > 0.55 * w
    top, bottom = e[1] < 0.45 * h, e[3] > 0.55 * h
    middle = e[0] < 0.65 * w and e[2] > 0.35 * w and e[1] < 0.65 * h and e[3] > 0.35 * h
    table = {
        "f_left": left,
        "f_right": right,
        "f_top": top,
        "f_bottom": bottom,
        "f_middle": middle,
        "f_top_left": top and left,
        "f_top_right": top and right,
        "f_bottom_left": bottom and left,
        "f_bottom_right": bottom and right,
    }
    return frozenset(k for k, v in table.items() if v)


# ---------------------------------------------------------------- the generator


class _Draws:
    """Uniform floats from the entity's rng, drawn in one call (numpy per-call overhead dominates otherwise)."""

    def __init__(self, seed: int, key: str, n: int = 40) -> None:
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


_STRIDES: dict[int, tuple[int, ...]] = {}
_PARTS = ("object", "relation", "scene")


class _Reject(Exception):
    pass


@dataclass(frozen=True)
class _Scene:
    name: str | None  # a table scene, an unknown labelled scene, or None for the indoor/outdoor fallback
    indoor: bool | None
    evidence: frozenset[str]  # table scenes with real support in the image (never used as swaps)


class OfflineGenerator:
    # A pure function of (seed, entity): the build may run it in worker processes.
    parallel_safe = True

    def __init__(
        self, seed: int = 0, region_kind: RegionKind = "box", taxonomy: Taxonomy | None = None, p_frame: float = P_FRAME
    ) -> None:
        self.seed = int(seed)
        self.p_frame = p_frame
        self.region_kind: RegionKind = region_kind
        self.info = GeneratorInfo(name=NAME, model=MODEL, prompt_version=PROMPT_VERSION, seed=self.seed)
        self.taxonomy = taxonomy or _default_taxonomy()
        self.scenes = SceneTable.load(self.taxonomy)
        tax = self.taxonomy
        usable = [c for c in tax.concepts.values() if not c.abstract]
        plausible = set().union(*(s.objects for s in self.scenes.scenes.values()))
        self._global_pool = {
            stuff: tuple(sorted(c.key for c in usable if c.stuff == stuff and c.key in plausible)) for stuff in (False, True)
        }
        self._scene_pool = {
            (s.name, stuff): tuple(sorted(k for k in s.objects if not tax.concepts[k].abstract and tax.concepts[k].stuff == stuff))
            for s in self.scenes.scenes.values()
            for stuff in (False, True)
        }
        self._indoor_pool = {
            (indoor, stuff): tuple(sorted({k for s in self.scenes.scenes.values() if s.indoor == indoor for k in self._scene_pool[s.name, stuff]}))
            for indoor in (False, True)
            for stuff in (False, True)
        }
        self._relatives_cache: dict[str, frozenset[str]] = {}
        self._head_cache: dict[str, str] = {}
        self._resolve_cache: dict[str, str | None] = {}

    def _relatives(self, category: str) -> frozenset[str]:
        rel = self._relatives_cache.get(category)
        if rel is None:
            rel = self._relatives_cache[category] = self.taxonomy.relatives(category)
        return rel

    def _resolve(self, category: str) -> str | None:
        try:
            return self._resolve_cache[category]
        except KeyError:
            key = self._resolve_cache[category] = self.taxonomy.resolve(category)
            return key

    def _head_of(self, category: str) -> str:
        head = self._head_cache.get(category)
        if head is None:
            key = self.taxonomy.resolve(category)
            head = self._head_cache[category] = self.taxonomy.concepts[key].head if key else _head(_norm_name(category))
        return head

    # ------------------------------------------------------------ protocol

    def generate(self, entities: Sequence[Entity], images_root: Path | None) -> list[Sample | Rejected]:
        return [self.generate_one(e) for e in entities]

    def stats(self) -> dict[str, Any]:
        return {}  # no usage to report: the pipeline counts samples and rejections itself

    def close(self) -> None:
        pass

    # ------------------------------------------------------------ one entity

    def generate_one(self, entity: Entity) -> Sample | Rejected:
        try:
            sample = self._build(entity)
        except _Reject as why:
            reason, _, detail = str(why).partition(": ")
            return Rejected(entity.source, entity.id, reason, detail=detail)
        return sample

    def _build(self, entity: Entity) -> Sample:
        d = _Draws(self.seed, entity.id)
        tax = self.taxonomy
        key = self._resolve(entity.category)
        concept = tax.concepts[key] if key else None
        noun = concept.display if concept else _norm_name(entity.category)
        if not noun:
            raise _Reject(f"empty category: {entity.category!r}")
        modifiers = self._modifiers(entity, noun, concept, d)
        obj = self._noun_phrase(noun, concept.det if concept else "a", modifiers)

        e_box: Box = entity.region.box_xyxy
        w, h = float(entity.image_width), float(entity.image_height)
        scene = self._scene(entity, d)
        scene_prep, scene_np = self._scene_words(scene.name, scene.indoor, d)
        gold = gold_text = None
        taken: set[str] = set()
        rel_texts: list[str] = []
        framed = False
        for relation, rel_groups, framed in self._relation_options(entity, e_box, w, h, noun, d):
            gold = CaptionParts(obj, relation, scene_np if framed else f"{scene_prep} {scene_np}")
            gold_text = gold.text
            taken = {f"{part}\x1f{getattr(gold, part).strip().lower()}" for part in _PARTS}
            try:
                rel_texts = self._take(gold, gold_text, "relation", rel_groups, taken, "relation swaps")
                break
            except _Reject:
                continue
        if gold is None or len(rel_texts) < NEGATIVES_PER_TYPE:
            raise _Reject("too few relation swaps: no relation with 3 contradicting ones that the geometry makes false")
        assert gold_text is not None

        obj_negs = self._object_swaps(entity, key, noun, concept, modifiers, scene, gold, taken, d)
        scene_negs = self._scene_swaps(entity, key, scene, framed, gold, taken, d)
        negatives = tuple(obj_negs + rel_texts + scene_negs)
        problems = filters.candidate_problems(gold_text, negatives)
        if problems:
            raise _Reject(f"unfair candidates: {problems[0]}")
        return Sample(
            entity=entity,
            gold=gold,
            negatives=negatives,
            neg_types=("object",) * 3 + ("relation",) * 3 + ("scene",) * 3,
            generator=self.info,
            region_kind=self.region_kind,
            train_negative_index=min(int(d.next() * len(negatives)), len(negatives) - 1),
        )

    # ------------------------------------------------------------ object

    def _modifiers(self, entity: Entity, noun: str, concept: Concept | None, d: _Draws) -> tuple[str, ...]:
        colour = size = None
        for a in entity.attributes:
            a = a.lower().strip()
            if a in COLOUR_WORDS and colour is None:
                colour = "grey" if a == "gray" else a
            elif a in SIZE_WORDS and size is None:
                size = a
        if (colour is None or size is None) and entity.texts:
            head = _head(noun)
            for text in entity.texts:  # "<colour/size words> <head noun>" in the source's own phrases
                words = text.lower().replace(",", " ").split()
                for i, word in enumerate(words):
                    if word != head:
                        continue
                    for b in words[max(0, i - 3) : i]:
                        if b in COLOUR_WORDS and colour is None:
                            colour = "grey" if b == "gray" else b
                        elif b in SIZE_WORDS and size is None:
                            size = b
        out = []
        r_size, r_colour = d.next(), d.next()
        if size and r_size < P_SIZE:
            out.append(size)
        if colour and (concept is None or concept.colour) and r_colour < P_COLOUR:
            out.append(colour)
        return tuple(out)

    @staticmethod
    def _noun_phrase(noun: str, det: str, modifiers: Sequence[str]) -> str:
        phrase = " ".join((*modifiers, noun))
        if det == "a":
            return f"{_article(phrase)} {phrase}"
        return f"{det} {phrase}" if det else phrase

    def _object_swaps(
        self,
        entity: Entity,
        key: str | None,
        noun: str,
        concept: Concept | None,
        modifiers: tuple[str, ...],
        scene: _Scene,
        gold: CaptionParts,
        taken: set[str],
        d: _Draws,
    ) -> list[str]:
        tax = self.taxonomy
        excluded = set(self._relatives(entity.category))
        heads = {_head(noun)}
        for nb in entity.neighbours:
            excluded |= self._relatives(nb.category)
            heads.add(self._head_of(nb.category))
        stuff = concept.stuff if concept else False
        if scene.name in self.scenes.scenes:
            pools = [self._scene_pool[scene.name, stuff], self._scene_pool[scene.name, not stuff]]
        elif scene.indoor is not None:
            pools = [self._indoor_pool[scene.indoor, stuff]]
        else:
            pools = []
        pools.append(self._global_pool[stuff])
        def values() -> Iterator[str]:
            seen: set[str] = set()
            for pool in pools:
                for cand in d.walk(pool):
                    c = tax.concepts[cand]
                    if cand in seen or cand in excluded or c.head in heads:
                        continue
                    seen.add(cand)
                    mods = modifiers if c.colour else tuple(m for m in modifiers if m in SIZE_WORDS)
                    yield self._noun_phrase(c.display, c.det, mods)

        return self._take(gold, gold.text, "object", values(), taken, f"object swaps for {entity.category!r}")

    # ------------------------------------------------------------ relation

    def _relation_options(
        self, entity: Entity, e: Box, w: float, h: float, noun: str, d: _Draws
    ) -> Iterator[tuple[str, list[tuple[str, ...]], bool]]:
        """Candidate (gold relation, contradicting relations as groups of wordings, is it a frame relation),
        best first: a relation to the nearest neighbour, else (or sometimes first, for variety) the frame."""
        diag = math.hypot(w, h)
        anchors = []
        tiny = 0.002 * w * h
        for nb in entity.neighbours:
            x, y, bw, bh = nb.box_xywh
            if bw <= 0 or bh <= 0:
                continue
            n = (x, y, x + bw, y + bh)
            gap = _gap(e, n)
            if gap == 0 and (_contained(e, n) or _contained(n, e)):
                continue
            # nearest first; tiny anchors are hard to see, so they count as farther away
            anchors.append((gap / diag + (0.1 if bw * bh < tiny else 0.0), nb.category, n))
        anchors.sort(key=lambda t: t[0])
        r_frame, r_next = d.next(), d.next()
        if anchors and r_frame >= self.p_frame:
            option = self._neighbour_option(e, anchors, noun, diag, r_next, d)
            if option:
                yield option
        yield self._frame_option(e, w, h, d)
        if anchors and r_frame < self.p_frame:
            option = self._neighbour_option(e, anchors, noun, diag, r_next, d)
            if option:
                yield option

    @staticmethod
    def _wordings(phrases: tuple[str, ...], d: _Draws, suffix: str = "") -> tuple[str, ...]:
        """All wordings of one relation kind, starting at a random one (the rest are length fallbacks)."""
        start = int(d.next() * len(phrases)) % len(phrases)
        return tuple(f"{p} {suffix}".strip() for p in phrases[start:] + phrases[:start])

    def _frame_option(self, e: Box, w: float, h: float, d: _Draws) -> tuple[str, list[tuple[str, ...]], bool]:
        kind = frame_relation(e, w, h)
        gold = d.pick(FRAME_PHRASES[kind])
        opposite, *rest = FRAME_CONTRADICTS[kind]
        true = frame_loosely_true(e, w, h)
        groups = [self._wordings(FRAME_PHRASES[k], d) for k in (opposite, *d.walk(rest)) if k not in true]
        return gold, groups, True

    def _anchor_phrase(self, category: str, noun: str) -> str:
        key = self._resolve(category)
        name = self.taxonomy.concepts[key].display if key else _norm_name(category)
        return f"the other {name}" if name == noun else f"the {name}"

    def _neighbour_option(
        self, e: Box, anchors: list[tuple[float, str, Box]], noun: str, diag: float, r_next: float, d: _Draws
    ) -> tuple[str, list[tuple[str, ...]], bool] | None:
        _, category, n = anchors[0]
        kind = gold_relation(e, n, r_next)
        anchor = self._anchor_phrase(category, noun)
        gold = f"{d.pick(REL_PHRASES[kind])} {anchor}"
        opposite, *rest = CONTRADICTS[kind]
        order = [opposite, *d.walk(rest)]
        true = loosely_true(e, n, diag)
        groups = [self._wordings(REL_PHRASES[k], d, anchor) for k in order if k not in true]
        # too few with this anchor: the same contradicting kinds, false with respect to other neighbours
        for _, cat2, n2 in anchors[1:]:
            if len(groups) > NEGATIVES_PER_TYPE:
                break
            other = self._anchor_phrase(cat2, noun)
            if other == anchor:
                continue
            true2 = loosely_true(e, n2, diag)
            groups += [self._wordings(REL_PHRASES[k], d, other) for k in order if k not in true2][:2]
        if len(groups) < NEGATIVES_PER_TYPE:
            return None
        return gold, groups, False

    # ------------------------------------------------------------ scene

    def _scene(self, entity: Entity, d: _Draws) -> _Scene:
        table = self.scenes.scenes
        if entity.scene:
            name = _norm_name(entity.scene.replace("/", " / ").split("/")[-1])
            info = table.get(name)
            return _Scene(name, info.indoor if info else None, frozenset({name}) if info else frozenset())
        votes: dict[str, float] = {}
        tax = self.taxonomy
        for category in (entity.category, *(nb.category for nb in entity.neighbours)):
            key = self._resolve(category)
            for s, v in self.scenes.votes.get(key, {}).items() if key else ():
                votes[s] = votes.get(s, 0.0) + v
        if not votes:
            raise _Reject(f"no scene evidence: no known category among {entity.category!r} and its neighbours")
        best = max(votes.values())
        evidence = frozenset(s for s, v in votes.items() if v >= 0.5 * best)
        winners = sorted(s for s, v in votes.items() if v == best)
        if best >= 2.0 and len(winners) == 1:
            return _Scene(winners[0], table[winners[0]].indoor, evidence)
        indoor = sum(v for s, v in votes.items() if table[s].indoor)
        outdoor = sum(v for s, v in votes.items() if table[s].indoor is False)
        if indoor == outdoor:
            raise _Reject("no scene evidence: indoor and outdoor equally likely")
        return _Scene(None, indoor > outdoor, evidence)

    def _scene_words(self, name: str | None, indoor: bool | None, d: _Draws) -> tuple[str, str]:
        """(preposition, noun phrase) for a scene: ("on", "a sunny beach"); the fallback says indoor/outdoor."""
        r = d.next()
        if name is None:
            return "in", self.scenes.fallback["indoor" if indoor else "outdoor"]
        info = self.scenes.scenes.get(name)
        adjs = info.adjectives if info else ()
        words = f"{d.pick(adjs)} {name}" if adjs and r < P_SCENE_ADJ else name
        article = info.article if info else "a"
        np_ = f"the {words}" if article == "the" else f"{_article(words)} {words}"
        return (info.prep if info else "in"), np_

    def _scene_swaps(
        self, entity: Entity, key: str | None, scene: _Scene, framed: bool, gold: CaptionParts, taken: set[str], d: _Draws
    ) -> list[str]:
        table = self.scenes.scenes
        blocked = set(scene.evidence)
        if scene.name:
            blocked.add(scene.name)
            blocked |= table[scene.name].near if scene.name in table else set()
        for s in list(blocked):
            if s in table:
                blocked |= table[s].near
        candidates = [s for s in self.scenes.names if s not in blocked]
        if scene.name is None:  # the gold only says indoor/outdoor: swap to the other kind
            candidates = [s for s in candidates if table[s].indoor is (not scene.indoor)]
        elif scene.indoor is not None and scene.name not in table:
            candidates = [s for s in candidates if table[s].indoor is not scene.indoor]
        plausible = [s for s in candidates if key in table[s].objects]
        others = [s for s in candidates if key not in table[s].objects]
        ordered = itertools.chain(d.walk(plausible), d.walk(others))
        phrases = (self._scene_words(s, table[s].indoor, d) for s in ordered)
        phrases = (np_ if framed else f"{prep} {np_}" for prep, np_ in phrases)
        return self._take(gold, gold.text, "scene", phrases, taken, "scene swaps")

    # ------------------------------------------------------------ shared

    @staticmethod
    def _take(
        gold: CaptionParts, gold_text: str, part: str, values: Iterable[str | tuple[str, ...]], taken: set[str], what: str
    ) -> list[str]:
        """The first 3 values that make a distinct negative of fair length, as full caption texts.

        A value may be a tuple of alternative wordings of one meaning: at most one of them is used.
        Only `part` changes, so distinctness and length are decided on the part alone (fast); `taken`
        holds the normalised parts already used, per part kind.
        """
        gold_value = getattr(gold, part)
        gold_len = len(gold_value)
        tolerance = max(filters.LENGTH_ABS_TOL, filters.LENGTH_REL_TOL * len(gold_text))
        # gold.replace(part, value).text is prefix + value + suffix (parts are non-empty and stripped)
        prefix = {"object": "", "relation": f"{gold.object} ", "scene": f"{gold.object} {gold.relation} "}[part]
        suffix = {"object": f" {gold.relation} {gold.scene}", "relation": f" {gold.scene}", "scene": ""}[part]
        texts: list[str] = []
        for group in values:
            for value in (group,) if isinstance(group, str) else group:
                key = f"{part}\x1f{value.lower()}"
                if key in taken or abs(len(value) - gold_len) > tolerance:
                    continue
                taken.add(key)
                texts.append(prefix + value + suffix)
                break
            if len(texts) == NEGATIVES_PER_TYPE:
                return texts
        raise _Reject(f"too few {what}: {len(texts)}")


@lru_cache(maxsize=1)
def _default_taxonomy() -> Taxonomy:
    return Taxonomy.load()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The offline generator has no options of its own (seed and region kind come from the CLI)."""


def from_args(args: argparse.Namespace) -> OfflineGenerator:
    return OfflineGenerator(seed=int(getattr(args, "seed", 0) or 0), region_kind=getattr(args, "region_kind", None) or "box")
