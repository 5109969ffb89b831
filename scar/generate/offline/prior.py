"""How often each kind of object (and scene) is a gold in this build: the distribution swaps are drawn from.

A swap a text-only model cannot spot names things as common as the golds it stands beside: if gold
objects are a person a third of the time, swapped-in objects must be too, or "a person ..." marks
the gold. The source's annotations give the category counts before any caption is written (the
pipeline passes them on, see `OfflineGenerator.set_prior`); scene counts come from the source's scene
labels where it has them, else from the counts of each scene's cue categories. Without a prior the
generator falls back to the scene table and WordNet word frequencies.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

from scar.generate.offline.calibration import SwapFactors
from scar.generate.offline.scenes import NEUTRAL, NEUTRAL_NAMES, NoSceneEvidence, SceneChoice, SceneTable, SideOdds
from scar.generate.taxonomy import Taxonomy
from scar.generate.words import norm_name


MIN_AVAILABILITY = 0.1
MIN_SCENE_IMAGES = 3  # pictures of one scene before it gets its own object distribution
SCENE_PSEUDO_IMAGES = 4.0  # the build-wide distribution counts as this many pictures of every scene
PER_IMAGE_CAP = 5  # instances of one category counted per picture (a build keeps at most 5 entities a picture)


def scene_key(choice: SceneChoice) -> str | None:
    """The key of a scene choice in `Prior.objects_by_scene`: its name, else the neutral phrase's."""
    if choice.name is not None:
        return choice.name
    return NEUTRAL[choice.indoor] if choice.indoor is not None else None


