"""Which spatial relations hold between two things in a picture, from their boxes and what they are.

Two readings of every relation kind:
  clearly(kind, e, n)  safe to say in a gold caption: the boxes leave no doubt, and the kind suits
                       what the two things are (a cup on a table, a dog on the grass, the sky above a
                       car; never "behind the floor" or "on top of the man");
  holds(kind, e, n)    could be said with some goodwill; a negative must be outside it.
Kinds: left, right, above, below (side by side or stacked things), on (resting on a surface or a
carrier, standing on the ground), under (beneath a surface, under the sky or a ceiling), front,
behind (overlapping things, nearer or farther; things in front of a wall).
Frame kinds place one thing in the picture ("on the left side of"), for entities without an anchor.
"""

from __future__ import annotations

Box = tuple[float, float, float, float]  # x0, y0, x1, y1

KINDS = ("left", "right", "above", "below", "on", "under", "front", "behind")
OPPOSITE = {"left": "right", "right": "left", "above": "below", "below": "above", "front": "behind", "behind": "front"}
THING_ROLES = frozenset({"thing", "surface", "carrier", "part"})
STUFF_ROLES = frozenset({"ground", "overhead", "backdrop"})


class Item:
    """Something in the picture: its category name, layout role and box (xyxy pixels), with the box's
    size and centre computed once (the relation tests read them thousands of times per entity)."""

    __slots__ = ("category", "role", "box", "w", "h", "cx", "cy", "area", "is_thing")

    def __init__(self, category: str, role: str, box: Box) -> None:
        self.category = category
        self.role = role  # thing | surface | carrier | part | ground | overhead | backdrop
        self.box = box
        self.w = box[2] - box[0]
        self.h = box[3] - box[1]
        self.cx = (box[0] + box[2]) / 2
        self.cy = (box[1] + box[3]) / 2
        self.area = self.w * self.h if self.w > 0 and self.h > 0 else 0.0
        self.is_thing = role in THING_ROLES

    def __repr__(self) -> str:
        return f"Item({self.category!r}, {self.role!r}, {self.box})"


def hoverlap(e: Item, n: Item) -> float:
    return min(e.box[2], n.box[2]) - max(e.box[0], n.box[0])


def voverlap(e: Item, n: Item) -> float:
    return min(e.box[3], n.box[3]) - max(e.box[1], n.box[1])


def inside_fraction(e: Item, n: Item) -> float:
    """Share of e's box inside n's box."""
    ov = max(hoverlap(e, n), 0.0) * max(voverlap(e, n), 0.0)
    return ov / e.area if e.area > 0 else 0.0


def gap(e: Item, n: Item) -> float:
    gx = max(0.0, n.box[0] - e.box[2], e.box[0] - n.box[2])
    gy = max(0.0, n.box[1] - e.box[3], e.box[1] - n.box[3])
    return (gx * gx + gy * gy) ** 0.5


def contains(outer: Item, inner: Item, frac: float = 0.9) -> bool:
    return inside_fraction(inner, outer) >= frac


# ---------------------------------------------------------------- clearly true (gold)


def _side(e: Item, n: Item) -> str | None:
    """left/right when the boxes sit side by side, clearly apart along x and not far apart along y."""
    if not (e.is_thing or e.role == "backdrop") or not (n.is_thing or n.role == "backdrop"):
        return None
    m = 0.15 * min(e.w, n.w)
    near_in_y = voverlap(e, n) > 0 or -voverlap(e, n) < 0.5 * max(e.h, n.h)
    if not near_in_y:
        return None
    if e.box[2] <= n.box[0] + m and e.cx < n.cx:
        return "left"
    if e.box[0] >= n.box[2] - m and e.cx > n.cx:
        return "right"
    return None


def _stacked(e: Item, n: Item) -> str | None:
    if not (e.is_thing and n.is_thing) or hoverlap(e, n) < 0.3 * min(e.w, n.w):
        return None
    m = 0.15 * min(e.h, n.h)
    if e.box[3] <= n.box[1] + m and e.cy < n.cy:
        return "above"
    if e.box[1] >= n.box[3] - m and e.cy > n.cy:
        return "below"
    return None


