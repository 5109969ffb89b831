"""The embedded demo source: procedurally rendered scenes, made on the fly, no download.

Each image is a scene (beach, kitchen, street, ...) with a painted background and 1-5 objects drawn as
simple PIL shapes. Objects are painted back to front onto the RGB image and, with the same shapes, onto
an object-id map, so every instance mask is exact after occlusion (a mask is `id_map == k`). Each entity
gets a RefCOCO-style referring phrase built from what the renderer knows: colour, size, position, the
surface it stands on and which objects hide it.

Deterministic by (seed, split, image index); train and eval use different image ids and seeds.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from scar.errors import ScarError
from scar.schema import Entity, Neighbour, Rejected, Region, Split, mask_to_rle
from scar.seeding import rng_for
from scar.sources.base import Record, SourceOptions

DEFAULT_IMAGES = {"train": 240, "eval": 80}
# An object whose visible part is below this fraction of its drawn shape (or below MIN_VISIBLE_PIXELS)
# counts as occluded: a caption about it could not be grounded in the picture.
MIN_VISIBLE_FRACTION = 0.2
MIN_VISIBLE_PIXELS = 30
SIZE_BOOST = 1.25  # every object is drawn this much larger than its Kind.height

RGB = tuple[int, int, int]

COLOURS: dict[str, RGB] = {
    "red": (205, 40, 40),
    "blue": (40, 80, 200),
    "green": (50, 150, 60),
    "yellow": (235, 205, 40),
    "orange": (240, 140, 30),
    "purple": (130, 60, 170),
    "pink": (240, 130, 170),
    "white": (240, 240, 235),
    "black": (30, 30, 30),
    "brown": (125, 80, 40),
    "grey": (140, 140, 140),
}


# ---------------------------------------------------------------- painting onto RGB + id map


class Painter:
    """Draws every shape twice: in colour on the picture, and with the object's id on the id map."""

    def __init__(self, image: Image.Image, ids: Image.Image) -> None:
        self.rgb = ImageDraw.Draw(image)
        self.ids = ImageDraw.Draw(ids)
        self.own_image = Image.new("L", image.size, 0)
        self.own = ImageDraw.Draw(self.own_image)
        self.obj_id = 0
        self.box = (0.0, 0.0, 1.0, 1.0)
        self.flip = False

    def begin(self, obj_id: int, box: tuple[float, float, float, float], flip: bool) -> None:
        self.obj_id, self.box, self.flip = obj_id, box, flip
        self.own.rectangle((0, 0, *self.own_image.size), fill=0)

    def full_mask(self) -> np.ndarray:
        """The object's whole shape, before anything drawn later hides part of it."""
        return np.asarray(self.own_image) > 0

    def _xy(self, u: float, v: float) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        if self.flip:
            u = 1.0 - u
        return (x0 + u * (x1 - x0), y0 + v * (y1 - y0))

    def _rect(self, u0: float, v0: float, u1: float, v1: float) -> list[float]:
        (xa, ya), (xb, yb) = self._xy(u0, v0), self._xy(u1, v1)
        return [min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)]

    def _all(self, method: str, colour: RGB, *args, **kwargs) -> None:
        getattr(self.rgb, method)(*args, fill=colour, **kwargs)
        getattr(self.ids, method)(*args, fill=self.obj_id, **kwargs)
        getattr(self.own, method)(*args, fill=255, **kwargs)

    def rect(self, colour: RGB, u0: float, v0: float, u1: float, v1: float) -> None:
        self._all("rectangle", colour, self._rect(u0, v0, u1, v1))

    def ellipse(self, colour: RGB, u0: float, v0: float, u1: float, v1: float) -> None:
        self._all("ellipse", colour, self._rect(u0, v0, u1, v1))

    def polygon(self, colour: RGB, *uv: tuple[float, float]) -> None:
        self._all("polygon", colour, [self._xy(u, v) for u, v in uv])

    def line(self, colour: RGB, width: float, *uv: tuple[float, float]) -> None:
        self._all("line", colour, [self._xy(u, v) for u, v in uv], width=max(1, int(round(width))))

    def ring(self, colour: RGB, width: float, u0: float, v0: float, u1: float, v1: float) -> None:
        box = self._rect(u0, v0, u1, v1)
        w = max(1, int(round(width)))
        self.rgb.ellipse(box, outline=colour, width=w)
        self.ids.ellipse(box, outline=self.obj_id, width=w)
        self.own.ellipse(box, outline=255, width=w)

    def pieslice(self, colour: RGB, start: float, end: float, u0: float, v0: float, u1: float, v1: float) -> None:
        self._all("pieslice", colour, self._rect(u0, v0, u1, v1), start, end)

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


def _shade(colour: RGB, factor: float) -> RGB:
    return tuple(int(min(255, max(0, c * factor))) for c in colour)  # type: ignore[return-value]


DARK: RGB = (35, 35, 40)
GLASS: RGB = (170, 210, 235)
WHITE: RGB = (245, 245, 245)
WOOD: RGB = (120, 80, 45)
LEAF: RGB = (55, 140, 55)


