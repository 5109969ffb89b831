"""One entity's picture as the generator sees it: the entity and its neighbours as Items, grouped by concept."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from scar.generate.offline.geometry import Item
from scar.generate.taxonomy import Concept, Taxonomy
from scar.generate.words import head, norm_name
from scar.schema import Entity


@dataclass
class Picture:
    entity: Item
    concept: Concept | None
    width: float
    height: float
    items: list[Item]  # the neighbours with a usable box
    concepts: list[Concept | None]  # per item
    present: frozenset[str]  # concept keys (or raw names) of everything in the picture, entity included
    blocked: frozenset[str] = field(default=frozenset())  # keys related to anything in the picture

    @property
    def diag(self) -> float:
        return math.hypot(self.width, self.height)

    def instances_of(self, key: str, related: frozenset[str]) -> list[Item]:
        """Items whose concept may be the same thing as `key` (related keys), entity excluded."""
        return [it for it, c in zip(self.items, self.concepts) if (c.key if c else norm_name(it.category)) in related]


class PictureBuilder:
    """Turns an Entity into a Picture, caching per category name what the taxonomy says."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._concepts: dict[str, Concept | None] = {}
        self._related: dict[str, frozenset[str]] = {}

    def concept(self, category: str) -> Concept | None:
        try:
            return self._concepts[category]
        except KeyError:
            c = self._concepts[category] = self.taxonomy.concept(category)
            return c

    def key(self, category: str) -> str:
        c = self.concept(category)
        return c.key if c else norm_name(category)

    def related(self, key: str) -> frozenset[str]:
        """Keys that may name the same thing as this key (itself included)."""
        r = self._related.get(key)
        if r is None:
            r = self._related[key] = self.taxonomy.related.get(key, frozenset()) | {key, head(key)}
        return r

    def role(self, category: str) -> str:
        c = self.concept(category)
        if c is None:
            return "thing"
        return c.role

    def build(self, entity: Entity) -> Picture:
        concept = self.concept(entity.category)
        e = Item(entity.category, self.role(entity.category), entity.region.box_xyxy)
        items, concepts = [], []
        for nb in entity.neighbours:
            x, y, w, h = nb.box_xywh
            if w <= 0 or h <= 0:
                continue
            items.append(Item(nb.category, self.role(nb.category), (x, y, x + w, y + h)))
            concepts.append(self.concept(nb.category))
        present = {self.key(entity.category), *(c.key if c else norm_name(it.category) for it, c in zip(items, concepts))}
        blocked: set[str] = set()
        for k in present:
            blocked |= self.related(k)
        return Picture(e, concept, float(entity.image_width), float(entity.image_height), items, concepts,
                       frozenset(present), frozenset(blocked))  # fmt: skip
