"""Label maps (semantic or instance PNGs, one integer label per pixel) turned into candidates."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import ndimage

from scar.core.errors import InputFileError
from scar.core.schema import Region, Rejected
from scar.sources.boxes import Box
from scar.sources.emit import Candidate, ImageMeta, RegionResult
from scar.sources.images import size_problem
from scar.sources.masks import bool_mask_to_rle, rle_to_json
from scar.sources.points import point_in_window


def read_png(path: Path) -> np.ndarray:
    """Decode a label PNG; its header's size is bounded before any pixel is decoded."""
    try:
        from PIL import Image

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                problem = size_problem(im.width, im.height)
                if problem:
                    raise InputFileError(path, f"{problem}: {im.width}x{im.height}")
                return np.asarray(im)
    except FileNotFoundError:
        raise InputFileError(path, "file not found") from None
    except InputFileError:
        raise
    except Exception as exc:  # PIL raises many types for a broken file (OSError, SyntaxError, bomb errors...)
        raise InputFileError(path, f"cannot read PNG: {type(exc).__name__}: {str(exc)[:120]}") from None


def label_candidates(
    source: str,
    image: ImageMeta,
    labels: np.ndarray,
    info: dict[int, tuple[str, str | None]],
    file: Path,
) -> list[Candidate | Rejected]:
    """One region per label of a label image (0 = nothing). `info[label]` = (entity id, category or
    None when the class has no name). Boxes and areas for all labels come from one pass each."""
    counts = np.bincount(labels.ravel())
    slices = ndimage.find_objects(labels)
    out: list[Candidate | Rejected] = []
    for label in sorted(info):
        entity_id, category = info[label]
        if label <= 0 or label >= len(counts) or counts[label] == 0:
            continue
        if category is None:
            out.append(Rejected(source, f"{source}:{image.image_id}:{entity_id}", "unknown category id", file=str(file)))
            continue
        sl = slices[label - 1]
        assert sl is not None
        x0, y0 = sl[1].start, sl[0].start
        box = (float(x0), float(y0), float(sl[1].stop - x0), float(sl[0].stop - y0))
        out.append(Candidate(entity_id, category, box, float(counts[label]), _label_region(labels, label, sl, box, image)))
    return out


def _label_region(
    labels: np.ndarray, label: int, sl: tuple[slice, slice], box: Box, image: ImageMeta
) -> Callable[[], RegionResult]:
    def make() -> RegionResult:
        crop = labels[sl] == label
        x0, y0 = sl[1].start, sl[0].start
        p = point_in_window(crop, x0, y0)
        if p is None:
            return None, "empty mask"
        rle = bool_mask_to_rle(crop, x0, y0, image.height, image.width)
        return Region(box_xywh=box, point_xy=p, mask_rle=rle_to_json(rle)), None

    return make
