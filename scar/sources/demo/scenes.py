"""Scene types: each paints its background (sky, water, walls, road...) and says where objects may stand.

A scene's `paint` returns its zones: for each kind of place (ground, sky, wall, water, road, walk)
the range of image rows an object's bottom edge may take there, plus the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import ImageDraw

from scar.sources.demo.painter import RGB


@dataclass(frozen=True)
class Scene:
    name: str
    objects: dict[str, float]  # category -> weight
    paint: Callable[[ImageDraw.ImageDraw, int, int, np.random.Generator], dict[str, tuple[float, float]]]


def jitter(colour: RGB, rng: np.random.Generator, amount: int = 12) -> RGB:
    return tuple(int(min(255, max(0, c + d))) for c, d in zip(colour, rng.integers(-amount, amount + 1, 3)))  # type: ignore[return-value]


def _sky(d: ImageDraw.ImageDraw, w: int, bottom: int, rng: np.random.Generator) -> None:
    d.rectangle((0, 0, w, bottom), fill=jitter((150, 200, 240), rng))
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
    d.rectangle((0, horizon, w, shore), fill=jitter((40, 110, 180), rng))
    for i in range(4):
        y = horizon + (i + 0.5) * (shore - horizon) / 4
        d.line((0, y, w, y), fill=(90, 150, 210), width=1)
    d.rectangle((0, shore, w, h), fill=jitter((230, 210, 160), rng))
    zones = _zones(shore, h)
    zones["water"] = (horizon + 0.45 * (shore - horizon), shore - 2.0)
    zones["horizon"] = (horizon, horizon)
    return zones


def _room(d: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator, wall: RGB, floor: RGB) -> float:
    floor_y = rng.uniform(0.5, 0.62) * h
    d.rectangle((0, 0, w, floor_y), fill=jitter(wall, rng, 20))
    d.rectangle((0, floor_y, w, h), fill=jitter(floor, rng, 15))
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
        d.rectangle((x + 4, 0.15 * h + 4, x + 0.16 * w - 4, 0.3 * h - 4), fill=jitter((120, 160, 120), rng, 40))
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
        d.rectangle((x, walk_top - bh, x + bw, walk_top), fill=jitter((170, 150, 140), rng, 40))
        for wy in np.arange(walk_top - bh + 8, walk_top - 14, 16):
            for wx in np.arange(x + 6, x + bw - 10, 14):
                d.rectangle((wx, wy, wx + 7, wy + 8), fill=(200, 220, 235))
        x += bw
    d.rectangle((0, walk_top, w, road_top), fill=jitter((190, 190, 185), rng))
    d.rectangle((0, road_top, w, h), fill=jitter((80, 80, 85), rng))
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
        d.ellipse((cx - r, horizon - 0.25 * r, cx + r, horizon + 0.25 * r), fill=jitter((90, 150, 80), rng))
    d.rectangle((0, horizon, w, h), fill=jitter((100, 175, 80), rng))
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