def rests_on(e: Item, n: Item) -> bool:
    """E stands or lies on N: a surface or carrier under E's bottom edge, or ground E's bottom is in."""
    if not e.is_thing or e.role == "part":
        return False
    if n.role in ("surface", "carrier"):
        tol = max(0.5 * n.h, 0.05 * e.h)
        return (
            e.w < 1.5 * n.w
            and n.box[0] <= e.cx <= n.box[2]
            and n.box[1] - 0.05 * max(n.h, e.h) <= e.box[3] <= n.box[1] + tol
            and e.box[1] < n.box[1] + 0.25 * n.h
        )
    if n.role == "ground":
        return n.box[1] + 0.02 * n.h <= e.box[3] <= n.box[3] + 2.0 and hoverlap(e, n) >= 0.5 * e.w
    return False


def _under_surface(e: Item, n: Item) -> bool:
    return (
        e.is_thing
        and n.role == "surface"
        and e.area < n.area
        and n.box[0] <= e.cx <= n.box[2]
        and e.box[1] > n.box[1] + 0.3 * n.h
        and e.box[3] >= n.box[3] - 0.1 * n.h
    )


def _under_overhead(e: Item, n: Item) -> bool:
    """A thing under the sky or a ceiling: it reaches below the region's lower edge (a kite inside the sky does not)."""
    return e.is_thing and n.role == "overhead" and e.box[3] > n.box[3] - 0.05 * n.h and hoverlap(e, n) > 0.5 * e.w


def _depth(e: Item, n: Item) -> str | None:
    """front/behind for overlapping things: the one whose bottom is lower is nearer the camera."""
    if e.is_thing and n.role == "backdrop" and inside_fraction(e, n) >= 0.5:
        return "front"
    if e.role == "backdrop" and n.is_thing and inside_fraction(n, e) >= 0.5:
        return "behind"
    if not (e.is_thing and n.is_thing) or e.role == "part" or n.role == "part":
        return None
    overlap = max(hoverlap(e, n), 0.0) * max(voverlap(e, n), 0.0)
    if overlap < 0.15 * min(e.area, n.area) or contains(n, e) or contains(e, n):
        return None
    m = 0.1 * max(e.h, n.h)
    if e.box[3] > n.box[3] + m:
        return "front"
    if e.box[3] < n.box[3] - m:
        return "behind"
    return None


def _stuff_relation(e: Item, n: Item) -> str | None:
    """A stuff region relative to something else: the sky above, the grass under, the wall behind."""
    if e.role == "overhead":
        if n.role != "overhead" and e.cy < n.cy and n.box[1] >= e.box[1] + 0.05 * e.h and hoverlap(e, n) > 0:
            return "above"
        return None
    if e.role == "ground":
        if n.is_thing and rests_on(n, e):
            return "under"
        if n.role in ("overhead", "backdrop") and e.cy > n.cy and e.box[3] >= n.box[3] and hoverlap(e, n) > 0:
            return "below"
        return None
    if e.role == "backdrop":
        if n.role == "ground" and e.cy < n.cy and e.box[1] <= n.box[1] and hoverlap(e, n) > 0:
            return "above"
        if n.role == "overhead" and e.cy > n.cy and e.box[3] >= n.box[3] and hoverlap(e, n) > 0:
            return "below"
    return None


def clear_kinds(e: Item, n: Item) -> list[str]:
    """The relation kinds that are clearly true of E relative to N, most image-dependent first."""
    out = []
    side = _side(e, n)
    if side:
        out.append(side)
    depth = _depth(e, n)
    if depth:
        out.append(depth)
    stacked = _stacked(e, n)
    if stacked and not rests_on(e, n):
        out.append(stacked)
    if rests_on(e, n):
        out.append("on")
    if _under_surface(e, n) or _under_overhead(e, n):
        out.append("under")
    if not e.is_thing:
        stuff = _stuff_relation(e, n)
        if stuff and stuff not in out:
            out.append(stuff)
    return out


