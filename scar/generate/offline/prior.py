"""How often each kind of object (and scene) is a gold in this build: the distribution swaps are drawn from.

A swap a text-only model cannot spot names things as common as the golds it stands beside: if gold
objects are a person a third of the time, swapped-in objects must be too, or "a person ..." marks
the gold. The source's annotations give the category counts before any caption is written (the
pipeline passes them on, see `OfflineGenerator.set_prior`); scene counts come from the source's scene
labels where it has them, else from the counts of each scene's cue categories. Without a prior the
generator falls back to the scene table and WordNet word frequencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from scar.generate.offline.scenes import NEUTRAL_NAMES, SceneTable, SideOdds
from scar.generate.taxonomy import Taxonomy
from scar.generate.words import norm_name


MIN_AVAILABILITY = 0.1


@dataclass(frozen=True)
class Prior:
    objects: Mapping[str, float]  # concept key -> sampling weight (share of golds / how often it can be a swap)
    scenes: Mapping[str, float]  # table scene or neutral phrase -> sampling weight
    sides: SideOdds | None = None  # how the build's pictures say each category leans indoor or outdoor

    @staticmethod
    def build(
        taxonomy: Taxonomy,
        scenes: SceneTable,
        category_counts: Mapping[str, int],
        scene_counts: Mapping[str, int] | None = None,
        images: Iterable[Iterable[str]] | None = None,
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
        if images is not None:
            resolved: dict[str, str | None] = {}
            for names in images:
                keys = set()
                for n in names:
                    k = resolved[n] if n in resolved else resolved.setdefault(n, taxonomy.resolve(n))
                    if k:
                        keys.add(k)
                keyed.append(sorted(keys))
        if keyed:
            inside: dict[str, int] = {}
            relevant = {k: taxonomy.related.get(k, frozenset()) & objects.keys() | {k} for k in {k for ks in keyed for k in ks}}
            for ks in keyed:
                for k in set().union(*(relevant[k] for k in ks)) if ks else ():
                    inside[k] = inside.get(k, 0) + 1
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
        return Prior(objects, shares, sides)

    def to_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"objects": dict(self.objects), "scenes": dict(self.scenes)}
        if self.sides is not None:
            state["sides"] = {"log_prior": self.sides.log_prior, "llr": dict(self.sides.llr)}
        return state

    @staticmethod
    def from_state(state: Mapping[str, Any]) -> "Prior":
        sides = state.get("sides")
        return Prior(dict(state["objects"]), dict(state["scenes"]), SideOdds(sides["log_prior"], dict(sides["llr"])) if sides else None)