def draw_ball(p: Painter, c: RGB) -> None:
    p.ellipse(c, 0, 0, 1, 1)
    p.line(WHITE, max(1.0, p.width * 0.06), (0.15, 0.5), (0.5, 0.35), (0.85, 0.5))


def draw_umbrella(p: Painter, c: RGB) -> None:
    p.rect(DARK, 0.48, 0.3, 0.52, 1.0)
    p.pieslice(c, 180, 360, 0, 0, 1, 0.8)
    p.pieslice(_shade(c, 0.8), 180, 240, 0, 0, 1, 0.8)


def draw_chair(p: Painter, c: RGB) -> None:
    p.rect(c, 0.05, 0.0, 0.22, 0.58)
    p.rect(c, 0.05, 0.5, 0.95, 0.6)
    p.rect(_shade(c, 0.7), 0.07, 0.6, 0.17, 1.0)
    p.rect(_shade(c, 0.7), 0.83, 0.6, 0.93, 1.0)


def draw_table(p: Painter, c: RGB) -> None:
    p.rect(c, 0.0, 0.0, 1.0, 0.14)
    p.rect(_shade(c, 0.75), 0.06, 0.14, 0.13, 1.0)
    p.rect(_shade(c, 0.75), 0.87, 0.14, 0.94, 1.0)


def draw_cup(p: Painter, c: RGB) -> None:
    p.ring(c, max(2.0, p.width * 0.1), 0.55, 0.2, 1.0, 0.7)
    p.rect(c, 0.0, 0.0, 0.75, 1.0)
    p.rect(_shade(c, 0.8), 0.0, 0.0, 0.75, 0.1)


def draw_bottle(p: Painter, c: RGB) -> None:
    p.rect(c, 0.0, 0.38, 1.0, 1.0)
    p.polygon(c, (0.0, 0.4), (0.3, 0.22), (0.7, 0.22), (1.0, 0.4))
    p.rect(c, 0.3, 0.06, 0.7, 0.25)
    p.rect(DARK, 0.28, 0.0, 0.72, 0.08)
    p.rect(WHITE, 0.0, 0.55, 1.0, 0.75)


def draw_car(p: Painter, c: RGB) -> None:
    p.polygon(c, (0.18, 0.42), (0.3, 0.05), (0.72, 0.05), (0.84, 0.42))
    p.polygon(GLASS, (0.26, 0.4), (0.34, 0.12), (0.49, 0.12), (0.49, 0.4))
    p.polygon(GLASS, (0.53, 0.4), (0.53, 0.12), (0.68, 0.12), (0.77, 0.4))
    p.rect(c, 0.0, 0.4, 1.0, 0.8)
    p.rect(WHITE, 0.95, 0.5, 1.0, 0.6)
    p.ellipse(DARK, 0.12, 0.6, 0.32, 1.0)
    p.ellipse(DARK, 0.68, 0.6, 0.88, 1.0)


def draw_bus(p: Painter, c: RGB) -> None:
    p.rect(c, 0.0, 0.0, 1.0, 0.85)
    for i in range(5):
        u = 0.04 + i * 0.19
        p.rect(GLASS, u, 0.12, u + 0.15, 0.45)
    p.rect(_shade(c, 0.7), 0.86, 0.5, 0.96, 0.85)
    p.ellipse(DARK, 0.1, 0.68, 0.26, 1.0)
    p.ellipse(DARK, 0.72, 0.68, 0.88, 1.0)


def draw_bicycle(p: Painter, c: RGB) -> None:
    w = max(2.0, p.height * 0.06)
    d = 0.6  # wheel diameter as a fraction of the height; the box is about 1.6 heights wide
    du = d * p.height / max(p.width, 1.0)
    p.ring(DARK, w, 0.0, 1 - d, du, 1.0)
    p.ring(DARK, w, 1 - du, 1 - d, 1.0, 1.0)
    back, front = (du / 2, 1 - d / 2), (1 - du / 2, 1 - d / 2)
    pedal, seat, head = (0.45, 1 - d / 2), (0.38, 0.18), (0.72, 0.12)
    p.line(c, w, back, pedal, seat, back)
    p.line(c, w, pedal, (0.7, 0.25), seat)
    p.line(c, w, front, head)
    p.line(DARK, w, (0.64, 0.03), (0.8, 0.03))
    p.line(DARK, w * 1.5, (0.3, 0.1), (0.46, 0.1))


def draw_dog(p: Painter, c: RGB) -> None:
    dark = _shade(c, 0.7)
    p.line(c, max(2.0, p.height * 0.07), (0.12, 0.45), (0.02, 0.2))
    for u in (0.15, 0.28, 0.58, 0.7):
        p.rect(dark if u in (0.28, 0.7) else c, u, 0.55, u + 0.09, 1.0)
    p.ellipse(c, 0.08, 0.3, 0.8, 0.72)
    p.ellipse(c, 0.62, 0.0, 1.0, 0.42)
    p.ellipse(dark, 0.64, 0.02, 0.76, 0.32)
    p.ellipse(DARK, 0.93, 0.18, 1.0, 0.26)


