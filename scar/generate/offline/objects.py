"""The object part: the gold noun phrase, and object swaps a text-only model cannot tell from the gold.

Gold: the category's wording (a noun outside the taxonomy keeps its own words), sometimes with a
colour or size the source gives, when that colour suits the kind of thing.
Swaps are drawn from the distribution gold objects come from. First other things in the same
picture, when the caption is false for every instance of them ("a bowl to the left of the cup" when
no bowl is left of the cup): they are exactly as common, and as plausible in that scene and relation,
as gold objects. Then things plausible in the scene but absent from the picture. A swap never names
something that may be the gold object (scar.generate.rules), keeps the layout role (a thing for a
thing, a ground for a ground: "the sand" for "the grass") and takes the gold's colour only if it can
have it ("a red bus", never "a silver window").
"""

from __future__ import annotations

from typing import Iterator, Sequence

from scar.core.schema import Entity
from scar.generate.offline.calibration import Keyed
from scar.generate.offline.draws import Draws, WeightedPool
from scar.generate.offline.geometry import Item, frame_holds, holds, kind_suits
from scar.generate.offline.picture import Picture, PictureBuilder
from scar.generate.offline.pools import ROLE_CLASS, SAME_CLASS_BOOST, SwapPool
from scar.generate.taxonomy import Concept
from scar.generate.words import COLOUR_WORDS, COLOURS_OF_CLASS, SIZE_WORDS, head, noun_phrase

P_COLOUR = 0.6
P_SIZE = 0.3
PRESENT_BOOST = 1.0  # a thing in the same picture weighs as much as one the scene merely allows


def modifiers(entity: Entity, noun: str, concept: Concept | None, d: Draws) -> tuple[str, ...]:
    """Colour and size words the source gives for the entity (attributes, or words before its noun in its texts)."""
    colour = size = None
    for a in entity.attributes:
        a = a.lower().strip()
        if a in COLOUR_WORDS and colour is None:
            colour = "grey" if a == "gray" else a
        elif a in SIZE_WORDS and size is None:
            size = a
    if (colour is None or size is None) and entity.texts:
        noun_head = head(noun)
        for text in entity.texts:
            words = text.lower().replace(",", " ").split()
            if noun_head not in words:
                continue
            # only the words right before the first mention describe this thing: in "cup next to the white
            # cup" the white one is another cup
            i = words.index(noun_head) - 1
            while i >= 0 and (words[i] in COLOUR_WORDS or words[i] in SIZE_WORDS):
                b = words[i]
                if b in COLOUR_WORDS and colour is None:
                    colour = "grey" if b == "gray" else b
                elif b in SIZE_WORDS and size is None:
                    size = b
                i -= 1
    out = []
    r_size, r_colour = d.next(), d.next()
    if size and r_size < P_SIZE:
        out.append(size)
    if colour and (concept is None or concept.colour != "none") and r_colour < P_COLOUR:
        out.append(colour)
    return tuple(out)


def takes_colours(concept: Concept | None, mods: Sequence[str]) -> bool:
    colours = [m for m in mods if m in COLOUR_WORDS]
    if not colours:
        return True
    allowed = COLOURS_OF_CLASS.get(concept.colour if concept else "any", COLOUR_WORDS)
    return all(c in allowed for c in colours)


class Objects:
    def __init__(self, pictures: PictureBuilder) -> None:
        self.pictures = pictures

    def swaps(
        self, pic: Picture, relation: tuple[str, Item] | str | None, mods: tuple[str, ...], absent: SwapPool, d: Draws
    ) -> Iterator[str]:
        """Object phrases that make the caption false. `relation`: (kind, anchor) of the gold relation,
        or the frame kind ("f_left") when the relation is a frame one."""
        e = pic.entity
        role_class = ROLE_CLASS.get(e.role, "thing")
        skip = self.pictures.info(e.category).related
        anchor = relation[1] if isinstance(relation, tuple) else None
        if anchor is not None:
            skip = skip | self.pictures.info(anchor.category).related
        kind = relation[0] if isinstance(relation, tuple) else None
        memo_key = ("objects", anchor.category if anchor is not None else None)
        cached = pic.memo.get(memo_key)
        if cached is None:
            present: dict[str, Concept] = {}
            gold_is_part = bool(pic.concept and pic.concept.whole)
            for info in pic.infos:
                c = info.concept
                if c is None or (c.whole and not gold_is_part):
                    continue  # a part (a hand, glasses) is swapped in only for a part
                if c.key not in skip and not c.abstract and c.key not in present:
                    present[c.key] = c
            # as often as golds show each kind of thing; the gold's own layout class (a ground for a ground) likelier
            here = WeightedPool(
                list(present.values()),
                [absent.weight(k) * PRESENT_BOOST * (SAME_CLASS_BOOST if ROLE_CLASS.get(c.role) == role_class else 1.0)
                 for k, c in present.items()],
            )  # fmt: skip
            cached = pic.memo[memo_key] = (present, here)
        present, here = cached  # type: ignore[misc]
        for c in absent.for_class(role_class).order(d, first=here):  # checks run lazily, only for swaps offered
            if c.key in skip or (c.key not in present and (c.key in pic.blocked or self.whole_present(pic, c))):
                continue
            if anchor is not None and not kind_suits(kind, c.role, anchor.role):  # type: ignore[arg-type]
                continue
            if takes_colours(c, mods) and (c.key not in present or self._false_for_all(pic, c, relation)):
                yield Keyed(self.phrase(c, mods), c.key)

    def whole_present(self, pic: Picture, c: Concept) -> bool:
        """A part whose whole is in the picture may be there unannotated (a man's hand): no absent swap."""
        return bool(c.whole) and bool(self.pictures.taxonomy.wholes(c.key) & pic.present)

    def _false_for_all(self, pic: Picture, c: Concept, relation: tuple[str, Item] | str | None) -> bool:
        instances = pic.instances_of(self.pictures.related(c.key))
        if isinstance(relation, str):
            return all(relation not in frame_holds(i.box, pic.width, pic.height) for i in instances)
        if relation is None:
            return False
        kind, anchor = relation
        if not kind_suits(kind, c.role, anchor.role):
            return False
        if kind == "on" and anchor.role == "surface" and any(i.area >= anchor.area for i in instances):
            return False  # a refrigerator is no swap for a cup on the table
        return all(i is anchor or not holds(kind, i, anchor) for i in instances)

    @staticmethod
    def phrase(c: Concept, mods: Sequence[str]) -> str:
        kept = tuple(m for m in mods if m in SIZE_WORDS or c.colour != "none")
        return noun_phrase(c.display, c.det, kept)
