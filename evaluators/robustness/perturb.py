"""One query's perturbed prompt per level, drawn from (seed, sample id, kind, level) alone.

Every draw takes its own generator, `scar.core.seeding.rng_for(seed, sample_id, kind, level)` (blake2b of
the strings, never Python's `hash`), so a prompt never depends on the order queries or levels are
visited, on the process, or on PYTHONHASHSEED. Every prompt lies inside the image and records what
it realised: a box its IoU with the true box, a mask its IoU with the true mask, a point whether it
is inside the mask and its distance to the mask's edge (positive inside, negative outside, px).

The region a point or mask level works on is the row's mask; a row without one (the official
SCaR-Eval files hold boxes only) uses the pixels of its box (`Region.mask_from` says which).

- Box noise (HQ-SAM `box_noise`): centre + U(-1,1)*(w/2, h/2)*s, size + U(-1,1)*(w, h)*s, cut to the
  image, redrawn until the IoU falls in the level's bin, at most `BOX_TRIES` times. Fallback (recorded
  as `method: "shrink"`): the true box shrunk about its centre to the bin's middle IoU, which is exact
  (a shrunk box of side factor f has IoU f^2) and inside the image.
- Erosion / dilation to a target mask IoU t: the mask pixels ranked by their Euclidean distance to the
  outside (erosion keeps the round(t*|M|) deepest ones) or the outside pixels by their distance to the
  mask (dilation adds the round(|M|*(1/t - 1)) nearest ones): morphological erosion / dilation with a
  disc, the last ring taken in part so the IoU hits the target; equal distances are ordered by the
  level's own draw. A mask too small to come within MASK_IOU_TOLERANCE of t, or one that cannot grow
  enough inside the image, gets no prompt at that level (the query is skipped there, with the reason).
- Partial: the largest 8-connected part when the mask has several and it holds at most 90% of the
  pixels, else one half (cut across its longer side at the median pixel, the half drawn).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from scipy import ndimage

from evaluators.robustness import geometry
from evaluators.robustness.geometry import Box, Rle
from evaluators.robustness.suite import BOX_TRIES, EDGE_PX, MASK_IOU_TOLERANCE, OUTSIDE_FRACTION, Level
from scar.core.seeding import rng_for

PARTIAL_MAX_SHARE = 0.9


@dataclass
class Region:
    """A query's true region, original-image pixels."""

    sample_id: str
    width: int
    height: int
    box: Box  # xyxy
    point: tuple[float, float] | None = None
    mask_rle: Rle | None = None

    @property
    def mask_from(self) -> str:
        return "mask" if self.mask_rle is not None else "box"

    @cached_property
    def mask(self) -> np.ndarray:
        if self.mask_rle is not None:
            return geometry.decode(self.mask_rle)
        return geometry.box_mask(self.box, self.width, self.height)

    @cached_property
    def rle(self) -> Rle:
        return self.mask_rle if self.mask_rle is not None else geometry.encode(self.mask)

    @cached_property
    def depth(self) -> np.ndarray:
        """Per pixel: distance to the nearest pixel outside the mask (the image border counts as outside)."""
        padded = np.pad(self.mask, 1, constant_values=False)
        return ndimage.distance_transform_edt(padded)[1:-1, 1:-1]

    @cached_property
    def gap(self) -> np.ndarray:
        """Per pixel: distance to the nearest mask pixel (0 on the mask)."""
        return ndimage.distance_transform_edt(~self.mask)

    @property
    def area(self) -> int:
        return int(np.count_nonzero(self.mask))


@dataclass(frozen=True)
class Prompt:
    """One perturbed prompt, or why a query has none at a level (`skipped`)."""

    kind: str
    level: str
    box: Box | None = None
    point: tuple[float, float] | None = None
    mask_rle: Rle | None = None
    iou: float | None = None  # box: IoU with the true box; mask: IoU with the true mask
    distance: float | None = None  # point: px to the mask's edge, + inside / - outside
    inside: bool | None = None  # point: on a mask pixel
    method: str = ""
    tries: int = 0
    skipped: str | None = None
    region_from: str = "mask"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "level": self.level}
        if self.box is not None:
            out["box"] = [round(v, 3) for v in self.box]
        if self.point is not None:
            out["point"] = [round(v, 3) for v in self.point]
        if self.mask_rle is not None:
            out["mask"] = {"size": list(self.mask_rle[0]), "counts": self.mask_rle[1]}
        for key in ("iou", "distance"):
            value = getattr(self, key)
            if value is not None:
                out[key] = round(float(value), 4)
        if self.inside is not None:
            out["inside"] = self.inside
        out["method"] = self.method
        if self.tries:
            out["tries"] = self.tries
        if self.skipped:
            out["skipped"] = self.skipped
        out["region_from"] = self.region_from
        return out | self.extra


