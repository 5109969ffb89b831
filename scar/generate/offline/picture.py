"""One entity's picture as the generator sees it: the entity and its neighbours as Items, grouped by concept."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from scar.core.schema import Entity
from scar.generate.offline.geometry import Item
from scar.generate.taxonomy import Concept, Taxonomy
from scar.generate.words import head, norm_name


@dataclass(frozen=True)
class CategoryInfo:
    """What the taxonomy says about one category name, looked up once per name."""

    concept: Concept | None
    key: str  # the concept key, or the normalised name for an unknown category
    role: str
    related: frozenset[str]  # keys that may name the same thing (itself included)


@dataclass
class Picture:
    entity: Item
    concept: Concept | None
    width: float
    height: float
    items: list[Item]  # the neighbours with a usable box
    infos: list[CategoryInfo]  # per item
    present: frozenset[str]  # concept keys (or raw names) of everything in the picture, entity included
    blocked: frozenset[str]  # keys related to anything in the picture
    by_key: dict[str, list[Item]] = field(default_factory=dict)
    memo: dict[object, object] = field(default_factory=dict)  # per-entity results the swap searches share

    @property
    def diag(self) -> float:
        return math.hypot(self.width, self.height)

    @property
    def concepts(self) -> list[Concept | None]:
        return [i.concept for i in self.infos]

    def instances_of(self, related: frozenset[str]) -> list[Item]:
        """Items whose concept may be the same thing as a key with these relatives (entity excluded)."""
        out: list[Item] = []
        for key, items in self.by_key.items():
            if key in related:
                out.extend(items)
        return out


class PictureBuilder:
    """Turns an Entity into a Picture, caching per category name what the taxonomy says."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._infos: dict[str, CategoryInfo] = {}
        self._blocked: dict[frozenset[str], frozenset[str]] = {}  # the entities of one image share it

    def info(self, category: str) -> CategoryInfo:
        found = self._infos.get(category)
        if found is None:
            c = self.taxonomy.concept(category)
            key = c.key if c else norm_name(category)
            related = self.taxonomy.related.get(key, frozenset()) | {key, head(key)}
            found = self._infos[category] = CategoryInfo(c, key, c.role if c else "thing", related)
        return found

    def concept(self, category: str) -> Concept | None:
        return self.info(category).concept

    def key(self, category: str) -> str:
        return self.info(category).key

    def related(self, key: str) -> frozenset[str]:
        """Keys that may name the same thing as this concept key (itself included)."""
        found = self._infos.get(f"\x00{key}")
        if found is None:
            related = self.taxonomy.related.get(key, frozenset()) | {key, head(key)}
            found = self._infos[f"\x00{key}"] = CategoryInfo(None, key, "thing", related)
        return found.related

    def build(self, entity: Entity) -> Picture:
        own = self.info(entity.category)
        e = Item(entity.category, own.role, entity.region.box_xyxy)
        items, infos = [], []
        by_key: dict[str, list[Item]] = {}
        for nb in entity.neighbours:
            x, y, w, h = nb.box_xywh
            if w <= 0 or h <= 0:
                continue
            info = self.info(nb.category)
            item = Item(nb.category, info.role, (x, y, x + w, y + h))
            items.append(item)
            infos.append(info)
            by_key.setdefault(info.key, []).append(item)
        present = frozenset({own.key, *by_key})
        blocked = self._blocked.get(present)
        if blocked is None:
            if len(self._blocked) > 4096:
                self._blocked.clear()
            union = set(own.related)
            for key in by_key:
                union |= self.related(key)
            blocked = self._blocked[present] = frozenset(union)
        return Picture(e, own.concept, float(entity.image_width), float(entity.image_height), items, infos, present,
                       blocked, by_key)  # fmt: skip