def draw_cat(p: Painter, c: RGB) -> None:
    p.line(c, max(2.0, p.height * 0.06), (0.1, 0.7), (0.0, 0.3), (0.08, 0.1))
    p.ellipse(c, 0.08, 0.4, 0.75, 1.0)
    p.ellipse(c, 0.55, 0.1, 0.95, 0.55)
    p.polygon(c, (0.58, 0.25), (0.62, 0.0), (0.72, 0.15))
    p.polygon(c, (0.78, 0.15), (0.88, 0.0), (0.92, 0.25))
    p.ellipse(DARK, 0.78, 0.28, 0.83, 0.34)


def draw_tree(p: Painter, c: RGB) -> None:
    p.rect(WOOD, 0.42, 0.5, 0.58, 1.0)
    p.ellipse(c, 0.0, 0.15, 0.6, 0.65)
    p.ellipse(c, 0.4, 0.15, 1.0, 0.65)
    p.ellipse(_shade(c, 1.1), 0.15, 0.0, 0.85, 0.5)


def draw_lamp(p: Painter, c: RGB) -> None:
    p.rect(DARK, 0.25, 0.94, 0.75, 1.0)
    p.rect(DARK, 0.46, 0.3, 0.54, 0.95)
    p.polygon(c, (0.0, 0.36), (1.0, 0.36), (0.75, 0.0), (0.25, 0.0))


def draw_streetlight(p: Painter, c: RGB) -> None:
    p.rect(c, 0.1, 0.05, 0.28, 1.0)
    p.rect(c, 0.1, 0.03, 0.8, 0.07)
    p.polygon(c, (0.55, 0.06), (1.0, 0.06), (0.92, 0.13), (0.63, 0.13))
    p.rect((250, 240, 170), 0.65, 0.12, 0.9, 0.15)


def draw_sofa(p: Painter, c: RGB) -> None:
    dark = _shade(c, 0.8)
    p.rect(c, 0.06, 0.0, 0.94, 0.55)
    p.rect(dark, 0.0, 0.48, 1.0, 0.86)
    p.rect(c, 0.0, 0.3, 0.12, 0.86)
    p.rect(c, 0.88, 0.3, 1.0, 0.86)
    p.rect(DARK, 0.05, 0.86, 0.1, 1.0)
    p.rect(DARK, 0.9, 0.86, 0.95, 1.0)


def draw_potted_plant(p: Painter, c: RGB) -> None:
    p.ellipse(LEAF, 0.05, 0.0, 0.55, 0.68)
    p.ellipse(_shade(LEAF, 1.2), 0.45, 0.05, 0.95, 0.68)
    p.ellipse(_shade(LEAF, 0.85), 0.25, 0.1, 0.75, 0.62)
    p.polygon(c, (0.22, 0.58), (0.78, 0.58), (0.68, 1.0), (0.32, 1.0))


def draw_boat(p: Painter, c: RGB) -> None:
    p.rect(WOOD, 0.48, 0.0, 0.52, 0.62)
    p.polygon(WHITE, (0.54, 0.04), (0.54, 0.56), (0.9, 0.56))
    p.polygon(c, (0.0, 0.6), (1.0, 0.6), (0.85, 1.0), (0.15, 1.0))


def draw_bench(p: Painter, c: RGB) -> None:
    dark = _shade(c, 0.7)
    p.rect(dark, 0.06, 0.0, 0.11, 1.0)
    p.rect(dark, 0.89, 0.0, 0.94, 1.0)
    p.rect(c, 0.0, 0.05, 1.0, 0.17)
    p.rect(c, 0.0, 0.24, 1.0, 0.36)
    p.rect(c, 0.0, 0.47, 1.0, 0.6)


def draw_bird(p: Painter, c: RGB) -> None:
    p.polygon(c, (0.0, 0.35), (0.22, 0.5), (0.0, 0.7))
    p.ellipse(c, 0.15, 0.3, 0.8, 0.85)
    p.ellipse(c, 0.62, 0.12, 0.94, 0.52)
    p.polygon((240, 160, 30), (0.92, 0.26), (1.0, 0.34), (0.92, 0.4))
    p.polygon(_shade(c, 0.75), (0.3, 0.5), (0.62, 0.5), (0.42, 0.0))


def draw_flower(p: Painter, c: RGB) -> None:
    p.rect(LEAF, 0.46, 0.4, 0.54, 1.0)
    p.ellipse(LEAF, 0.5, 0.6, 0.85, 0.72)
    for du, dv in ((0.0, -0.13), (0.3, 0.0), (0.2, 0.16), (-0.2, 0.16), (-0.3, 0.0)):
        p.ellipse(c, 0.5 + du - 0.2, 0.23 + dv - 0.1, 0.5 + du + 0.2, 0.23 + dv + 0.1)
    p.ellipse((245, 205, 50), 0.35, 0.15, 0.65, 0.31)


