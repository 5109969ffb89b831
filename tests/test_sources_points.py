"""The interior point of a polygon entity must lie inside the mask that is stored for it."""

import math

import numpy as np
from pycocotools import mask as mask_utils

from scar.sources.masks import polygons_to_rle
from scar.sources.points import polygon_point

# A 7 px high annotation from a 100k-entity benchmark build whose point once fell just outside its
# rasterised mask (the coarse grid trusted a cell 1.4 cells deep).
THIN = [[379.66, 13.87, 381.34, 14.25, 375.13, 15.8, 373.77, 15.81, 369.6, 15.25, 357.43, 15.6, 339.89, 15.13,
         345.5, 14.1, 346.52, 13.85, 339.1, 13.05, 336.22, 12.71, 339.51, 12.44, 340.92, 11.08, 340.7, 10.3,
         360.38, 8.71, 363.55, 9.69, 364.09, 10.11, 366.0, 8.97, 371.55, 9.15, 375.44, 10.61, 387.22, 12.32]]  # fmt: skip


def _inside_stored_mask(parts, box, width, height):
    rle = polygons_to_rle(parts, height, width)
    mask = mask_utils.decode(rle).astype(bool)
    x, y = polygon_point(parts, box, width, height, rle)
    return bool(mask[int(math.floor(y)), int(math.floor(x))])


def test_thin_polygon_point_is_inside_its_mask():
    assert _inside_stored_mask(THIN, (336.22, 8.71, 51.0, 7.1), 640, 427)


def test_random_thin_and_jagged_polygons():
    rng = np.random.default_rng(7)
    width, height = 640, 480
    failures = []
    for k in range(1500):
        cx, cy = rng.uniform(60, width - 60), rng.uniform(40, height - 40)
        rx, ry = rng.uniform(8, 55), rng.uniform(2.5, 12)  # mostly thin, like the failing case
        angles = np.sort(rng.uniform(0, 2 * np.pi, rng.integers(5, 24)))
        radius = rng.uniform(0.5, 1.0, len(angles))
        xs, ys = cx + rx * radius * np.cos(angles), cy + ry * radius * np.sin(angles)
        poly = [float(v) for xy in zip(xs, ys) for v in xy]
        x0, y0 = xs.min(), ys.min()
        box = (float(x0), float(y0), float(xs.max() - x0), float(ys.max() - y0))
        if not mask_utils.decode(polygons_to_rle([poly], height, width)).any():
            continue  # rasterises to nothing: the loader rejects such polygons
        if not _inside_stored_mask([poly], box, width, height):
            failures.append(k)
    assert failures == []
