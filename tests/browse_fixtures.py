"""A build-like SCaR folder with known images and regions, for the browser's tests and benchmark.

Rows are real `Sample.to_row()` rows written with the project's Parquet schema; images are flat grey,
so a drawn overlay is unmistakable in a screenshot.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from PIL import Image

from scar.core.schema import CaptionParts, Entity, GeneratorInfo, Region, Sample, mask_to_rle, rows_to_table

IMAGE_SIZE = (400, 300)  # width, height
GREY = (128, 128, 128)
CATEGORIES = ("cat", "dog", "kite", "bench")


def region_of(i: int) -> tuple[tuple[float, float, float, float], np.ndarray, tuple[float, float]]:
    """Box (xywh), an elliptical mask inside the box, and the box centre, for row i."""
    width, height = IMAGE_SIZE
    x, y, w, h = 40.0 + (i % 5) * 30.0, 60.0 + (i % 3) * 20.0, 160.0, 120.0
    yy, xx = np.mgrid[0:height, 0:width]
    cx, cy = x + w / 2, y + h / 2
    mask = ((xx + 0.5 - cx) / (w / 2 - 8)) ** 2 + ((yy + 0.5 - cy) / (h / 2 - 8)) ** 2 <= 1.0
    return (x, y, w, h), mask, (cx, cy)


@lru_cache(maxsize=None)
def _region_rle(variant: int) -> tuple[Any, dict[str, Any], Any]:
    box, mask, point = region_of(variant)
    return box, mask_to_rle(mask), point


def sample(i: int, image_path: str, split: str = "eval", source: str = "synth", caption: str | None = None) -> Sample:
    box, rle, point = _region_rle(i % 15)  # region_of depends on i % 5 and i % 3 only
    category = CATEGORIES[i % len(CATEGORIES)]
    entity = Entity(
        source=source,
        split=split,  # type: ignore[arg-type]
        image_id=f"img{i:06d}",
        entity_id="0",
        image_path=image_path,
        image_width=IMAGE_SIZE[0],
        image_height=IMAGE_SIZE[1],
        category=category,
        region=Region(box, point, rle),
    )
    gold = CaptionParts(f"a {category} number {i}", "left of the lamp", "in a test room")
    negatives = tuple(
        [f"a wrong{k} number {i} left of the lamp in a test room" for k in range(3)]
        + [f"a {category} number {i} {rel} the lamp in a test room" for rel in ("right of", "above", "below")]
        + [f"a {category} number {i} left of the lamp {scene}" for scene in ("on a beach", "in a forest", "at sea")]
    )
    return Sample(
        entity=entity,
        gold=gold,
        negatives=negatives,
        neg_types=("object",) * 3 + ("relation",) * 3 + ("scene",) * 3,
        generator=GeneratorInfo("offline", "rules-v1", "offline-1", 0),
        caption=caption,
    )


def write_synthetic_build(
    root: Path,
    rows: int,
    images: int,
    source: str = "synth",
    captions: dict[int, str] | None = None,
    shard_rows: int = 50_000,
    noisy_jpeg: bool = False,
) -> list[str]:
    """`root/<source>/eval-NNNNN.parquet` and `root/images/...`; the row ids in order.

    Images are flat grey PNGs, or with `noisy_jpeg` random-noise JPEGs (costlier to decode, like photos).
    """
    image_dir = root / "images" / source
    image_dir.mkdir(parents=True, exist_ok=True)
    ext = "jpg" if noisy_jpeg else "png"
    rng = np.random.default_rng(0)
    for k in range(images):
        path = image_dir / f"{k:05d}.{ext}"
        if path.exists():
            continue
        if noisy_jpeg:
            pixels = rng.integers(0, 256, (IMAGE_SIZE[1], IMAGE_SIZE[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).save(path, quality=90)
        else:
            Image.new("RGB", IMAGE_SIZE, GREY).save(path)
    (root / source).mkdir(parents=True, exist_ok=True)
    ids: list[str] = []
    for shard, start in enumerate(range(0, rows, shard_rows)):
        batch = [
            sample(i, f"{source}/{i % images:05d}.{ext}", source=source, caption=(captions or {}).get(i)).to_row()
            for i in range(start, min(rows, start + shard_rows))
        ]
        ids += [r["id"] for r in batch]
        pq.write_table(rows_to_table(batch, "eval"), root / source / f"eval-{shard:05d}.parquet", compression="zstd")
    return ids