def draw_bed(p: Painter, c: RGB) -> None:
    p.rect(WOOD, 0.0, 0.0, 0.08, 1.0)
    p.rect(WOOD, 0.0, 0.55, 1.0, 0.88)
    p.rect(WOOD, 0.94, 0.5, 1.0, 1.0)
    p.rect(WHITE, 0.06, 0.4, 0.97, 0.6)
    p.ellipse(WHITE, 0.1, 0.28, 0.3, 0.48)
    p.rect(c, 0.35, 0.37, 0.97, 0.66)


def draw_kite(p: Painter, c: RGB) -> None:
    p.line(DARK, max(1.0, p.width * 0.04), (0.5, 0.72), (0.42, 0.82), (0.55, 0.9), (0.45, 1.0))
    p.polygon(c, (0.5, 0.0), (1.0, 0.3), (0.5, 0.75), (0.0, 0.3))
    p.polygon(_shade(c, 0.75), (0.5, 0.0), (1.0, 0.3), (0.5, 0.3))


def draw_clock(p: Painter, c: RGB) -> None:
    p.ellipse(c, 0, 0, 1, 1)
    p.ellipse(WHITE, 0.12, 0.12, 0.88, 0.88)
    w = max(1.0, p.width * 0.06)
    p.line(DARK, w, (0.5, 0.5), (0.5, 0.2))
    p.line(DARK, w, (0.5, 0.5), (0.72, 0.58))


def draw_tv(p: Painter, c: RGB) -> None:
    p.rect(c, 0.25, 0.9, 0.75, 1.0)
    p.rect(c, 0.44, 0.8, 0.56, 0.92)
    p.rect(c, 0.0, 0.0, 1.0, 0.82)
    p.rect((30, 45, 70), 0.05, 0.07, 0.95, 0.75)


def draw_vase(p: Painter, c: RGB) -> None:
    p.polygon(c, (0.3, 0.0), (0.7, 0.0), (0.62, 0.15), (0.95, 0.55), (0.72, 1.0), (0.28, 1.0), (0.05, 0.55), (0.38, 0.15))
    p.rect(_shade(c, 0.75), 0.14, 0.5, 0.86, 0.58)


def draw_book(p: Painter, c: RGB) -> None:
    p.rect(WHITE, 0.05, 0.0, 1.0, 0.9)
    p.rect(c, 0.0, 0.15, 1.0, 1.0)
    p.rect(_shade(c, 0.7), 0.0, 0.15, 0.12, 1.0)


# ---------------------------------------------------------------- categories and scenes


@dataclass(frozen=True)
class Kind:
    draw: Callable[[Painter, RGB], None]
    height: float  # typical height as a fraction of the image height, at the front of the scene
    aspect: float  # width / height
    colours: tuple[str, ...]
    zone: str = "ground"  # where its bottom edge goes: ground, sky, wall, water, road, walk, surface
    surface: float | None = None  # for supports: where things stand, as a fraction of its height


KINDS: dict[str, Kind] = {
    "ball": Kind(draw_ball, 0.11, 1.0, ("red", "blue", "yellow", "orange", "green", "white", "pink", "purple")),
    "umbrella": Kind(draw_umbrella, 0.36, 1.1, ("red", "blue", "yellow", "orange", "green", "pink", "purple")),
    "chair": Kind(draw_chair, 0.28, 0.62, ("red", "blue", "brown", "white", "black", "green", "yellow")),
    "table": Kind(draw_table, 0.24, 1.7, ("brown", "white", "black", "grey"), surface=0.03),
    "cup": Kind(draw_cup, 0.08, 1.05, ("red", "blue", "white", "yellow", "green", "pink"), zone="surface"),
    "bottle": Kind(draw_bottle, 0.15, 0.38, ("green", "blue", "brown", "red", "white"), zone="surface"),
    "car": Kind(draw_car, 0.2, 2.1, ("red", "blue", "white", "black", "grey", "yellow", "green"), zone="road"),
    "bus": Kind(draw_bus, 0.3, 2.5, ("red", "yellow", "blue", "green", "white"), zone="road"),
    "bicycle": Kind(draw_bicycle, 0.2, 1.6, ("red", "blue", "black", "green", "yellow", "orange")),
    "dog": Kind(draw_dog, 0.17, 1.35, ("brown", "black", "white", "grey", "orange")),
    "cat": Kind(draw_cat, 0.13, 1.25, ("orange", "grey", "black", "white", "brown"), zone="surface"),
    "tree": Kind(draw_tree, 0.55, 0.62, ("green", "orange", "yellow"), zone="walk"),
    "lamp": Kind(draw_lamp, 0.32, 0.45, ("yellow", "white", "red", "blue", "green", "orange")),
    "streetlight": Kind(draw_streetlight, 0.5, 0.35, ("black", "grey", "green"), zone="walk"),
    "sofa": Kind(draw_sofa, 0.26, 2.2, ("red", "blue", "green", "grey", "brown", "purple", "orange"), surface=0.5),
    "potted plant": Kind(draw_potted_plant, 0.22, 0.75, ("brown", "white", "red", "blue", "orange"), zone="surface"),
    "boat": Kind(draw_boat, 0.2, 1.3, ("red", "blue", "white", "yellow", "orange", "green"), zone="water"),
    "bench": Kind(draw_bench, 0.2, 2.2, ("brown", "green", "red", "black", "blue"), zone="walk", surface=0.47),
    "bird": Kind(draw_bird, 0.06, 1.5, ("black", "blue", "red", "white", "yellow", "brown"), zone="sky"),
    "flower": Kind(draw_flower, 0.13, 0.55, ("red", "yellow", "pink", "purple", "white", "orange", "blue")),
    "bed": Kind(draw_bed, 0.3, 2.0, ("blue", "red", "green", "pink", "purple", "yellow", "grey"), surface=0.38),
    "kite": Kind(draw_kite, 0.13, 0.8, ("red", "blue", "yellow", "green", "orange", "purple", "pink"), zone="sky"),
    "clock": Kind(draw_clock, 0.1, 1.0, ("black", "red", "blue", "brown", "grey"), zone="wall"),
    "tv": Kind(draw_tv, 0.2, 1.45, ("black", "grey", "white"), zone="surface"),
    "vase": Kind(draw_vase, 0.13, 0.55, ("blue", "red", "white", "green", "yellow", "purple"), zone="surface"),
    "book": Kind(draw_book, 0.07, 1.4, ("red", "blue", "green", "yellow", "black", "orange"), zone="surface"),
}

