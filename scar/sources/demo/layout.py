"""Which objects a demo image holds and where: chosen by the scene's weights, sized by depth, some on supports."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scar.sources.demo.categories import AT_MOST, KINDS, ON_SUPPORT, SUPPORTS
from scar.sources.demo.scenes import Scene

SIZE_BOOST = 1.25  # every object is drawn this much larger than its Kind.height


@dataclass
class Placed:
    category: str
    colour: str
    box: tuple[float, float, float, float]  # xyxy as drawn
    flip: bool
    size_word: str | None
    layer: tuple[float, int, float]  # draw order key
    support: int | None = None  # index of the object it stands on


def _size_word(apparent: float) -> str | None:
    if apparent >= 1.15:
        return "big"
    if apparent <= 0.8:
        return "small"
    return None


def place_objects(scene: Scene, zones: dict[str, tuple[float, float]], w: int, h: int, rng: np.random.Generator) -> list[Placed]:
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
