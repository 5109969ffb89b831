"""Point search: a point certainly inside a region's mask, far from its boundary, found on a small grid.

Decoded masks live only inside one candidate's point computation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils
from scipy import ndimage

from scar.sources.boxes import Box, crop_window
from scar.sources.masks import polygons_to_rle

# The point search runs on the box crop sampled down to at most this many pixels per side: the
# distance transform dominates the loader's cost, and a coarser grid still picks a real mask pixel.
POINT_GRID = 32


def interior_point(crop: np.ndarray) -> tuple[float, float] | None:
    """(x, y) in crop pixels of the mask pixel farthest from the mask boundary (pixel centre).

    The crop is sampled down to about POINT_GRID pixels per side first; the chosen pixel is always
    a real mask pixel, so the point is inside the mask at full resolution too.
    """
    h, w = crop.shape
    step = max(1, math.ceil(max(h, w) / POINT_GRID))
    grid = crop[::step, ::step]
    if not grid.any():
        if step == 1 or not crop.any():
            return None
        step, grid = 1, crop
    # Pad so pixels on the crop border count as next to the boundary.
    padded = np.zeros((grid.shape[0] + 2, grid.shape[1] + 2), dtype=bool)
    padded[1:-1, 1:-1] = grid
    dist = _squared_distance_to_background(padded)
    r, c = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return ((c - 1) * step + 0.5, (r - 1) * step + 0.5)


def _squared_distance_to_background(mask: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance transform (argmax is all we need, so no sqrt).

    scipy's public distance_transform_edt spends about half its time on Python-level setup for
    the small grids used here; call its C feature transform directly when this scipy has it."""
    if _feature_transform is None:
        return ndimage.distance_transform_edt(mask)
    ft = np.zeros((2,) + mask.shape, dtype=np.int32)
    _feature_transform(mask, None, ft)
    ft -= np.indices(mask.shape, dtype=np.int32)
    ft *= ft
    return ft[0] + ft[1]


try:
    from scipy.ndimage import _nd_image

    _feature_transform = getattr(_nd_image, "euclidean_feature_transform", None)
except ImportError:  # pragma: no cover - depends on the scipy build
    _feature_transform = None


def point_in_window(crop: np.ndarray, x0: int, y0: int) -> tuple[float, float] | None:
    p = interior_point(crop)
    return None if p is None else (x0 + p[0], y0 + p[1])


def polygon_point(
    parts: list[list[float]], box: Box, width: int, height: int, full_rle: dict[str, Any] | None = None
) -> tuple[float, float] | None:
    """Interior point of polygons, rasterised on the box crop only (not the whole image).

    The crop is rasterised straight onto the point grid (at most POINT_GRID cells a side). A cell
    at least two cells inside that also passes an exact point-in-polygon test is certainly inside
    the stored full-image mask; otherwise (thin shapes, where pycocotools' rasterisation of the
    crop and of the image may differ by a pixel) the full-image mask's crop decides.
    """
    x0, y0, x1, y1 = crop_window(box, width, height)
    step = max(1, math.ceil(max(x1 - x0, y1 - y0) / POINT_GRID))
    arrays = [np.array(poly, dtype=np.float64).reshape(-1, 2) for poly in parts]
    point = _coarse_polygon_point(arrays, x0, y0, x1, y1, step)
    if point is not None:
        return point
    rle = full_rle if full_rle is not None else polygons_to_rle(parts, height, width)
    return rle_point(rle, box, width, height)


def _coarse_polygon_point(
    arrays: list[np.ndarray], x0: int, y0: int, x1: int, y1: int, step: int
) -> tuple[float, float] | None:
    gh, gw = math.ceil((y1 - y0) / step), math.ceil((x1 - x0) / step)
    scaled = [((xy - (x0, y0)) / step).ravel() for xy in arrays]
    grid = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(scaled, gh, gw))).astype(bool)
    if not grid.any():
        return None
    padded = np.zeros((gh + 2, gw + 2), dtype=bool)
    padded[1:-1, 1:-1] = grid
    dist = _squared_distance_to_background(padded)
    flat = int(np.argmax(dist))
    if dist.flat[flat] < 2:  # under 1.4 cells deep: too thin for the coarse grid to be trusted
        return None
    r, c = np.unravel_index(flat, dist.shape)
    px = x0 + min(int((c - 0.5) * step), x1 - x0 - 1) + 0.5  # the full-res pixel under the cell centre
    py = y0 + min(int((r - 0.5) * step), y1 - y0 - 1) + 0.5
    return (px, py) if _inside_any(px, py, arrays, RASTER_MARGIN) else None


# pycocotools' rasterisation may put a mask edge up to about a pixel off the exact polygon edge, so a
# point is trusted without the mask only this far inside (a 7 px high shape once failed at 1.4 cells).
RASTER_MARGIN = 1.5


def _inside_any(x: float, y: float, arrays: list[np.ndarray], margin: float = 0.0) -> bool:
    """Even-odd point-in-polygon test against each part (COCO parts are a union), at least `margin`
    pixels from that part's edges."""
    for xy in arrays:
        prev = np.concatenate((xy[-1:], xy[:-1]))
        xs, ys, xj, yj = xy[:, 0], xy[:, 1], prev[:, 0], prev[:, 1]
        crosses = (ys > y) != (yj > y)  # such edges are never horizontal: no division by zero
        x_at = (xj[crosses] - xs[crosses]) * (y - ys[crosses]) / (yj[crosses] - ys[crosses]) + xs[crosses]
        if np.count_nonzero(x < x_at) % 2 and (margin <= 0 or _edge_distance(x, y, xs, ys, xj, yj) >= margin):
            return True
    return False


def _edge_distance(x: float, y: float, xs: np.ndarray, ys: np.ndarray, xj: np.ndarray, yj: np.ndarray) -> float:
    """Distance from (x, y) to the nearest of the segments (xs, ys)-(xj, yj)."""
    dx, dy = xj - xs, yj - ys
    length2 = dx * dx + dy * dy
    t = np.clip(((x - xs) * dx + (y - ys) * dy) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    ex, ey = xs + t * dx - x, ys + t * dy - y
    return float(np.sqrt(np.min(ex * ex + ey * ey)))


def rle_point(rle: dict[str, Any], box: Box, width: int, height: int) -> tuple[float, float] | None:
    x0, y0, x1, y1 = crop_window(box, width, height)
    full = mask_utils.decode(rle)
    return point_in_window(full[y0:y1, x0:x1].astype(bool), x0, y0)