SUPPORTS = {"table", "sofa", "bench", "bed"}
AT_MOST = {"bed": 1, "sofa": 1, "bus": 1, "table": 2, "bench": 2, "umbrella": 2}  # per image
# What may stand on which support (anything else with zone "surface" stands on the ground).
ON_SUPPORT: dict[str, frozenset[str]] = {
    "table": frozenset({"cup", "bottle", "potted plant", "tv", "vase", "book", "lamp", "cat"}),
    "sofa": frozenset({"cat", "book"}),
    "bench": frozenset({"cat", "bottle", "cup", "book"}),
    "bed": frozenset({"cat", "book"}),
}


@dataclass(frozen=True)
class Scene:
    name: str
    objects: dict[str, float]  # category -> weight
    paint: Callable[[ImageDraw.ImageDraw, int, int, np.random.Generator], dict[str, tuple[float, float]]]


def _jitter(colour: RGB, rng: np.random.Generator, amount: int = 12) -> RGB:
    return tuple(int(min(255, max(0, c + d))) for c, d in zip(colour, rng.integers(-amount, amount + 1, 3)))  # type: ignore[return-value]


def _sky(d: ImageDraw.ImageDraw, w: int, bottom: int, rng: np.random.Generator) -> None:
    d.rectangle((0, 0, w, bottom), fill=_jitter((150, 200, 240), rng))
    if rng.random() < 0.6:
        x, y, r = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.4) * bottom, rng.uniform(0.04, 0.07) * w
        d.ellipse((x - r, y - r, x + r, y + r), fill=(250, 225, 90))
    for _ in range(int(rng.integers(0, 4))):
        x, y = rng.uniform(0, w), rng.uniform(0.1, 0.6) * bottom
        cw, ch = rng.uniform(0.08, 0.18) * w, rng.uniform(0.03, 0.06) * w
        d.ellipse((x, y, x + cw, y + ch), fill=(248, 248, 250))


def _zones(horizon: float, h: int, near: float = 0.12) -> dict[str, tuple[float, float]]:
    return {"ground": (horizon + near * (h - horizon), h - 2.0), "sky": (0.12 * h, horizon - 8.0), "horizon": (horizon, horizon)}


