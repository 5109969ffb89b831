"""The picture an LLM sees: a re-encoded copy of the source image with the entity's region marked.

The source file is never sent as is: it is decoded, marked (box drawn, or the mask's outline),
downscaled and re-encoded as JPEG. A missing or corrupt image is reported as an ImageProblem so
the record becomes a Rejected, never a failed build.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from scar.core.schema import Entity, rle_to_mask

MarkStyle = Literal["box", "mask"]
MARK_COLOUR = (255, 0, 0)
# Bump when the drawing changes: it is part of the cache key of every request that carries an image.
RENDER_VERSION = "mark-v1"


class ImageProblem(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ImageRef:
    """Everything needed to render the marked copy, plus a hash that stands for it in cache keys."""

    path: Path
    box_xywh: tuple[float, float, float, float]
    mask_json: str | None  # COCO RLE as JSON text (hashable); used when mark == "mask"
    mark: MarkStyle
    max_side: int
    file_sha256: str

    @property
    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for part in (RENDER_VERSION, self.file_sha256, repr(self.box_xywh), self.mask_json or "", self.mark, str(self.max_side)):
            h.update(part.encode("utf-8") + b"\x1f")
        return "image-sha256:" + h.hexdigest()


def image_ref_for(entity: Entity, images_root: Path | None, mark: MarkStyle, max_side: int) -> ImageRef:
    """Check the entity's image can be used (exists, decodes) and describe how to render it."""
    root = images_root if images_root is not None else Path(".")
    path = root / entity.image_path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageProblem("image missing", str(path)) from None
    except OSError as exc:
        raise ImageProblem("image unreadable", f"{path}: {exc.strerror or exc}") from None
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
    except Exception as exc:  # PIL raises many types for broken files
        raise ImageProblem("image corrupt", f"{path}: {type(exc).__name__}") from None
    use_mask = mark == "mask" and entity.region.mask_rle is not None
    mask_json = json.dumps(entity.region.mask_rle, sort_keys=True) if use_mask else None
    return ImageRef(
        path=path,
        box_xywh=tuple(float(v) for v in entity.region.box_xywh),  # type: ignore[arg-type]
        mask_json=mask_json,
        mark="mask" if use_mask else "box",
        max_side=max_side,
        file_sha256=hashlib.sha256(data).hexdigest(),
    )


def render_marked(ref: ImageRef) -> bytes:
    """JPEG bytes of the marked, downscaled copy."""
    try:
        with Image.open(ref.path) as src:
            im = src.convert("RGB")
    except Exception as exc:
        raise ImageProblem("image corrupt", f"{ref.path}: {type(exc).__name__}") from None
    width, height = im.size
    thickness = max(2, round(max(width, height) / 200))
    if ref.mask_json is not None:
        _draw_mask_outline(im, json.loads(ref.mask_json), thickness)
    else:
        x, y, w, h = ref.box_xywh
        ImageDraw.Draw(im).rectangle([x, y, x + w, y + h], outline=MARK_COLOUR, width=thickness)
    scale = ref.max_side / max(width, height)
    if scale < 1:
        im = im.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=90, subsampling=0)  # 4:4:4 keeps thin red lines red
    return buf.getvalue()


def _draw_mask_outline(im: Image.Image, rle: dict[str, Any], thickness: int) -> None:
    mask = rle_to_mask(rle)
    if mask.shape != (im.height, im.width):
        raise ImageProblem("mask size mismatch", f"mask {mask.shape[::-1]} vs image {im.size}")
    outline = mask & ~ndimage.binary_erosion(mask, iterations=thickness, border_value=0)
    pixels = np.asarray(im).copy()
    pixels[outline] = MARK_COLOUR
    im.paste(Image.fromarray(pixels))


def data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
