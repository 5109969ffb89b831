"""An independent check that a gold relation is true of the boxes (the tests' own reading, not the generator's).

Deliberately simple: "left of" means the entity's centre is left of the anchor's and the boxes barely
overlap along x; "above" means its centre is higher; "on the grass" means its feet are within the
grass region; "the grass under the dog" means the dog's feet are within the grass region; frame
relations read the entity's centre in the picture. Relations that make no sense for the anchor
("behind the floor", "on top of the man", "on top of the sky") fail whatever the boxes say.
"""

from __future__ import annotations

from scar.core.schema import Sample, xywh_to_xyxy
from scar.generate.rules import relation_class
from scar.generate.taxonomy import default_taxonomy

Box = tuple[float, float, float, float]
GROUND = {"ground"}
OVERHEAD = {"overhead"}
SUPPORTS = {"surface", "carrier", "ground"}
THINGS = {"thing", "surface", "carrier", "part"}


def _role(category: str) -> str:
    c = default_taxonomy().concept(category)
    return c.role if c else "thing"


def _display(category: str) -> str:
    tax = default_taxonomy()
    key = tax.resolve(category)
    return tax.concepts[key].display if key else " ".join(category.lower().replace("_", " ").split())


def _cx(b: Box) -> float:
    return (b[0] + b[2]) / 2


def _cy(b: Box) -> float:
    return (b[1] + b[3]) / 2


def _holds(cls: str, wording: str, e: Box, e_role: str, a: Box, a_role: str) -> str | None:
    """None when the relation is true of the boxes, else why not."""
    ew, aw = e[2] - e[0], a[2] - a[0]
    if cls in ("left", "right"):
        if a_role in GROUND | OVERHEAD or e_role in GROUND | OVERHEAD:
            return "left/right of a ground or sky region"
        if cls == "left" and not (_cx(e) < _cx(a) and e[2] <= a[0] + 0.25 * min(ew, aw)):
            return "not clearly left"
        if cls == "right" and not (_cx(e) > _cx(a) and e[0] >= a[2] - 0.25 * min(ew, aw)):
            return "not clearly right"
        return None
    if cls == "up":
        if wording in ("on top of", "on") and a_role not in SUPPORTS:
            return f"'{wording}' something that supports nothing ({a_role})"
        if a_role in OVERHEAD:
            return "above or on the sky"
        if wording == "on" and a_role in GROUND:
            return None if a[1] <= e[3] <= a[3] + 2 else "feet not on the ground region"
        return None if _cy(e) < _cy(a) else "centre not higher"
    if cls == "down":
        if a_role in OVERHEAD:
            return None if e[3] > a[3] - 0.05 * (a[3] - a[1]) else "inside the sky, not under it"
        if e_role in GROUND and a_role in THINGS:  # "the grass under the dog": the dog stands on it
            return None if e[1] - 2 <= a[3] <= e[3] + 2 else "the thing does not stand on this ground"
        if a_role in GROUND:
            return "under a ground region"
        return None if _cy(e) > _cy(a) else "centre not lower"
    if cls in ("front", "behind"):
        if a_role in GROUND | OVERHEAD:
            return f"{cls} of a ground or sky region"
        if a_role == "backdrop" or e_role in {"backdrop"} | OVERHEAD:
            return None
        if cls == "front":
            return None if e[3] > a[3] else "not nearer (bottom not lower)"
        return None if e[3] < a[3] else "not farther (bottom not higher)"
    return f"unknown relation class {cls}"


def _frame(cls: str, e: Box, w: float, h: float) -> str | None:
    cx, cy = _cx(e) / w, _cy(e) / h
    ok = {
        "f_left": cx < 0.45, "f_right": cx > 0.55, "f_top": cy < 0.45, "f_bottom": cy > 0.55,
        "f_middle": 0.3 < cx < 0.7 and 0.3 < cy < 0.7, "f_top_left": cx < 0.45 and cy < 0.45,
        "f_top_right": cx > 0.55 and cy < 0.45, "f_bottom_left": cx < 0.45 and cy > 0.55, "f_bottom_right": cx > 0.55 and cy > 0.55,
    }  # fmt: skip
    return None if ok.get(cls, False) else f"{cls} but centre at ({cx:.2f}, {cy:.2f})"


def gold_relation_problem(sample: Sample) -> str | None:
    """Why the gold relation is not true of the entity's box and its neighbours' boxes (None: it is)."""
    e = sample.entity
    box = xywh_to_xyxy(e.region.box_xywh)
    relation = sample.gold.relation
    cls, anchor = relation_class(relation)
    where = f"{e.id}: {sample.gold_text!r}"
    if cls is None:
        return f"{where}: unknown relation wording"
    if cls.startswith("f_"):
        problem = _frame(cls, box, e.image_width, e.image_height)
        return f"{where}: {problem}" if problem else None
    wording = relation[: len(relation) - len(anchor)].strip()
    noun = anchor.removeprefix("the ").removeprefix("other ")
    candidates = [n for n in e.neighbours if _display(n.category) == noun]
    if not candidates:
        return f"{where}: no neighbour is a {noun!r}"
    reasons = []
    for n in candidates:
        why = _holds(cls, wording, box, _role(e.category), xywh_to_xyxy(n.box_xywh), _role(n.category))
        if why is None:
            return None
        reasons.append(why)
    return f"{where}: {reasons[0]}"
