"""Decoded pictures kept for reuse, so one image file is decoded once while its items are encoded.

A region drawn into the pixels (`crop`, `circle`) makes every prompt of a picture its own image-tower
input, so the tower output cannot be reused there; the file's decode can. SCaR holds many referring
expressions per photo, and the robustness suite shows every query's picture again at each of its
levels; the engine encodes the items of one picture one after the other (`evaluators.batching`), so
a small least-recently-used cache already catches the repeats.

A picture is keyed by its path, size and modification time (a rewritten file is decoded again). The
cache holds the decoded RGB image and hands out copies, so a caller that draws on its image never
changes what the next caller gets: the pixels are exactly those of a fresh decode. Bounded by a byte
budget (`configure(budget_mb)`, 0 disables); thread-safe (the CLIP family decodes a batch in
threads). A preprocessing worker process (`evaluators.models.preprocess`) keeps its own cache, whose
counts stay in that process.
"""

from __future__ import annotations

import os
import threading
from typing import Callable

from PIL import Image

from evaluators.models.lru import ByteBudgetLRU

DEFAULT_BUDGET_MB = 256  # ~270 decoded 640x480 photos (COCO's size)

Key = tuple[str, int, int]


def file_key(path: str) -> Key | None:
    """(absolute path, size, mtime in ns), or None when the file cannot be stat'ed (the decode reports it)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return os.path.abspath(path), int(st.st_size), int(st.st_mtime_ns)


def image_nbytes(image: Image.Image) -> int:
    return image.width * image.height * len(image.getbands())


class DecodedPictures(ByteBudgetLRU):
    """LRU map file key -> decoded image, holding at most `budget_mb` MiB of pixels, with hit counts;
    every access under one lock."""

    def __init__(self, budget_mb: float = DEFAULT_BUDGET_MB) -> None:
        self._lock = threading.Lock()
        super().__init__()
        self.configure(budget_mb)

    def configure(self, budget_mb: float) -> None:
        """A new budget (MiB; 0 disables the cache); what no longer fits is dropped."""
        with self._lock:
            self.set_budget(int(float(budget_mb) * 2**20))

    def load(self, path: str, decode: Callable[[str], Image.Image]) -> Image.Image:
        """`decode(path)`, or a copy of the picture decoded before (same path, size and mtime)."""
        key = file_key(path) if self.enabled else None
        if key is None:
            return decode(path)
        with self._lock:
            image = self.lookup(key)
        if image is not None:
            return image.copy()
        image = decode(path)
        with self._lock:
            self.store(key, image, image_nbytes(image))
        return image.copy()

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"hits": self.hits, "misses": self.misses}

    def clear(self) -> None:
        with self._lock:
            super().clear()


PICTURES = DecodedPictures()  # the process's cache, used by `evaluators.models.regions.load_image`


def configure(budget_mb: float) -> None:
    """Set the process's decoded-picture budget (MiB; 0 disables)."""
    PICTURES.configure(budget_mb)


def counts() -> dict[str, int]:
    """Hits and misses of the process's decoded-picture cache so far."""
    return PICTURES.counts()
