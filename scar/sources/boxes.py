"""Boxes (x, y, w, h) in image pixels: parsing untrusted values, fitting them to the image, crop windows."""

from __future__ import annotations

import math

# Boxes may overshoot the image by rounding; beyond this tolerance (pixels, or 1% of the longer
# side) the box is rejected rather than silently clipped.
BOX_TOLERANCE_FRACTION = 0.01

Box = tuple[float, float, float, float]


def parse_box(value: object) -> Box | None:
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return None
    try:
        box = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in box) or box[2] <= 0 or box[3] <= 0:
        return None
    return box  # type: ignore[return-value]


def fit_box(box: Box, width: int, height: int) -> tuple[Box | None, str | None]:
    """Clip a box that overshoots the image by rounding; reject one that really lies outside."""
    x, y, w, h = box
    tol = max(1.0, BOX_TOLERANCE_FRACTION * max(width, height))
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        return None, "box outside image"
    if x < -tol or y < -tol or x + w > width + tol or y + h > height + tol:
        return None, "box partly outside image"
    x1, y1 = max(x, 0.0), max(y, 0.0)
    x2, y2 = min(x + w, float(width)), min(y + h, float(height))
    if x2 - x1 <= 0 or y2 - y1 <= 0:
        return None, "box outside image"
    return (x1, y1, x2 - x1, y2 - y1), None


def box_center(box: Box) -> tuple[float, float]:
    return (box[0] + box[2] / 2.0, box[1] + box[3] / 2.0)


def crop_window(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """Integer pixel window (x0, y0, x1, y1) covering the box, inside the image."""
    x0 = min(max(int(math.floor(box[0])), 0), width - 1)
    y0 = min(max(int(math.floor(box[1])), 0), height - 1)
    x1 = max(min(int(math.ceil(box[0] + box[2])), width), x0 + 1)
    y1 = max(min(int(math.ceil(box[1] + box[3])), height), y0 + 1)
    return x0, y0, x1, y1
