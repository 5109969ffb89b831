"""Reuse of an image tower's output across items that show the same picture.

MMEB and SCaR hold many items whose image is the same picture under another instruction or question
(VQA questions about one image, referring expressions in one photo, a query image that is also a
candidate elsewhere). An image tower's output depends on the pixels alone, so it is computed once per
picture and reused: exactly the numbers the tower produced for it.

A picture is identified by the file's bytes (a digest, so byte-identical copies in two task folders
are one picture) plus whatever changes its pixels before the tower: the region variants `crop` and
`circle` draw the item's own region (see `evaluators.models.regions`); `boxtext` and no variant leave the
pixels alone. Everything else that shapes the pixels (resolution, processor limits) is passed by the
embedder as `settings` and is part of the key, so changing a setting never reuses an older output.

`FeatureCache` is a least-recently-used map with a byte budget; the runner orders items so that the
items of one picture are encoded one after the other, so a small budget already catches the repeats.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Hashable

from evaluators.models.lru import ByteBudgetLRU
from evaluators.models.protocol import Item

DEFAULT_BUDGET_MB = 1024
PIXEL_VARIANTS = ("crop", "circle")  # the region variants that change the pixels
_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_digest(path: str) -> str:
    """blake2b-16 of the file's bytes (memoised per path, size and modification time)."""
    st = os.stat(path)
    memo = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    digest = _DIGESTS.get(memo)
    if digest is None:
        h = hashlib.blake2b(digest_size=16)
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        digest = _DIGESTS[memo] = h.hexdigest()
    return digest


def picture_key(item: Item, variant: str | None, settings: tuple = ()) -> tuple | None:
    """What identifies the pixels `item` shows its image tower, or None when it has no image (or no
    readable file: the embedder's own loading then reports it). `settings`: everything else the pixels
    depend on (resolution, processor limits), so a changed setting never reuses an older output."""
    if item.image is None:
        return None
    try:
        digest = file_digest(item.image)
    except OSError:
        return None
    if variant in PIXEL_VARIANTS and item.has_region:
        return digest, variant, item.box_xyxy, item.point_xy, item.mask_rle, *settings
    return (digest, *settings)


def video_key(item: Item, settings: tuple = ()) -> tuple | None:
    """What identifies the pixels of `item`'s video (its frames, in order), for a model that reads the
    frames as one video; None when a frame cannot be read. Never equal to a picture's key."""
    try:
        digests = tuple(file_digest(frame) for frame in item.frames)
    except OSError:
        return None
    return ("video", digests, *settings)


def nbytes(value: Any) -> int:
    if isinstance(value, (tuple, list)):
        return sum(nbytes(v) for v in value)
    numel = getattr(value, "numel", None)
    return int(numel() * value.element_size()) if callable(numel) else 64


class FeatureCache(ByteBudgetLRU):
    """LRU map picture key -> tower output, holding at most `budget_mb` MiB (0 disables it)."""

    def __init__(self, budget_mb: float = DEFAULT_BUDGET_MB) -> None:
        super().__init__(int(float(budget_mb) * 2**20))

    def get(self, key: Hashable) -> Any:
        return self.lookup(key)

    def put(self, key: Hashable, value: Any) -> None:
        if self.enabled and key is not None:
            self.store(key, value, nbytes(value))
