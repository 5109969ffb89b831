"""What the renderer knows turned into annotations: tight boxes, interior points and referring phrases."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from scar.sources.demo.render import Rendered


def tight_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the smallest box holding every True pixel (COCO convention: w = x_max - x_min + 1)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def interior_point(mask: np.ndarray, box_xywh: tuple[int, int, int, int]) -> tuple[float, float]:
    """The mask pixel farthest from the mask's boundary (ties: first in row-major order)."""
    x, y, w, h = box_xywh
    crop = np.pad(mask[y : y + h, x : x + w], 1)
    dist = ndimage.distance_transform_edt(crop)
    py, px = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return float(x + px - 1), float(y + py - 1)


def _position(cx: float, w: int) -> str:
    if cx < w / 3:
        return "on the left"
    if cx > 2 * w / 3:
        return "on the right"
    return "in the middle"


def referring_phrase(
    k: int, rendered: Rendered, visible: list[np.ndarray], boxes: list[tuple[int, int, int, int] | None], rng: np.random.Generator
) -> str:
    """One short RefCOCO-style phrase for object k, true of the rendered picture."""
    obj = rendered.objects[k]
    w = rendered.image.width
    x, y, bw, bh = boxes[k]  # type: ignore[misc]
    pos = _position(x + bw / 2, w)
    relations: list[str] = []
    if obj.support is not None and boxes[obj.support] is not None:
        relations.append(f"on the {rendered.objects[obj.support].category}")
    full = rendered.full_masks[k]
    for j, other in enumerate(rendered.objects):
        if j == k or boxes[j] is None:
            continue
        hidden_by_j = j > k and np.count_nonzero(full & visible[j]) > 0.05 * np.count_nonzero(full)
        hides_j = j < k and np.count_nonzero(rendered.full_masks[j] & visible[k]) > 0.05 * np.count_nonzero(rendered.full_masks[j])
        if hidden_by_j and obj.support != j:
            relations.append(f"behind the {other.category}")
        elif hides_j and obj.support != j:
            relations.append(f"in front of the {other.category}")
    choice = float(rng.random())
    if relations and choice < 0.4:
        return f"{obj.category} {relations[int(rng.integers(len(relations)))]}"
    if obj.size_word and choice < 0.7:
        return f"{obj.size_word} {obj.colour} {obj.category}"
    return f"{obj.colour} {obj.category} {pos}"