def paint_beach(d: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    horizon, shore = rng.uniform(0.3, 0.4) * h, rng.uniform(0.52, 0.6) * h
    _sky(d, w, int(horizon), rng)
    d.rectangle((0, horizon, w, shore), fill=_jitter((40, 110, 180), rng))
    for i in range(4):
        y = horizon + (i + 0.5) * (shore - horizon) / 4
        d.line((0, y, w, y), fill=(90, 150, 210), width=1)
    d.rectangle((0, shore, w, h), fill=_jitter((230, 210, 160), rng))
    zones = _zones(shore, h)
    zones["water"] = (horizon + 0.45 * (shore - horizon), shore - 2.0)
    zones["horizon"] = (horizon, horizon)
    return zones


def _room(d: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator, wall: RGB, floor: RGB) -> float:
    floor_y = rng.uniform(0.5, 0.62) * h
    d.rectangle((0, 0, w, floor_y), fill=_jitter(wall, rng, 20))
    d.rectangle((0, floor_y, w, h), fill=_jitter(floor, rng, 15))
    if rng.random() < 0.7:  # a window
        x = rng.uniform(0.05, 0.7) * w
        d.rectangle((x, 0.12 * h, x + 0.22 * w, 0.12 * h + 0.18 * w), fill=(235, 235, 235))
        d.rectangle((x + 4, 0.12 * h + 4, x + 0.22 * w - 4, 0.12 * h + 0.18 * w - 4), fill=(175, 215, 240))
    return floor_y


def _room_zones(floor_y: float, h: int) -> dict[str, tuple[float, float]]:
    zones = _zones(floor_y, h, near=0.15)
    zones["wall"] = (0.2 * h, floor_y - 0.12 * h)
    return zones


def paint_kitchen(d: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    floor_y = _room(d, w, h, rng, (235, 230, 210), (200, 200, 195))
    tile = max(12, w // 16)
    for x in range(0, w, tile):  # floor tiles
        d.line((x, floor_y, x, h), fill=(170, 170, 165))
    d.rectangle((0, floor_y - 0.1 * h, w, floor_y), fill=(200, 190, 170))
    return _room_zones(floor_y, h)


def paint_living_room(d: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    floor_y = _room(d, w, h, rng, (220, 205, 185), (160, 115, 75))
    for i in range(1, 6):  # floor boards
        y = floor_y + i * (h - floor_y) / 6
        d.line((0, y, w, y), fill=(130, 90, 55))
    if rng.random() < 0.6:
        x = rng.uniform(0.1, 0.6) * w
        d.rectangle((x, 0.15 * h, x + 0.16 * w, 0.3 * h), fill=(90, 60, 40))
        d.rectangle((x + 4, 0.15 * h + 4, x + 0.16 * w - 4, 0.3 * h - 4), fill=_jitter((120, 160, 120), rng, 40))
    return _room_zones(floor_y, h)


def paint_bedroom(d: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    floor_y = _room(d, w, h, rng, (200, 210, 230), (180, 160, 150))
    return _room_zones(floor_y, h)


def paint_street(d: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    walk_top, road_top = rng.uniform(0.42, 0.5) * h, rng.uniform(0.58, 0.65) * h
    _sky(d, w, int(walk_top), rng)
    x = 0.0
    while x < w:  # buildings along the street
        bw, bh = rng.uniform(0.12, 0.25) * w, rng.uniform(0.2, 0.4) * h
        d.rectangle((x, walk_top - bh, x + bw, walk_top), fill=_jitter((170, 150, 140), rng, 40))
        for wy in np.arange(walk_top - bh + 8, walk_top - 14, 16):
            for wx in np.arange(x + 6, x + bw - 10, 14):
                d.rectangle((wx, wy, wx + 7, wy + 8), fill=(200, 220, 235))
        x += bw
    d.rectangle((0, walk_top, w, road_top), fill=_jitter((190, 190, 185), rng))
    d.rectangle((0, road_top, w, h), fill=_jitter((80, 80, 85), rng))
    lane = road_top + 0.5 * (h - road_top)
    for x0 in range(0, w, 40):
        d.rectangle((x0, lane - 2, x0 + 22, lane + 2), fill=(240, 240, 240))
    zones = _zones(walk_top, h)
    zones["walk"] = (walk_top + 4.0, road_top + 2.0)
    zones["road"] = (road_top + 0.3 * (h - road_top), h - 2.0)
    zones["ground"] = (walk_top + 4.0, h - 2.0)
    return zones


def _grass(d: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator, horizon: float) -> None:
    _sky(d, w, int(horizon), rng)
    for _ in range(3):  # distant hills
        cx, r = rng.uniform(0, w), rng.uniform(0.2, 0.4) * w
        d.ellipse((cx - r, horizon - 0.25 * r, cx + r, horizon + 0.25 * r), fill=_jitter((90, 150, 80), rng))
    d.rectangle((0, horizon, w, h), fill=_jitter((100, 175, 80), rng))
    for _ in range(30):
        x, y = rng.uniform(0, w), rng.uniform(horizon + 5, h)
        d.line((x, y, x + 2, y - 5), fill=(70, 140, 60))


def paint_meadow(d: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    horizon = rng.uniform(0.35, 0.45) * h
    _grass(d, w, h, rng, horizon)
    return _zones(horizon, h)


def paint_park(d: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    horizon = rng.uniform(0.38, 0.46) * h
    _grass(d, w, h, rng, horizon)
    x = rng.uniform(0.3, 0.7) * w
    d.polygon([(x - 0.03 * w, horizon), (x + 0.03 * w, horizon), (x + 0.25 * w, h), (x - 0.25 * w, h)], fill=(215, 195, 150))
    return _zones(horizon, h)


SCENES: dict[str, Scene] = {
    s.name: s
    for s in (
        Scene("beach", {"ball": 3, "umbrella": 3, "chair": 2, "boat": 2, "dog": 2, "bird": 1, "bottle": 1, "kite": 1}, paint_beach),
        Scene(
            "kitchen",
            {"table": 3, "chair": 2, "cup": 3, "bottle": 2, "potted plant": 1, "cat": 1, "clock": 1, "vase": 1},
            paint_kitchen,
        ),
        Scene(
            "street",
            {"car": 4, "bus": 1, "bicycle": 2, "tree": 2, "dog": 1, "bench": 1, "streetlight": 1, "bird": 1},
            paint_street,
        ),
        Scene("meadow", {"tree": 3, "dog": 2, "ball": 2, "flower": 3, "bird": 1, "kite": 1, "bicycle": 1, "cat": 1}, paint_meadow),
        Scene(
            "living room",
            {"sofa": 3, "table": 2, "chair": 1, "lamp": 2, "potted plant": 1, "cat": 2, "dog": 1, "tv": 1, "clock": 1, "cup": 1, "book": 1, "ball": 1},
            paint_living_room,
        ),
        Scene(
            "park",
            {"bench": 3, "tree": 3, "dog": 2, "bicycle": 1, "ball": 2, "bird": 1, "streetlight": 1, "kite": 1, "flower": 1},
            paint_park,
        ),
        Scene("bedroom", {"bed": 4, "lamp": 2, "chair": 1, "cat": 2, "book": 1, "potted plant": 1, "clock": 1, "table": 1}, paint_bedroom),
    )
}


# ---------------------------------------------------------------- one rendered image


@dataclass
class Placed:
    category: str
    colour: str
    box: tuple[float, float, float, float]  # xyxy as drawn
    flip: bool
    size_word: str | None
    layer: tuple[float, int, float]  # draw order key
    support: int | None = None  # index of the object it stands on


@dataclass
class Rendered:
    image: Image.Image
    ids: np.ndarray  # HxW uint8, 0 = background, k + 1 = object k (in draw order)
    objects: list[Placed]
    full_masks: list[np.ndarray]  # each object's whole shape before occlusion


def _size_word(apparent: float) -> str | None:
    if apparent >= 1.15:
        return "big"
    if apparent <= 0.8:
        return "small"
    return None


def _place(scene: Scene, zones: dict[str, tuple[float, float]], w: int, h: int, rng: np.random.Generator) -> list[Placed]:
    names = list(scene.objects)
    weights = np.array([scene.objects[n] for n in names], dtype=float)
    count = int(rng.integers(1, 6))
    chosen = []
    for i in rng.choice(len(names), size=count, p=weights / weights.sum()):
        if chosen.count(names[i]) < AT_MOST.get(names[i], count):
            chosen.append(names[i])
    chosen.sort(key=lambda c: c not in SUPPORTS)  # supports first, so things can stand on them
    horizon = zones["horizon"][0]
    placed: list[Placed] = []
    for cat in chosen:
        kind = KINDS[cat]
        factor = float(rng.uniform(0.85, 1.35)) * SIZE_BOOST
        colour = kind.colours[int(rng.integers(len(kind.colours)))]
        flip = bool(rng.random() < 0.5)
        supports = [i for i, o in enumerate(placed) if cat in ON_SUPPORT.get(o.category, ())]
        zone = kind.zone
        if zone == "surface" or (supports and rng.random() < 0.4):
            zone = "surface" if supports else "ground"
        if zone not in zones:
            zone = "ground"
        support = None
        if zone == "surface":
            support = supports[int(rng.integers(len(supports)))]
            sup = placed[support]
            sx0, sy0, sx1, sy1 = sup.box
            scale = (sy1 - sy0) / (KINDS[sup.category].height * h * SIZE_BOOST)
            bottom = sy0 + (KINDS[sup.category].surface or 0.0) * (sy1 - sy0) + 1
            bh = kind.height * h * scale * factor * 0.8
            bw = min(bh * kind.aspect, 0.8 * (sx1 - sx0))
            x0 = float(rng.uniform(sx0 + 0.05 * (sx1 - sx0), max(sx0 + 0.05 * (sx1 - sx0), sx1 - bw - 0.05 * (sx1 - sx0))))
            layer = (sup.layer[0], 1, float(rng.random()))
        else:
            lo, hi = zones[zone]
            bottom = float(rng.uniform(lo, max(lo, hi)))
            if zone in ("sky", "wall"):
                scale = 1.0
                layer = (-1.0, 0, bottom)
            else:
                depth = (bottom - horizon) / max(h - horizon, 1.0)
                scale = float(np.clip(0.6 + 0.7 * depth, 0.55, 1.3))
                layer = (bottom, 0, 0.0)
            bh = kind.height * h * scale * factor
            bw = min(bh * kind.aspect * float(rng.uniform(0.9, 1.1)), 0.6 * w)
            x0 = float(rng.uniform(2, max(3, w - bw - 2)))
        top = max(1.0, bottom - bh)
        apparent = factor / SIZE_BOOST * (scale if zone not in ("sky", "wall") else 1.0)
        placed.append(Placed(cat, colour, (x0, top, x0 + bw, bottom), flip, _size_word(apparent), layer, support))
    order = sorted(range(len(placed)), key=lambda i: placed[i].layer)
    remap = {old: new for new, old in enumerate(order)}
    result = [placed[i] for i in order]
    for o in result:
        if o.support is not None:
            o.support = remap[o.support]
    return result


def render(scene: Scene, rng: np.random.Generator) -> Rendered:
    w = int(rng.integers(320, 481))
    h = int(round(w * float(rng.uniform(0.65, 0.8))))
    image = Image.new("RGB", (w, h))
    ids = Image.new("L", (w, h), 0)
    zones = scene.paint(ImageDraw.Draw(image), w, h, rng)
    objects = _place(scene, zones, w, h, rng)
    painter = Painter(image, ids)
    full_masks = []
    for k, obj in enumerate(objects):
        painter.begin(k + 1, obj.box, obj.flip)
        KINDS[obj.category].draw(painter, _jitter(COLOURS[obj.colour], rng, 10))
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


# ---------------------------------------------------------------- masks -> regions, phrases


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


# ---------------------------------------------------------------- the source


class DemoSource:
    uses_options = frozenset({"images"})  # what `scar build` may pass it: it renders its own data
    name = "demo"

    def __init__(self, options: SourceOptions) -> None:
        if options.images is None:
            raise ScarError("the demo source writes its images under an images root: pass --images DIR")
        self.options = options
        self.images_root = Path(options.images)
        extra = options.extra.get("demo_images")
        self.counts = {s: int(extra) if extra is not None else n for s, n in DEFAULT_IMAGES.items()}

    def expected_entities(self, split: Split) -> int | None:
        """About 3 visible objects per image (1-5 drawn, some hidden); for the progress bar's ETA."""
        return self.counts.get(split, 0) * min(3, self.options.max_per_image)

    def source_stats(self, split: Split) -> dict[str, Any] | None:
        """Scene labels per image (exact) and the expected objects per category (each scene's object
        weights, three objects an image), without rendering: what the generator draws swaps from."""
        categories: dict[str, float] = {}
        scenes: dict[str, int] = {}
        for index in range(self.counts.get(split, 0)):
            scene, _ = scene_of(self.options.seed, split, index)
            scenes[scene.name] = scenes.get(scene.name, 0) + 1
            total = sum(scene.objects.values())
            for category, weight in scene.objects.items():
                categories[category] = categories.get(category, 0.0) + 3.0 * weight / total
        if not scenes:
            return None
        return {"categories": {k: max(1, round(v)) for k, v in sorted(categories.items())}, "scenes": dict(sorted(scenes.items()))}

    def iter_records(self, split: Split) -> Iterator[Record]:
        if split not in DEFAULT_IMAGES:
            raise ScarError(f"demo source: unknown split {split!r}; expected train or eval")
        out_dir = self.images_root / "demo" / split
        out_dir.mkdir(parents=True, exist_ok=True)
        for index in range(self.counts[split]):
            image_id = f"{split}-{index:05d}"
            scene, rendered, rng = render_image(self.options.seed, split, index)
            rel_path = f"demo/{split}/{image_id}.png"
            write_png(rendered.image, out_dir / f"{image_id}.png")
            yield from self._records(split, image_id, rel_path, scene.name, rendered, rng)

    def _records(
        self, split: Split, image_id: str, rel_path: str, scene: str, rendered: Rendered, rng: np.random.Generator
    ) -> Iterator[Record]:
        h, w = rendered.ids.shape
        n = len(rendered.objects)
        visible = [rendered.ids == k + 1 for k in range(n)]
        areas = [int(np.count_nonzero(v)) for v in visible]
        boxes = [tight_box(v) if a > 0 else None for v, a in zip(visible, areas)]
        occluded = [
            a < MIN_VISIBLE_PIXELS or a < MIN_VISIBLE_FRACTION * np.count_nonzero(full)
            for a, full in zip(areas, rendered.full_masks)
        ]
        usable = [k for k in range(n) if not occluded[k]]
        # the cap keeps the largest visible objects; records still come out in draw order
        keep = set(sorted(usable, key=lambda k: (-areas[k], k))[: max(0, self.options.max_per_image)])
        min_pixels = self.options.min_area * w * h
        for k, obj in enumerate(rendered.objects):
            record = f"demo:{image_id}:{k}"
            if occluded[k]:
                total = int(np.count_nonzero(rendered.full_masks[k]))
                yield Rejected("demo", record, "occluded", rel_path, f"{areas[k]} of {total} pixels visible", image_path=rel_path)
                continue
            if k not in keep:
                continue
            if areas[k] < min_pixels:
                yield Rejected("demo", record, "below min area", rel_path, f"{areas[k]} px < {min_pixels:.0f} px")
                continue
            box = boxes[k]
            assert box is not None
            neighbours = tuple(
                Neighbour(o.category, tuple(float(v) for v in boxes[j]))  # type: ignore[arg-type]
                for j, o in enumerate(rendered.objects)
                if j != k and boxes[j] is not None
            )
            attributes = (obj.colour,) + ((obj.size_word,) if obj.size_word else ())
            yield Entity(
                source="demo",
                split=split,
                image_id=image_id,
                entity_id=str(k),
                image_path=rel_path,
                image_width=w,
                image_height=h,
                category=obj.category,
                region=Region(
                    box_xywh=tuple(float(v) for v in box),  # type: ignore[arg-type]
                    point_xy=interior_point(visible[k], box),
                    mask_rle=mask_to_rle(visible[k]),
                ),
                texts=(referring_phrase(k, rendered, visible, boxes, rng),),
                scene=scene,
                attributes=attributes,
                neighbours=neighbours,
            )


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