# ---------------------------------------------------------------- could be true (negatives must avoid)


def holds(kind: str, e: Item, n: Item) -> bool:
    """Whether the relation could be said of E and N at all; a negative relation must make this False."""
    tx, ty = 0.1 * max(e.w, n.w), 0.1 * max(e.h, n.h)
    if kind == "left":
        return e.cx < n.cx + tx or e.box[0] < n.box[0] - 0.05 * n.w or not n.is_thing and n.role != "backdrop"
    if kind == "right":
        return e.cx > n.cx - tx or e.box[2] > n.box[2] + 0.05 * n.w or not n.is_thing and n.role != "backdrop"
    if kind == "above":
        return e.cy < n.cy + ty or e.box[1] < n.box[1] - 0.05 * n.h
    if kind == "below":
        return e.cy > n.cy - ty or e.box[3] > n.box[3] + 0.05 * n.h
    if kind == "on":
        if n.role == "ground":
            return e.box[3] >= n.box[1] - 0.1 * n.h and hoverlap(e, n) > 0
        return hoverlap(e, n) > 0 and n.box[1] - 0.25 * max(e.h, n.h) <= e.box[3] <= n.box[1] + 0.75 * n.h
    if kind == "under":
        if n.role == "overhead":
            return e.box[3] > n.box[1]
        if e.role == "ground":  # the ground under something: that thing's feet are within the ground's extent
            return hoverlap(e, n) > 0.2 * n.w and e.box[1] - 0.1 * e.h <= n.box[3] <= e.box[3] + 0.1 * e.h
        return hoverlap(e, n) > 0 and e.cy > n.cy - ty
    if kind == "front":
        if n.role == "backdrop":
            return inside_fraction(e, n) > 0.1
        return e.box[3] > n.box[3] - ty
    if kind == "behind":
        if e.role in ("backdrop", "overhead"):
            return inside_fraction(n, e) > 0.1
        return n.role in ("ground", "overhead") or e.box[3] < n.box[3] + ty
    raise ValueError(f"unknown relation kind {kind!r}")


def kind_suits(kind: str, e_role: str, n_role: str) -> bool:
    """Whether a relation kind makes sense at all between things of these roles (true or not):
    "a cup on top of the chair" does, "a cup behind the floor" or "the sky left of the grass" does not."""
    e_thing, n_thing = e_role in THING_ROLES, n_role in THING_ROLES
    if kind in ("left", "right"):
        return (e_thing or e_role == "backdrop") and (n_thing or n_role == "backdrop")
    if kind in ("above", "below"):
        if (e_thing or e_role == "backdrop") and (n_thing or n_role == "backdrop") and "part" not in (e_role, n_role):
            return e_thing or n_thing  # a bird above the building, a bench below the window
        return (e_role, n_role, kind) in _STUFF_VERTICAL
    if kind == "on":
        return e_thing and e_role != "part" and n_role in ("surface", "carrier", "ground")
    if kind == "under":
        return (e_thing and n_role in ("surface", "overhead")) or (e_role == "ground" and n_thing)
    if kind == "front":
        return e_thing and e_role != "part" and (n_thing or n_role == "backdrop") and n_role != "part"
    if kind == "behind":
        return (e_thing and n_thing and "part" not in (e_role, n_role)) or (e_role == "backdrop" and n_thing)
    return False


_STUFF_VERTICAL = frozenset(
    {("overhead", r, "above") for r in ("thing", "surface", "carrier", "part", "ground", "backdrop")}
    | {("ground", r, "below") for r in ("overhead", "backdrop")}
    | {("backdrop", "ground", "above"), ("backdrop", "overhead", "below")}
)


# ---------------------------------------------------------------- the frame


def frame_kind(e: Box, w: float, h: float) -> str:
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


def frame_holds(e: Box, w: float, h: float) -> frozenset[str]:
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