def draw(region: Region, level: Level, seed: int) -> Prompt:
    """The prompt of `level` for `region` (see the module doc)."""
    rng = rng_for(seed, region.sample_id, level.kind, level.name)
    make = {"box": _box, "point": _point, "mask": _mask, "none": _none}[level.kind]
    return make(region, level, rng)


# ---------------------------------------------------------------- boxes


def _none(region: Region, level: Level, rng: np.random.Generator) -> Prompt:
    return Prompt("none", level.name, method="no prompt", region_from=region.mask_from)


def _box(region: Region, level: Level, rng: np.random.Generator) -> Prompt:
    true = region.box
    op = level.params.get("op")
    if level.is_clean:
        return Prompt("box", level.name, box=true, iou=1.0, method="true box", region_from="box")
    if op == "loose":
        grow = 1.0 + float(rng.uniform(level.params["lo"], level.params["hi"]))
        box = geometry.clip_box(_scaled(true, grow), region.width, region.height)
        return Prompt("box", level.name, box=box, iou=geometry.box_iou(box, true), method=f"grown x{grow:.3f}",
                      region_from="box")
    lo, hi, scale = float(level.params["lo"]), float(level.params["hi"]), float(level.params["scale"])
    x1, y1, x2, y2 = true
    cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    for tries in range(1, BOX_TRIES + 1):
        u = rng.uniform(-1.0, 1.0, size=4)
        ncx, ncy = cx + u[0] * w / 2 * scale, cy + u[1] * h / 2 * scale
        nw, nh = w + u[2] * w * scale, h + u[3] * h * scale
        box = geometry.clip_box((ncx - nw / 2, ncy - nh / 2, ncx + nw / 2, ncy + nh / 2), region.width, region.height)
        if not geometry.inside_image(box, region.width, region.height):
            continue
        iou = geometry.box_iou(box, true)
        if _in_bin(iou, lo, hi):
            return Prompt("box", level.name, box=box, iou=iou, method="box noise", tries=tries, region_from="box")
    middle = (lo + hi) / 2
    box = _scaled(true, math.sqrt(middle))
    return Prompt("box", level.name, box=box, iou=geometry.box_iou(box, true), method="shrink", tries=BOX_TRIES,
                  region_from="box")


def _in_bin(iou: float, lo: float, hi: float) -> bool:
    return lo <= iou <= hi if hi >= 1.0 else lo <= iou < hi


def _scaled(box: Box, factor: float) -> Box:
    x1, y1, x2, y2 = box
    cx, cy, hw, hh = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2 * factor, (y2 - y1) / 2 * factor
    return cx - hw, cy - hh, cx + hw, cy + hh


# ---------------------------------------------------------------- points


def _centre(flat_index: int, width: int) -> tuple[float, float]:
    row, col = divmod(int(flat_index), width)
    return col + 0.5, row + 0.5


def _point_prompt(region: Region, level: Level, point: tuple[float, float], method: str) -> Prompt:
    col = min(int(point[0]), region.width - 1)
    row = min(int(point[1]), region.height - 1)
    inside = bool(region.mask[row, col])
    distance = float(region.depth[row, col]) if inside else -float(region.gap[row, col])
    return Prompt("point", level.name, point=point, inside=inside, distance=distance, method=method,
                  region_from=region.mask_from)


def _point(region: Region, level: Level, rng: np.random.Generator) -> Prompt:
    op = level.params.get("op")
    width = region.width
    if op == "build":
        if region.point is not None and region.mask_rle is not None:
            return _point_prompt(region, level, region.point, "the build's point")
        deepest = int(np.argmax(region.depth))  # the first of the deepest pixels, as the build picks one
        return _point_prompt(region, level, _centre(deepest, width), "farthest from the edge")
    flat_mask = region.mask.ravel()
    if op == "interior":
        pool = np.flatnonzero(flat_mask)
        method = "uniform mask pixel"
    elif op == "edge":
        pool = np.flatnonzero(flat_mask & (region.depth.ravel() <= EDGE_PX))
        method = f"mask pixel within {EDGE_PX:g} px of the outside"
    elif op == "outside":
        reach = max(2.0, OUTSIDE_FRACTION * math.sqrt(region.area))
        gap = region.gap.ravel()
        pool = np.flatnonzero((gap > 0) & (gap <= reach))
        method = f"pixel 1-{reach:.1f} px outside the mask"
    else:
        raise ValueError(f"unknown point level {level.id}")
    if len(pool) == 0:
        why = "no pixel outside the mask (it covers the image)" if op == "outside" else "no mask pixel to draw from"
        return Prompt("point", level.name, skipped=why, region_from=region.mask_from)
    return _point_prompt(region, level, _centre(pool[int(rng.integers(len(pool)))], width), method)


