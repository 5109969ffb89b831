"""Helpers every real-dataset loader shares: reading files, masks and points, per-image sampling.

The per-image flow is the same for all sources: a loader turns one image's annotations into
`Candidate`s (cheap checks done, full-image mask as RLE) or `Rejected` records, then
`emit_image` applies the crowd / minimum-area rules, samples at most `max_per_image`
candidates deterministically, computes each chosen entity's point and yields the records.
Decoded masks live only inside one candidate's point computation.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
from pycocotools import mask as mask_utils
from scipy import ndimage

from scar.errors import InputFileError
from scar.schema import Entity, Neighbour, Region, Rejected, Split
from scar.seeding import rng_for
from scar.sources.base import Record, SourceOptions
from scar.sources.images import ImageFiles, size_problem

# The point search runs on the box crop sampled down to at most this many pixels per side: the
# distance transform dominates the loader's cost, and a coarser grid still picks a real mask pixel.
POINT_GRID = 32
MAX_NEIGHBOURS = 32
# Boxes may overshoot the image by rounding; beyond this tolerance (pixels, or 1% of the longer
# side) the box is rejected rather than silently clipped.
BOX_TOLERANCE_FRACTION = 0.01

Box = tuple[float, float, float, float]


# ---------------------------------------------------------------- files


def read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputFileError(path, "file not found") from None
    except IsADirectoryError:
        raise InputFileError(path, "is a directory, expected a file") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror or exc}") from None


def read_json(path: Path) -> Any:
    """Parse a JSON file. Invalid UTF-8 bytes survive as lone surrogates, so the one record that
    holds them is rejected later (see `text_problem`) instead of the whole file failing."""
    text = read_bytes(path).decode("utf-8", errors="surrogateescape")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            path, f"not valid JSON (truncated or corrupt?): {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise InputFileError(path, "JSON nested too deeply") from None


def require_file(path: Path, what: str) -> Path:
    if not Path(path).is_file():
        raise InputFileError(path, f"{what} not found")
    return Path(path)


def require_dir(path: Path | None, option: str) -> Path:
    if path is None:
        raise InputFileError(option, "this source needs the option (a directory)")
    if not Path(path).is_dir():
        raise InputFileError(path, f"{option}: directory not found")
    return Path(path)


def text_problem(text: object) -> str | None:
    """Why a source text cannot be used, or None."""
    if not isinstance(text, str):
        return "text is not a string"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "non-UTF-8 text"
    return None


def clean_category(name: object) -> str:
    return " ".join(str(name).replace("_", " ").split()).strip().lower()


# Image files are checked in scar.sources.images; the old name stays importable from here.
ImageIndex = ImageFiles


def check_images_option(options: SourceOptions) -> bool:
    return bool(options.extra.get("check_images", True))


def relative_posix(path: Path, root: Path) -> str | None:
    """`path` relative to `root` with POSIX separators, or None when it is not under root."""
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    except ValueError:
        return None
    rel_posix = PurePosixPath(*Path(rel).parts).as_posix()
    if rel_posix.startswith("../") or rel_posix == "..":
        return None
    return rel_posix


# ---------------------------------------------------------------- boxes


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


def box_from_bool_crop(crop: np.ndarray, x0: int, y0: int) -> Box | None:
    rows = np.flatnonzero(crop.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(crop.any(axis=0))
    return (float(x0 + cols[0]), float(y0 + rows[0]), float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1))


# ---------------------------------------------------------------- masks and points


def rle_to_json(rle: dict[str, Any]) -> dict[str, Any]:
    counts = rle["counts"]
    return {
        "size": [int(rle["size"][0]), int(rle["size"][1])],
        "counts": counts.decode("ascii") if isinstance(counts, bytes) else str(counts),
    }


def _as_coco_rle(rle: dict[str, Any]) -> dict[str, Any]:
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
            rle = _as_coco_rle({"size": [h, w], "counts": counts})
            mask_utils.area(rle)  # fails on garbage counts
        else:
            return None, "malformed RLE"
    except (ValueError, TypeError, UnicodeEncodeError):
        return None, "malformed RLE"
    return rle, None


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


def bool_mask_to_rle(window: np.ndarray, x0: int, y0: int, height: int, width: int) -> dict[str, Any]:
    """Full-image RLE of a mask known only on a window (the rest is empty)."""
    full = np.zeros((height, width), dtype=np.uint8, order="F")
    full[y0 : y0 + window.shape[0], x0 : x0 + window.shape[1]] = window
    return mask_utils.encode(full)


# ---------------------------------------------------------------- per-image flow


@dataclass(frozen=True)
class ImageMeta:
    image_id: str
    image_path: str
    width: int
    height: int
    scene: str | None = None


RegionResult = tuple[Region | None, str | None]


@dataclass
class Candidate:
    """One annotated region of an image that passed the cheap checks."""

    entity_id: str
    category: str
    box_xywh: Box
    area: float  # pixels (mask area, or box area when there is no mask)
    make_region: Callable[[], RegionResult]  # computes point (and mask) only for chosen candidates
    texts: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    crowd: bool = False


def box_region(box: Box) -> Callable[[], RegionResult]:
    return lambda: (Region(box_xywh=box, point_xy=box_center(box)), None)


def sample_indices(n: int, k: int, seed: int, source: str, image_id: str) -> list[int]:
    """Which of n candidates to keep (at most k), deterministic per (seed, source, image)."""
    if n <= k:
        return list(range(n))
    rng = rng_for(seed, source, image_id)
    return sorted(int(i) for i in rng.choice(n, size=k, replace=False))


def _nearest_neighbours(index: int, cands: Sequence[Candidate]) -> tuple[Neighbour, ...]:
    others = [c for j, c in enumerate(cands) if j != index]
    if len(others) > MAX_NEIGHBOURS:
        cx, cy = box_center(cands[index].box_xywh)

        def dist(c: Candidate) -> float:
            ox, oy = box_center(c.box_xywh)
            return (ox - cx) ** 2 + (oy - cy) ** 2

        others = sorted(others, key=dist)[:MAX_NEIGHBOURS]
    return tuple(Neighbour(category=c.category, box_xywh=c.box_xywh) for c in others)


def emit_image(
    source: str,
    split: Split,
    image: ImageMeta,
    items: Iterable[Candidate | Rejected],
    options: SourceOptions,
    neighbours_from: Sequence[Candidate] | None = None,
) -> Iterator[Record]:
    """Apply the common rules to one image's candidates and yield its records.

    `neighbours_from` lists the image's annotated things used as neighbours (default: the
    candidates themselves); RefCOCO passes all COCO objects of the image, not only referred ones.
    """
    cands: list[Candidate] = []
    for item in items:
        if isinstance(item, Rejected):
            yield item
        else:
            cands.append(item)
    pool = list(neighbours_from) if neighbours_from is not None else cands
    image_area = float(image.width * image.height)
    eligible: list[Candidate] = []
    def where(c: Candidate) -> dict[str, Any]:  # so reviewers can see a rejected region (`scar browse`)
        return {"image_path": image.image_path, "box_xywh": tuple(float(v) for v in c.box_xywh)}

    for c in cands:
        record = f"{source}:{image.image_id}:{c.entity_id}"
        if c.crowd:
            yield Rejected(source, record, "crowd region", **where(c))
        elif options.min_area > 0 and c.area < options.min_area * image_area:
            yield Rejected(source, record, "below min area", detail=f"{c.area / image_area:.5f} of the image", **where(c))
        else:
            eligible.append(c)
    chosen = set(sample_indices(len(eligible), options.max_per_image, options.seed, source, image.image_id))
    for i, c in enumerate(eligible):
        record = f"{source}:{image.image_id}:{c.entity_id}"
        if i not in chosen:
            yield Rejected(source, record, "over max_per_image", detail=f"{len(eligible)} eligible", **where(c))
            continue
        region, reason = c.make_region()
        if region is None:
            yield Rejected(source, record, reason or "unusable region", **where(c))
            continue
        index = next((j for j, p in enumerate(pool) if p is c), -1)
        neighbours = _nearest_neighbours(index, pool) if index >= 0 else _neighbours_excluding(c, pool)
        yield Entity(
            source=source,
            split=split,
            image_id=image.image_id,
            entity_id=c.entity_id,
            image_path=image.image_path,
            image_width=image.width,
            image_height=image.height,
            category=c.category,
            region=region,
            texts=c.texts,
            scene=image.scene,
            attributes=c.attributes,
            neighbours=neighbours,
        )


def _neighbours_excluding(c: Candidate, pool: Sequence[Candidate]) -> tuple[Neighbour, ...]:
    index = next((j for j, p in enumerate(pool) if p.entity_id == c.entity_id), -1)
    if index >= 0:
        return _nearest_neighbours(index, pool)
    return _nearest_neighbours(len(pool), [*pool, c])


def mask_candidate_region(
    rle: dict[str, Any], box: Box, point: Callable[[], tuple[float, float] | None]
) -> RegionResult:
    p = point()
    if p is None:
        return None, "empty mask"
    return Region(box_xywh=box, point_xy=p, mask_rle=rle_to_json(rle)), None


# ---------------------------------------------------------------- streaming JSON arrays


class TruncatedJson(Exception):
    """Raised by `iter_json_array` after the last complete element of a cut-off file."""

    def __init__(self, path: Path, position: int, message: str) -> None:
        super().__init__(f"{path}: JSON ends or breaks after character {position}: {message}")
        self.path = path
        self.position = position


def iter_json_array(path: Path, chunk_chars: int = 1 << 22) -> Iterator[Any]:
    """Elements of a top-level JSON array, parsed one at a time (big files never sit whole in
    memory). A file cut off mid-way yields every complete element, then raises TruncatedJson."""
    decoder = json.JSONDecoder()
    try:
        handle = open(path, encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        raise InputFileError(path, "file not found") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror or exc}") from None
    with handle:
        buf = handle.read(chunk_chars)
        eof = len(buf) < chunk_chars
        pos = _skip_ws(buf, 0)
        if pos >= len(buf) or buf[pos] != "[":
            raise InputFileError(path, "expected a JSON array")
        pos += 1
        consumed = 0  # characters dropped from the front of buf
        first = True
        while True:
            pos = _skip_ws(buf, pos)
            while pos >= len(buf) and not eof:
                buf, pos, consumed, eof = _refill(handle, buf, pos, consumed, chunk_chars)
                pos = _skip_ws(buf, pos)
            if pos >= len(buf):
                raise TruncatedJson(Path(path), consumed + pos, "array not closed")
            if buf[pos] == "]":
                return
            if not first:
                if buf[pos] != ",":
                    raise TruncatedJson(Path(path), consumed + pos, f"expected ',' but found {buf[pos]!r}")
                pos += 1
            while True:
                pos = _skip_ws(buf, pos)
                try:
                    value, end = decoder.raw_decode(buf, pos)
                except json.JSONDecodeError as exc:
                    if eof:
                        raise TruncatedJson(Path(path), consumed + pos, exc.msg) from None
                    buf, pos, consumed, eof = _refill(handle, buf, pos, consumed, chunk_chars)
                    continue
                # A number at the very end of the buffer may continue in the next chunk.
                if end >= len(buf) and not eof:
                    buf, pos, consumed, eof = _refill(handle, buf, pos, consumed, chunk_chars)
                    continue
                break
            first = False
            pos = end
            yield value


def _skip_ws(buf: str, pos: int) -> int:
    n = len(buf)
    while pos < n and buf[pos] in " \t\r\n":
        pos += 1
    return pos


def _refill(handle: Any, buf: str, pos: int, consumed: int, chunk_chars: int) -> tuple[str, int, int, bool]:
    more = handle.read(chunk_chars)
    return buf[pos:] + more, 0, consumed + pos, len(more) < chunk_chars


# ---------------------------------------------------------------- label maps (semantic / instance PNGs)


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
