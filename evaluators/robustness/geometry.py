"""Boxes (xyxy, original-image pixels) and masks (bool arrays, COCO compressed RLE) for the perturbations."""

from __future__ import annotations

import numpy as np
from pycocotools import mask as mask_utils

Box = tuple[float, float, float, float]
Rle = tuple[tuple[int, int], str]  # ((h, w), counts), as evaluators.models.protocol.Item.mask_rle


def box_area(box: Box) -> float:
    x1, y1, x2, y2 = box
    return max(0.0, x2 - x1) * max(0.0, y2 - y1)


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two xyxy boxes (0 when both are empty)."""
    inter = box_area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0


def clip_box(box: Box, width: int, height: int) -> Box:
    """The box cut to the image [0, width] x [0, height] (corners ordered)."""
    x1, y1, x2, y2 = box
    x1, x2 = sorted((x1, x2))
    y1, y2 = sorted((y1, y2))
    return (min(max(x1, 0.0), width), min(max(y1, 0.0), height), min(max(x2, 0.0), width), min(max(y2, 0.0), height))


def inside_image(box: Box, width: int, height: int) -> bool:
    x1, y1, x2, y2 = box
    return 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height


def decode(rle: Rle) -> np.ndarray:
    """RLE -> bool array (h, w)."""
    (height, width), counts = rle
    obj = {"size": [int(height), int(width)], "counts": counts.encode("ascii") if isinstance(counts, str) else counts}
    return mask_utils.decode(obj).astype(bool)


def encode(mask: np.ndarray) -> Rle:
    """bool array (h, w) -> RLE with string counts."""
    obj = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    counts = obj["counts"]
    return (int(obj["size"][0]), int(obj["size"][1])), counts.decode("ascii") if isinstance(counts, bytes) else counts


def box_mask(box: Box, width: int, height: int) -> np.ndarray:
    """The pixels whose centres lie inside the box; at least the pixel under the box's centre."""
    x1, y1, x2, y2 = clip_box(box, width, height)
    cols = (np.arange(width) + 0.5)
    rows = (np.arange(height) + 0.5)
    mask = ((rows[:, None] >= y1) & (rows[:, None] <= y2)) & ((cols[None, :] >= x1) & (cols[None, :] <= x2))
    if not mask.any():
        cx = min(int((x1 + x2) / 2), width - 1)
        cy = min(int((y1 + y2) / 2), height - 1)
        mask[cy, cx] = True
    return mask


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = int(np.count_nonzero(a | b))
    return int(np.count_nonzero(a & b)) / union if union else 0.0


def mask_box(mask: np.ndarray) -> Box:
    """The tight xyxy box of a mask (pixel edges), as pycocotools' toBbox gives it."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)