# ---------------------------------------------------------------- masks


def _mask(region: Region, level: Level, rng: np.random.Generator) -> Prompt:
    op = level.params.get("op")
    true = region.mask
    source = region.mask_from
    if op == "exact":
        return Prompt("mask", level.name, mask_rle=region.rle, iou=1.0, method="true mask", region_from=source)
    if op == "partial":
        kept, how = _partial(true, rng)
        return _mask_prompt(level, kept, true, how, source)
    target = float(level.params["target"])
    area = region.area
    flat = true.ravel()
    if op == "erode":
        keep = round(target * area)
        if keep < 1 or abs(keep / area - target) > MASK_IOU_TOLERANCE:
            return Prompt("mask", level.name, skipped=f"mask too small to erode to IoU {target} +- {MASK_IOU_TOLERANCE}",
                          region_from=source, extra={"area": area})
        out = np.zeros_like(flat)
        out[_first(np.flatnonzero(flat), -region.depth.ravel(), keep, rng)] = True  # the deepest
        return _mask_prompt(level, out.reshape(true.shape), true, f"eroded: kept the {keep} deepest pixels", source)
    if op == "dilate":
        add = round(area * (1.0 / target - 1.0))
        pool = np.flatnonzero(~flat)
        if add > len(pool) or abs(area / (area + add) - target) > MASK_IOU_TOLERANCE:
            return Prompt("mask", level.name, skipped=f"mask cannot be dilated to IoU {target} +- {MASK_IOU_TOLERANCE} "
                          "(too small, or no room inside the image)", region_from=source, extra={"area": area})
        out = flat.copy()
        out[_first(pool, region.gap.ravel(), add, rng)] = True  # the nearest
        return _mask_prompt(level, out.reshape(true.shape), true, f"dilated: added the {add} nearest pixels", source)
    raise ValueError(f"unknown mask level {level.id}")


def _first(pool: np.ndarray, rank: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """The `count` pixels of `pool` with the smallest `rank`, equal ranks at the cut ordered by a draw.

    Only the pixels up to the cut's rank are sorted (the rest cannot be chosen)."""
    if count <= 0:
        return pool[:0]
    values = rank[pool]
    cut = np.partition(values, count - 1)[count - 1]
    near = pool[values <= cut]
    order = np.lexsort((rng.random(len(near)), rank[near]))
    return near[order[:count]]


def _mask_prompt(level: Level, mask: np.ndarray, true: np.ndarray, method: str, source: str) -> Prompt:
    return Prompt("mask", level.name, mask_rle=geometry.encode(mask), iou=geometry.mask_iou(mask, true),
                  method=method, region_from=source)


def _partial(mask: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    area = int(np.count_nonzero(mask))
    if count >= 2:
        sizes = np.bincount(labels.ravel())[1:]
        largest = int(np.argmax(sizes))  # the first of equal sizes
        if sizes[largest] <= PARTIAL_MAX_SHARE * area:
            return labels == largest + 1, f"largest of {count} parts"
    rows, cols = np.nonzero(mask)
    x1, y1, x2, y2 = geometry.mask_box(mask)
    if area < 2:
        return mask.copy(), "whole (a 1-pixel mask has no half)"
    axis_cols = (x2 - x1) >= (y2 - y1)
    coords = cols if axis_cols else rows
    cut = float(np.median(coords))
    first = bool(rng.integers(2))
    side = coords <= cut if first else coords > cut
    if not side.any() or side.all():  # every pixel on one side of the median: split the sorted order instead
        order = np.argsort(coords, kind="stable")
        side = np.zeros(len(coords), dtype=bool)
        half = order[: len(order) // 2] if first else order[len(order) // 2:]
        side[half] = True
    out = np.zeros_like(mask)
    out[rows[side], cols[side]] = True
    name = ("left" if first else "right") if axis_cols else ("top" if first else "bottom")
    return out, f"{name} half"