@dataclass(frozen=True)
class Prior:
    objects: Mapping[str, float]  # concept key -> sampling weight (share of golds / how often it can be a swap)
    scenes: Mapping[str, float]  # table scene or neutral phrase -> sampling weight
    sides: SideOdds | None = None  # how the build's pictures say each category leans indoor or outdoor
    # scene key -> concept key -> sampling weight: what golds show in pictures of that scene (see scene_key)
    objects_by_scene: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    # per part, how much likelier each swap must be drawn than the above say (calibration.py)
    factors: SwapFactors | None = None

    @staticmethod
    def build(
        taxonomy: Taxonomy,
        scenes: SceneTable,
        category_counts: Mapping[str, int],
        scene_counts: Mapping[str, int] | None = None,
        images: Iterable[Iterable[str]] | None = None,
        image_scenes: Sequence[str | None] | None = None,
    ) -> "Prior":
        """Sampling weights: each kind of thing's share of the golds, divided by the share of pictures
        where it can be a swap at all (a person cannot be swapped into most pictures, for they show
        one): drawn with these weights, swaps are as common as golds overall. `images`: each image's
        category names; the scene inference then runs on every one of them, which gives the golds'
        scene distribution exactly (neutral phrases included) and where each scene cannot be a swap."""
        objects: dict[str, float] = {}
        for name, n in category_counts.items():
            key = taxonomy.resolve(name)
            if key is not None and n > 0 and not taxonomy.concepts[key].abstract:
                objects[key] = objects.get(key, 0.0) + float(n)
        total = sum(objects.values()) or 1.0
        objects = {k: v / total for k, v in objects.items()}
        keyed: list[list[str]] = []
        instances: list[dict[str, int]] = []  # per picture: concept key -> instances (capped)
        if images is not None:
            resolved: dict[str, str | None] = {}
            for names in images:
                counted: dict[str, int] = {}
                for n in names:
                    k = resolved[n] if n in resolved else resolved.setdefault(n, taxonomy.resolve(n))
                    if k:
                        counted[k] = min(counted.get(k, 0) + 1, PER_IMAGE_CAP)
                keyed.append(sorted(counted))
                instances.append(counted)
        if keyed:
            inside = _pictures_holding(taxonomy, objects, keyed)
            n_images = len(keyed)
            objects = {k: v / max(1.0 - inside.get(k, 0) / n_images, MIN_AVAILABILITY) for k, v in objects.items()}
        by_scene: dict[str, float] = {}
        excluded: dict[str, int] = {}
        if scene_counts:
            for label, n in scene_counts.items():
                name = scenes.aliases.get(norm_name(label.replace("/", " / ").split("/")[-1]))
                if name is not None:
                    by_scene[name] = by_scene.get(name, 0.0) + float(n)
        sides = None
        if keyed:
            counts, excluded, sides = scenes.gold_scene_counts(keyed)
            if scene_counts:
                excluded = {}  # labelled scenes: the labels, not the inference, say what each picture shows
            else:
                by_scene = {k: float(v) for k, v in counts.items()}
        if not by_scene:
            for sc in scenes.scenes.values():
                by_scene[sc.name] = sum(objects.get(k, 0.0) for k in sc.cues)
        total = sum(by_scene.values()) or 1.0
        floor = 0.002  # a scene the data never shows still gets a small weight
        n_images = len(keyed) or 1
        shares = {}
        for name in (*scenes.names, *NEUTRAL_NAMES):
            share = by_scene.get(name, 0.0) / total
            if name not in NEUTRAL_NAMES:
                share = max(share, floor)
            shares[name] = share / max(1.0 - excluded.get(name, 0) / n_images, MIN_AVAILABILITY)
        by_scene_objects = Prior._objects_by_scene(taxonomy, scenes, keyed, instances, image_scenes, sides, objects)
        return Prior(objects, shares, sides, by_scene_objects)

    @staticmethod
    def _objects_by_scene(
        taxonomy: Taxonomy,
        scenes: SceneTable,
        keyed: list[list[str]],
        instances: list[dict[str, int]],
        image_scenes: Sequence[str | None] | None,
        sides: SideOdds | None,
        objects: Mapping[str, float],
    ) -> dict[str, dict[str, float]]:
        """Per scene with enough pictures: each kind of thing's share of the golds in pictures of that
        scene, divided by how often it can be a swap there. Swapped-in objects drawn from it are as
        common in that scene as gold objects are, so "an eye ... in a kitchen" cannot appear unless
        golds say it, and no object-scene pairing tells a text-only model which caption is the gold."""
        if not keyed:
            return {}
        labels = list(image_scenes) if image_scenes is not None and len(image_scenes) == len(keyed) else [None] * len(keyed)
        cache: dict[tuple[str | None, tuple[str, ...]], str | None] = {}
        groups: dict[str, list[int]] = {}
        for index, (label, keys) in enumerate(zip(labels, keyed)):
            memo = (label, tuple(keys))
            if memo not in cache:
                try:
                    cache[memo] = scene_key(scenes.choose(label, keys, sides))
                except NoSceneEvidence:
                    cache[memo] = None
            key = cache[memo]
            if key is not None:
                groups.setdefault(key, []).append(index)
        out: dict[str, dict[str, float]] = {}
        for key in sorted(groups):
            members = groups[key]
            if len(members) < MIN_SCENE_IMAGES:
                continue
            counts: dict[str, float] = {}
            for i in members:
                for k in keyed[i]:
                    if k in objects:
                        counts[k] = counts.get(k, 0.0) + instances[i][k]
            inside = _pictures_holding(taxonomy, objects, [keyed[i] for i in members])
            total = sum(counts[k] for k in sorted(counts)) or 1.0
            n = len(members)
            # shrunk towards the build-wide shares of the things this scene shows, so that a scene seen in
            # a few pictures does not swing on one of them
            seen_total = sum(objects[k] for k in sorted(counts)) or 1.0
            blend = SCENE_PSEUDO_IMAGES / (n + SCENE_PSEUDO_IMAGES)
            out[key] = {
                k: round(((1 - blend) * counts[k] / total + blend * objects[k] / seen_total)
                         / max(1.0 - inside.get(k, 0) / n, MIN_AVAILABILITY), 12)
                for k in sorted(counts)
            }  # fmt: skip
        return out

    def with_factors(
        self,
        factors: Mapping[str, Mapping[str, float]],
        object_shares: Mapping[str, Mapping[str, tuple[float, float]]],
        residual: Mapping[str, Mapping[str, float]] | None = None,
    ) -> "Prior":
        return replace(self, factors=SwapFactors(factors, object_shares, residual or {}))

    def to_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"objects": dict(self.objects), "scenes": dict(self.scenes)}
        if self.sides is not None:
            state["sides"] = {"log_prior": self.sides.log_prior, "llr": dict(self.sides.llr)}
        if self.objects_by_scene:
            state["objects_by_scene"] = {k: dict(v) for k, v in self.objects_by_scene.items()}
        if self.factors is not None:
            state["factors"] = self.factors.to_state()
        # workers compare priors by this digest instead of re-serialising the whole state per batch
        state["digest"] = hashlib.sha256(json.dumps(state, sort_keys=True).encode("utf-8")).hexdigest()
        return state

    @staticmethod
    def from_state(state: Mapping[str, Any]) -> "Prior":
        sides = state.get("sides")
        return Prior(
            dict(state["objects"]),
            dict(state["scenes"]),
            SideOdds(sides["log_prior"], dict(sides["llr"])) if sides else None,
            {k: dict(v) for k, v in (state.get("objects_by_scene") or {}).items()},
            SwapFactors.from_state(state.get("factors")),
        )


def _pictures_holding(taxonomy: Taxonomy, objects: Mapping[str, float], keyed: Iterable[Sequence[str]]) -> dict[str, int]:
    """Per concept of `objects` (or of a picture), in how many pictures it cannot be a swap: the picture
    shows it or something that may be the same thing. Integer counts: set order does not matter."""
    inside: dict[str, int] = {}
    relevant: dict[str, frozenset[str]] = {}
    for keys in keyed:
        held: set[str] = set()
        for k in keys:
            if k not in relevant:
                relevant[k] = frozenset(taxonomy.related.get(k, frozenset()) & objects.keys() | {k})
            held |= relevant[k]
        for k in held:
            inside[k] = inside.get(k, 0) + 1
    return inside
