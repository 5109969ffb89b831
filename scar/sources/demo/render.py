"""One demo image: its scene and layout drawn back to front, with each object's id map and whole shape; PNG files."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from scar.core.seeding import rng_for
from scar.sources.demo.categories import KINDS
from scar.sources.demo.layout import Placed, place_objects
from scar.sources.demo.painter import COLOURS, Painter
from scar.sources.demo.scenes import SCENES, Scene, jitter


@dataclass
class Rendered:
    image: Image.Image
    ids: np.ndarray  # HxW uint8, 0 = background, k + 1 = object k (in draw order)
    objects: list[Placed]
    full_masks: list[np.ndarray]  # each object's whole shape before occlusion


def render(scene: Scene, rng: np.random.Generator) -> Rendered:
    w = int(rng.integers(320, 481))
    h = int(round(w * float(rng.uniform(0.65, 0.8))))
    image = Image.new("RGB", (w, h))
    ids = Image.new("L", (w, h), 0)
    zones = scene.paint(ImageDraw.Draw(image), w, h, rng)
    objects = place_objects(scene, zones, w, h, rng)
    painter = Painter(image, ids)
    full_masks = []
    for k, obj in enumerate(objects):
        painter.begin(k + 1, obj.box, obj.flip)
        KINDS[obj.category].draw(painter, jitter(COLOURS[obj.colour], rng, 10))
        full_masks.append(painter.full_mask())
    return Rendered(image, np.asarray(ids).copy(), objects, full_masks)


def scene_of(seed: int, split: str, index: int) -> tuple[Scene, np.random.Generator]:
    """The scene of one demo image id (the first draw of the image's own random stream), and that stream."""
    rng = rng_for(seed, "demo", split, index)
    names = sorted(SCENES)
    return SCENES[names[int(rng.integers(len(names)))]], rng


def render_image(seed: int, split: str, index: int) -> tuple[Scene, Rendered, np.random.Generator]:
    """The picture of one demo image id; the returned rng continues the image's own random stream."""
    scene, rng = scene_of(seed, split, index)
    return scene, render(scene, rng), rng


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def write_png(image: Image.Image, path: Path) -> None:
    """Write atomically; leave an identical existing file alone (reruns, parallel shards)."""
    data = png_bytes(image)
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except FileNotFoundError:
        pass
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
