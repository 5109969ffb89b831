"""The relation part: a gold relation true by geometry, and relation swaps that are false yet a priori as likely.

Gold. Every neighbour that is clearly placed relative to the entity offers its relation kinds (see
geometry.clear_kinds); kinds whose opposite is just as plausible without the image come first (left /
right, then front / behind and above / below between things), then support relations (on the table,
on the grass, under the table), then what stuff regions do (the sky above, the grass under, the wall
behind). Without any anchor the entity's place in the frame is used ("on the left side of a beach").
Swaps, in order: the opposite kind about the same anchor when the opposite is as plausible a priori;
the same or the opposite kind about another thing in the picture, false for every instance of it;
the same kind about a thing plausible in the scene but absent from the picture ("the sky above the
bus" when there is no bus). A swap is never a synonym of the gold (scar.generate.rules) and no two
swaps mean the same.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Callable, Iterator

from scar.generate.offline.calibration import Keyed
from scar.generate.offline.draws import Draws, WeightedPool
from scar.generate.offline.geometry import OPPOSITE, Item, clear_kinds, contains, frame_holds, frame_kind, holds, kind_suits
from scar.generate.offline.picture import Picture, PictureBuilder
from scar.generate.offline.pools import SwapPool
from scar.generate.rules import RELATION_CLASSES
from scar.generate.taxonomy import Concept

Group = tuple[str, ...]  # alternative wordings of one meaning; at most one is used

WORDINGS: dict[str, tuple[str, ...]] = {
    "left": ("to the left of", "left of"),
    "right": ("to the right of", "right of"),
    "above": ("above", "over"),
    "below": ("below", "beneath"),
    "front": ("in front of",),
    "behind": ("behind",),
}
FRAME_WORDINGS = {k: v[:2] for k, v in RELATION_CLASSES.items() if k.startswith("f_")}
FRAME_MIRROR = {
    "f_left": "f_right", "f_right": "f_left", "f_top_left": "f_top_right", "f_top_right": "f_top_left",
    "f_bottom_left": "f_bottom_right", "f_bottom_right": "f_bottom_left",
}  # fmt: skip
FRAME_CONTRADICTS: dict[str, tuple[str, ...]] = {
    "f_left": ("f_right", "f_top_right", "f_bottom_right", "f_middle"),
    "f_right": ("f_left", "f_top_left", "f_bottom_left", "f_middle"),
    "f_top": ("f_bottom", "f_bottom_left", "f_bottom_right", "f_middle"),
    "f_bottom": ("f_top", "f_top_left", "f_top_right", "f_middle"),
    "f_middle": ("f_top_left", "f_top_right", "f_bottom_left", "f_bottom_right", "f_left", "f_right"),
    "f_top_left": ("f_top_right", "f_bottom_right", "f_right", "f_bottom", "f_bottom_left", "f_middle"),
    "f_top_right": ("f_top_left", "f_bottom_left", "f_left", "f_bottom", "f_bottom_right", "f_middle"),
    "f_bottom_left": ("f_bottom_right", "f_top_right", "f_right", "f_top", "f_top_left", "f_middle"),
    "f_bottom_right": ("f_bottom_left", "f_top_left", "f_left", "f_top", "f_top_right", "f_middle"),
}
MAX_ANCHORS = 8
P_SECOND_ANCHOR = 0.3  # variety: sometimes the second-best anchor of the best tier


def wordings(kind: str, e_role: str, n_role: str) -> tuple[str, ...]:
    if kind == "on":
        return ("on top of", "on") if n_role == "surface" else ("on",)
    if kind == "under":
        if e_role == "ground":
            return ("under", "beneath")
        return ("under",) if n_role == "overhead" else ("under", "underneath")
    return WORDINGS[kind]


def tier(kind: str, e: Item, n: Item) -> int:
    """How a priori guessable the kind is between these two (0 = not at all: its opposite is as likely)."""
    if kind in ("left", "right"):
        return 0
    if kind in ("front", "behind", "above", "below") and e.is_thing and n.is_thing:
        return 1
    if kind in ("on", "under") and e.is_thing:
        return 2
    return 3 if n.is_thing else 4  # a stuff region: better said about a thing than about other stuff


def mirrored(kind: str, e: Item, n: Item) -> bool:
    """The opposite kind is as plausible without the image (left / right of anything; front / behind,
    above / below between two things)."""
    return tier(kind, e, n) <= 1


@dataclass
class RelationChoice:
    text: str  # the gold relation part, e.g. "to the left of the bench"
    framed: bool  # a frame relation: the scene follows as its noun ("on the left side of a beach")
    swaps: Iterator[Group]
    kind: str  # a relation kind, or a frame kind ("f_left")
    anchor: Item | None


class Relations:
    def __init__(self, pictures: PictureBuilder) -> None:
        self.pictures = pictures

    def anchor_phrase(self, item_or_concept: Item | Concept, noun: str) -> str:
        if isinstance(item_or_concept, Concept):
            name = item_or_concept.display
        else:
            c = self.pictures.concept(item_or_concept.category)
            name = c.display if c else " ".join(item_or_concept.category.lower().replace("_", " ").split())
        return f"the other {name}" if name == noun else f"the {name}"

    def options(
        self, pic: Picture, noun: str, anchor_pool: Callable[[str], SwapPool], p_frame: float, d: Draws,
        stuff_frames: bool = True,
    ) -> Iterator[RelationChoice]:
        """Gold relations in preference order, each with its lazy swaps; `anchor_pool(kind)`: the things a swap
        about another anchor is drawn from, with their weights, for a relation of that kind.
        `stuff_frames` False: ground and overhead stuff gets no frame relation ("the sky in the upper
        part of a farm" is where such stuff always is; its swaps "at the bottom" are false by their words)."""
        e = pic.entity
        anchors = []
        tiny = 0.002 * pic.width * pic.height
        diag = pic.diag
        ex0, ey0, ex1, ey1 = e.box
        plain = e.role == "thing"
        own = self.pictures.info(e.category).related
        for i, it in enumerate(pic.items):
            if self.pictures.info(it.category).key in own:
                # "a person left of the other person": the anchor tells the object, so an object swap
                # ("a bird left of the other person") would be false by its words alone
                continue
            nx0, ny0, nx1, ny1 = it.box
            gx = max(0.0, nx0 - ex1, ex0 - nx1)
            gy = max(0.0, ny0 - ey1, ey0 - ny1)
            g = (gx * gx + gy * gy) ** 0.5
            if g == 0 and plain and it.role == "thing" and (contains(it, e) or contains(e, it)):
                continue  # one box inside the other: no relation a viewer could check
            anchors.append((g / diag + (0.1 if it.area < tiny else 0.0), i, it))
        options = []
        for rank, (_, _, it) in enumerate(heapq.nsmallest(MAX_ANCHORS, anchors)):
            for kind in clear_kinds(e, it):
                options.append((tier(kind, e, it), rank, kind, it))
        options.sort(key=lambda t: (t[0], t[1]))
        if len(options) > 1 and options[1][0] == options[0][0] and d.next() < P_SECOND_ANCHOR:
            options[0], options[1] = options[1], options[0]
        frame_first = e.is_thing and d.next() < p_frame
        framed = stuff_frames or e.role not in ("overhead", "ground")
        if framed and (frame_first or not options):
            yield self._frame(pic, d)
        for _, _, kind, it in options:
            yield self._neighbour(pic, kind, it, noun, anchor_pool(kind), d)
        if framed and options and not frame_first:
            yield self._frame(pic, d)

    def _neighbour(self, pic: Picture, kind: str, anchor: Item, noun: str, absent: SwapPool, d: Draws) -> RelationChoice:
        e = pic.entity
        phrase = self.anchor_phrase(anchor, noun)
        gold = f"{d.pick(wordings(kind, e.role, anchor.role))} {phrase}"
        return RelationChoice(gold, False, self._swaps(pic, kind, anchor, noun, absent, d), kind, anchor)

    def _swaps(self, pic: Picture, kind: str, anchor: Item, noun: str, absent: SwapPool, d: Draws) -> Iterator[Group]:
        e = pic.entity
        opposite = OPPOSITE.get(kind)
        if opposite and mirrored(kind, e, anchor) and not holds(opposite, e, anchor):
            yield self._group(opposite, e.role, anchor.role, self.anchor_phrase(anchor, noun), d, self.pictures.info(anchor.category).key)
        # never a thing of the entity's own kind: golds do not name one ("the other person", see options)
        skip = self.pictures.info(anchor.category).related | self.pictures.info(e.category).related
        memo_key = ("anchors", anchor.category, kind)  # the weights depend on the kind (calibration.py)
        pool = pic.memo.get(memo_key)
        if pool is None:
            concepts = self.pictures.taxonomy.concepts
            anchor_is_part = bool(getattr(self.pictures.concept(anchor.category), "whole", ()))
            # golds seldom name a part as the anchor (small and inside its whole): swaps do not either
            keys = [k for k in pic.by_key if k not in skip and (anchor_is_part or not (k in concepts and concepts[k].whole))]
            pool = pic.memo[memo_key] = WeightedPool(keys, [absent.weight(k) for k in keys])
        # things in the picture (keys) and things it lacks (concepts) in one weighted draw, as often as
        # golds name each kind of anchor; lazily: holds() runs only for anchors offered
        taxonomy = self.pictures.taxonomy
        for item in absent.plain.order(d, first=pool):  # type: ignore[arg-type]
            if isinstance(item, str):
                it = pic.by_key[item][0]
                same = pic.instances_of(self.pictures.related(item))
                for k in (kind, opposite if opposite and mirrored(kind, e, it) else None):
                    if k and kind_suits(k, e.role, it.role) and not any(holds(k, e, inst) for inst in same):
                        yield self._group(k, e.role, it.role, self.anchor_phrase(it, noun), d, item)
            elif item.key not in pic.blocked and kind_suits(kind, e.role, item.role) and not (item.whole and taxonomy.wholes(item.key) & pic.present):
                yield self._group(kind, e.role, item.role, self.anchor_phrase(item, noun), d, item.key)

    @staticmethod
    def _group(kind: str, e_role: str, n_role: str, anchor: str, d: Draws, anchor_key: str | None) -> Group:
        options = wordings(kind, e_role, n_role)
        start = int(d.next() * len(options)) % len(options)
        return tuple(Keyed(f"{w} {anchor}", anchor_key) for w in options[start:] + options[:start])

    def _frame(self, pic: Picture, d: Draws) -> RelationChoice:
        box, w, h = pic.entity.box, pic.width, pic.height
        kind = frame_kind(box, w, h)
        gold = d.pick(FRAME_WORDINGS[kind])
        true = frame_holds(box, w, h)
        mirror = FRAME_MIRROR.get(kind)
        rest = [k for k in FRAME_CONTRADICTS[kind] if k != mirror]
        order = ([mirror] if mirror else []) + list(d.walk(rest))

        def swaps() -> Iterator[Group]:
            for k in order:
                if k not in true:
                    options = FRAME_WORDINGS[k]
                    start = int(d.next() * len(options)) % len(options)
                    yield options[start:] + options[:start]

        return RelationChoice(gold, True, swaps(), kind, None)
