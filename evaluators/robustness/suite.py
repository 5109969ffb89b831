"""The perturbation suites: which prompt kinds and levels a robustness run measures.

The default suite (`default`), per SCaR query:

  box    clean      the build's box (the query `scar eval` scores: the reference of every drop)
         iou90      box noise, realised IoU with the true box in [0.90, 1.00]
         iou75      box noise, realised IoU in [0.75, 0.90)
         iou50      box noise, realised IoU in [0.50, 0.75)
         loose      a detector-like loose box: width and height grown by a factor 1 + U(0.10, 0.20)
  point  build      the build's point (the mask pixel farthest from the mask's edge)
         interior   a mask pixel drawn uniformly
         edge       a mask pixel on the mask's edge (within EDGE_PX of the outside)
         outside    a pixel just outside the mask (1 .. max(2, 5% of sqrt(mask area)) px from it)
  mask   exact      the build's mask
         erode80    eroded to mask IoU 0.8 (+- MASK_IOU_TOLERANCE)
         erode60    eroded to mask IoU 0.6
         dilate80   dilated to mask IoU 0.8
         dilate60   dilated to mask IoU 0.6
         partial    one part kept: the largest connected part, or one half of the mask
  none   floor      no prompt at all (the whole image): the floor

The first level of each kind (box clean, point build, mask exact) is that kind's unperturbed prompt:
side by side they are the prompt kind swapped. Box noise is HQ-SAM's `box_noise`: the centre shifted
by U(-1, 1) * (w/2, h/2) * s, width and height changed by U(-1, 1) * (w, h) * s, the box cut to the
image, drawn again until its IoU falls in the bin (at most BOX_TRIES draws; see `evaluators.robustness.perturb`
for the fallback).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scar.core.errors import ScarError

KINDS = ("box", "point", "mask", "none")
PROMPT_KINDS = ("box", "point", "mask")
BOX_TRIES = 200
MASK_IOU_TOLERANCE = 0.02  # |realised mask IoU - target| for erode / dilate levels, else the query is skipped there
EDGE_PX = 2.0  # a mask pixel is on the edge when the Euclidean distance to the nearest outside pixel is <= this
OUTSIDE_FRACTION = 0.05  # "just outside": at most max(2, this * sqrt(mask area)) px from the mask


@dataclass(frozen=True)
class Level:
    kind: str  # box | point | mask | none
    name: str  # unique within the kind, file-safe
    label: str  # for tables
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def is_clean(self) -> bool:
        return self.params.get("clean", False) is True

    @property
    def is_floor(self) -> bool:
        return self.kind == "none"


DEFAULT_SUITE: tuple[Level, ...] = (
    Level("box", "clean", "box: clean", {"clean": True}),
    Level("box", "iou90", "box: IoU >= 0.9", {"op": "noise", "lo": 0.90, "hi": 1.0, "scale": 0.06}),
    Level("box", "iou75", "box: IoU 0.75-0.9", {"op": "noise", "lo": 0.75, "hi": 0.90, "scale": 0.15}),
    Level("box", "iou50", "box: IoU 0.5-0.75", {"op": "noise", "lo": 0.50, "hi": 0.75, "scale": 0.35}),
    Level("box", "loose", "box: loose (+10-20%)", {"op": "loose", "lo": 0.10, "hi": 0.20}),
    Level("point", "build", "point: build's", {"clean": True, "op": "build"}),
    Level("point", "interior", "point: random interior", {"op": "interior"}),
    Level("point", "edge", "point: near the edge", {"op": "edge"}),
    Level("point", "outside", "point: just outside", {"op": "outside"}),
    Level("mask", "exact", "mask: exact", {"clean": True, "op": "exact"}),
    Level("mask", "erode80", "mask: eroded, IoU 0.8", {"op": "erode", "target": 0.8}),
    Level("mask", "erode60", "mask: eroded, IoU 0.6", {"op": "erode", "target": 0.6}),
    Level("mask", "dilate80", "mask: dilated, IoU 0.8", {"op": "dilate", "target": 0.8}),
    Level("mask", "dilate60", "mask: dilated, IoU 0.6", {"op": "dilate", "target": 0.6}),
    Level("mask", "partial", "mask: one part", {"op": "partial"}),
    Level("none", "floor", "no prompt (floor)", {"op": "none"}),
)

SUITES: dict[str, tuple[Level, ...]] = {"default": DEFAULT_SUITE}
REFERENCE = "box:clean"  # the level plain `scar eval` scores


def suite(name: str) -> tuple[Level, ...]:
    if name not in SUITES:
        raise ScarError(f"unknown robustness suite {name!r}; choose from {', '.join(SUITES)}")
    return SUITES[name]
