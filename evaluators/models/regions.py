"""How a region is shown to a model that takes none: crop, red circle, or the box in the text.

This module is the only place that turns an Item's region into pixels or words. Every embedder calls
`prepare(item, variant)` (`variant` spelled "crop" or "+crop", `normalize_variant`) (or `apply_region` on an image it loaded itself) and puts the variant in its
EmbedderInfo.options, so the runner never special-cases a model and cached embeddings of different
variants never mix.

Which box a variant uses (`region_box`):
  1. `item.box_xyxy` when present;
  2. else the tight extent of `item.mask_rle` (pycocotools `toBbox`);
  3. else, for a point only, a square of side a quarter of the shorter image side centred on the
     point (a point has no extent; this is a fixed, documented choice, not a learned one).
`boxtext` with a point only writes the point, as the official VIRTUE demo does:
"Referring object point: (x, y)".

Items without a region (SCaR candidates, all of MMEB) come back unchanged for every variant.
All functions work on copies and never modify the input image. `load_image` decodes a file once while
it is reused (`evaluators.models.decoded`: a bounded LRU of decoded pictures, handing out copies).
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

from evaluators.models.decoded import PICTURES
from evaluators.models.protocol import Item
from scar.core.errors import InputFileError, ScarError

REGION_VARIANTS = ("crop", "circle", "boxtext")

BOX_TEXT_PREFIX = "Referring object bbox:"
POINT_TEXT_PREFIX = "Referring object point:"
CIRCLE_COLOR = (255, 0, 0)
POINT_BOX_FRACTION = 0.25  # side of the square a point-only region stands for, over the shorter image side


def normalize_variant(variant: str | None) -> str | None:
    """The canonical spelling of a region variant: "crop", "+crop" (as model names write it) -> "crop"."""
    if variant is None:
        return None
    name = variant[1:] if variant.startswith("+") else variant
    if name not in REGION_VARIANTS:
        raise ScarError(f"unknown region variant {variant!r}; choose from {', '.join(REGION_VARIANTS)} "
                        "(with or without a leading +)")
    return name


def check_variant(variant: str | None) -> None:
    normalize_variant(variant)


def load_image(path: str) -> Image.Image:
    """The image at `path` as RGB, fully read (so the file handle is closed); a file decoded before
    (same path, size and modification time) comes from the decoded-picture cache, as a copy."""
    return PICTURES.load(path, decode_image)


def decode_image(path: str) -> Image.Image:
    """The image at `path` decoded as RGB, read in full; a missing or unreadable file is one line naming it."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except FileNotFoundError:
        raise InputFileError(path, "image file not found") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InputFileError(path, f"cannot read image ({exc.__class__.__name__}: {exc})") from None


def mask_box_xyxy(mask_rle: tuple[tuple[int, int], str]) -> tuple[float, float, float, float]:
    """Tight box (xyxy pixels) of a COCO compressed RLE mask."""
    from pycocotools import mask as mask_utils

    (height, width), counts = mask_rle
    rle = {"size": [int(height), int(width)], "counts": counts.encode("ascii") if isinstance(counts, str) else counts}
    x, y, w, h = (float(v) for v in mask_utils.toBbox(rle))
    return x, y, x + w, y + h


def region_box(item: Item, image_size: tuple[int, int] | None) -> tuple[float, float, float, float] | None:
    """The box a crop or circle uses for `item` (see module doc), or None when the item has no region."""
    if item.box_xyxy is not None:
        return tuple(float(v) for v in item.box_xyxy)  # type: ignore[return-value]
    if item.mask_rle is not None:
        return mask_box_xyxy(item.mask_rle)
    if item.point_xy is not None:
        if image_size is None:
            return None
        half = POINT_BOX_FRACTION * min(image_size) / 2
        px, py = (float(v) for v in item.point_xy)
        return px - half, py - half, px + half, py + half
    return None


def clamp_box(box: tuple[float, float, float, float], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Integer pixel box inside an image of `size` (w, h), rounded outward, at least 1x1."""
    width, height = size
    x1, y1, x2, y2 = box
    left = min(max(math.floor(min(x1, x2)), 0), width - 1)
    top = min(max(math.floor(min(y1, y2)), 0), height - 1)
    right = max(min(math.ceil(max(x1, x2)), width), left + 1)
    bottom = max(min(math.ceil(max(y1, y2)), height), top + 1)
    return left, top, right, bottom


def circle_width(size: tuple[int, int]) -> int:
    """Outline thickness: a few pixels, growing with the image (2 px at 300 px, 6 px at 1000 px)."""
    return max(2, round(max(size) / 160))


def crop(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    return image.crop(clamp_box(box, image.size))


def draw_circle(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    """A copy of `image` with a red ellipse outline inscribed in the (clamped) box.

    As in Shtedritski et al. 2023 ("What does CLIP know about a red circle?"): red, outline only,
    the rest of the image untouched.
    """
    out = image.copy()
    left, top, right, bottom = clamp_box(box, image.size)
    ImageDraw.Draw(out).ellipse((left, top, right - 1, bottom - 1), outline=CIRCLE_COLOR, width=circle_width(image.size))
    return out


def format_box(box: tuple[float, float, float, float]) -> str:
    """The box printed as the official SCaR loader prints it: a Python list of floats."""
    return str([float(v) for v in box])


def box_text(text: str, item: Item) -> str:
    """`text` with the region appended as the official SCaR query does (after a newline)."""
    if BOX_TEXT_PREFIX in text or POINT_TEXT_PREFIX in text:
        return text
    if item.box_xyxy is not None or item.mask_rle is not None:
        box = region_box(item, None)
        assert box is not None
        return f"{text}\n{BOX_TEXT_PREFIX} {format_box(box)}"
    if item.point_xy is not None:
        px, py = (round(float(v)) for v in item.point_xy)
        return f"{text}\n{POINT_TEXT_PREFIX} ({px}, {py})"
    return text


def apply_region(
    image: Image.Image | None, text: str, item: Item, variant: str | None
) -> tuple[Image.Image | None, str]:
    """Show `item`'s region to a region-blind model by `variant` ("crop" or "+crop"); unchanged for None
    or no region."""
    variant = normalize_variant(variant)
    if variant is None or not item.has_region:
        return image, text
    if variant == "boxtext":
        return image, box_text(text, item)
    if image is None:
        return image, text
    box = region_box(item, image.size)
    if box is None:
        return image, text
    if variant == "crop":
        return crop(image, box), text
    return draw_circle(image, box), text


def prepare(item: Item, variant: str | None, image_root: str | Path | None = None) -> tuple[Image.Image | None, str]:
    """Load `item`'s image (if any) and apply the region variant ("crop" or "+crop", as model names
    write it): what a region-blind model sees."""
    image = None
    if item.image:
        path = Path(image_root) / item.image if image_root is not None else Path(item.image)
        image = load_image(str(path))
    return apply_region(image, item.text, item, variant)
