"""The demo's categories: how each is drawn, its size, colours and where it stands, and what may stand on what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from scar.sources.demo.painter import RGB, Painter
from scar.sources.demo.shapes import (
    draw_ball, draw_bed, draw_bench, draw_bicycle, draw_bird, draw_boat, draw_book, draw_bottle, draw_bus, draw_car,
    draw_cat, draw_chair, draw_clock, draw_cup, draw_dog, draw_flower, draw_kite, draw_lamp, draw_potted_plant,
    draw_sofa, draw_streetlight, draw_table, draw_tree, draw_tv, draw_umbrella, draw_vase,
)


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
