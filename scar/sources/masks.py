"""Full-image masks as COCO RLE: checking polygons and RLEs from annotation files, encoding, JSON form."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils


def rle_to_json(rle: dict[str, Any]) -> dict[str, Any]:
    counts = rle["counts"]
    return {
        "size": [int(rle["size"][0]), int(rle["size"][1])],
        "counts": counts.decode("ascii") if isinstance(counts, bytes) else str(counts),
    }


def as_coco_rle(rle: dict[str, Any]) -> dict[str, Any]:
    counts = rle["counts"]
    return {"size": list(rle["size"]), "counts": counts.encode("ascii") if isinstance(counts, str) else counts}


def polygon_parts(segmentation: object) -> tuple[list[list[float]], str | None]:
    """The usable polygons of a COCO polygon segmentation, or a reason.

    Parts with fewer than 3 points are dropped: pycocotools cannot rasterise them, and a 4-number
    part would be read as a box [x, y, w, h] by `frPyObjects`.
    """
    if not isinstance(segmentation, list) or not segmentation:
        return [], "malformed segmentation"
    parts: list[list[float]] = []
    for poly in segmentation:
        if not isinstance(poly, (list, tuple)) or len(poly) % 2:
            return [], "malformed polygon"
        try:
            coords = [float(v) for v in poly]
        except (TypeError, ValueError):
            return [], "malformed polygon"
        if not math.isfinite(sum(coords)):  # any NaN or infinity makes the sum non-finite
            return [], "malformed polygon"
        if len(coords) >= 6:
            parts.append(coords)
    if not parts:
        return [], "degenerate polygon"
    return parts, None


def polygons_to_rle(parts: list[list[float]], height: int, width: int) -> dict[str, Any]:
    return mask_utils.merge(mask_utils.frPyObjects(parts, height, width))


def coco_rle(segmentation: dict[str, Any], height: int, width: int) -> tuple[dict[str, Any] | None, str | None]:
    """A COCO RLE (compressed or uncompressed) checked against the image size."""
    size, counts = segmentation.get("size"), segmentation.get("counts")
    if not isinstance(size, (list, tuple)) or len(size) != 2 or counts is None:
        return None, "malformed RLE"
    try:
        h, w = int(size[0]), int(size[1])
    except (TypeError, ValueError):
        return None, "malformed RLE"
    if (h, w) != (height, width):
        return None, "RLE size disagrees with image"
    try:
        if isinstance(counts, list):
            if sum(int(c) for c in counts) != h * w or any(int(c) < 0 for c in counts):
                return None, "malformed RLE"
            rle = mask_utils.frPyObjects({"size": [h, w], "counts": [int(c) for c in counts]}, h, w)
        elif isinstance(counts, (str, bytes)):
            rle = as_coco_rle({"size": [h, w], "counts": counts})
            mask_utils.area(rle)  # fails on garbage counts
        else:
            return None, "malformed RLE"
    except (ValueError, TypeError, UnicodeEncodeError):
        return None, "malformed RLE"
    return rle, None


def bool_mask_to_rle(window: np.ndarray, x0: int, y0: int, height: int, width: int) -> dict[str, Any]:
    """Full-image RLE of a mask known only on a window (the rest is empty)."""
    full = np.zeros((height, width), dtype=np.uint8, order="F")
    full[y0 : y0 + window.shape[0], x0 : x0 + window.shape[1]] = window
    return mask_utils.encode(full)
