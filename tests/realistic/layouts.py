"""Realistic scene layouts: which things and stuff appear together, and where, in a photo of each kind of place.

Each scene template lists stuff layers (sky above a horizon, ground below it, walls and floors
indoors) and things with a placement rule: standing on the ground (perspective: nearer = lower and
larger), on a support (a cup on the dining table), carried by or under a person (skis, a backpack,
a racket), in the sky, on the wall, on the water. Names are generic here (COCO thing names plus
generic stuff names); writers map them to each dataset's vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels

SIZES = ((640, 480), (640, 427), (480, 640), (640, 360), (500, 375), (612, 612))
COLOURS = ("red", "blue", "white", "black", "green", "yellow", "grey", "brown", "orange", "silver", "pink")
COLOURED = frozenset(
    "car bus truck umbrella bicycle motorcycle couch chair cup kite surfboard bench boat backpack handbag "
    "suitcase frisbee skateboard snowboard bowl vase bottle tie teddy bear bed train airplane".split()
)


@dataclass(frozen=True)
class Thing:
    cat: str
    prob: float
    count: tuple[int, int]
    zone: str  # ground | sky | wall | water | on:<cat>[|<cat>] | under:<cat> | held:<cat> | back:<cat> | ride:<cat>
    height: tuple[float, float]  # fraction of the image height (ground: at the nearest row)
    aspect: tuple[float, float]  # width / height


@dataclass(frozen=True)
class Stuff:
    cat: str
    prob: float
    zone: str  # sky | ground | wall | ceiling | band:<top>:<bottom> | side | patch


@dataclass(frozen=True)
class Scene:
    name: str
    indoor: bool
    stuff: tuple[Stuff, ...]
    things: tuple[Thing, ...]


def T(cat: str, prob: float, count: tuple[int, int], zone: str, height: tuple[float, float], aspect: tuple[float, float]) -> Thing:
    return Thing(cat, prob, count, zone, height, aspect)


def S(cat: str, prob: float, zone: str) -> Stuff:
    return Stuff(cat, prob, zone)


PERSON = (0.45, 0.8)
PERSON_ASPECT = (0.3, 0.5)

SCENES: tuple[Scene, ...] = (
    Scene("kitchen", True,
          (S("wall", 1, "wall"), S("floor", 0.9, "ground"), S("ceiling", 0.3, "ceiling"), S("cabinet", 0.8, "band:0.05:0.3"),
           S("counter", 0.8, "hband:-0.12:0.0"), S("window", 0.4, "patch")),
          (T("oven", 0.6, (1, 1), "ground", (0.3, 0.4), (0.9, 1.2)), T("refrigerator", 0.5, (1, 1), "ground", (0.6, 0.8), (0.45, 0.6)),
           T("sink", 0.6, (1, 1), "on:counter", (0.06, 0.1), (2, 3)), T("microwave", 0.4, (1, 1), "on:counter", (0.1, 0.15), (1.4, 1.8)),
           T("dining table", 0.35, (1, 1), "ground", (0.2, 0.3), (1.5, 2.5)), T("chair", 0.35, (1, 2), "ground", (0.3, 0.4), (0.5, 0.7)),
           T("cup", 0.5, (1, 3), "on:counter|dining table", (0.05, 0.08), (0.7, 1)), T("bowl", 0.45, (1, 2), "on:counter|dining table", (0.04, 0.06), (1.8, 2.5)),
           T("bottle", 0.45, (1, 3), "on:counter|dining table", (0.09, 0.14), (0.3, 0.4)), T("knife", 0.2, (1, 1), "on:counter|dining table", (0.02, 0.03), (3, 5)),
           T("spoon", 0.15, (1, 1), "on:counter|dining table", (0.02, 0.03), (3, 4)), T("banana", 0.2, (1, 2), "on:counter|dining table", (0.03, 0.05), (2, 3)),
           T("apple", 0.15, (1, 3), "on:counter|dining table", (0.04, 0.05), (1, 1.1)), T("person", 0.45, (1, 2), "ground", PERSON, PERSON_ASPECT),
           T("potted plant", 0.25, (1, 1), "on:counter", (0.1, 0.15), (0.7, 1)), T("clock", 0.2, (1, 1), "wall", (0.07, 0.1), (1, 1)),
           T("vase", 0.1, (1, 1), "on:counter|dining table", (0.08, 0.12), (0.4, 0.6)), T("toaster", 0.1, (1, 1), "on:counter", (0.06, 0.08), (1.2, 1.5)))),
    Scene("living room", True,
          (S("wall", 1, "wall"), S("floor", 0.9, "ground"), S("ceiling", 0.3, "ceiling"), S("window", 0.6, "patch"),
           S("curtain", 0.4, "patch"), S("rug", 0.5, "band:0.75:0.95")),
          (T("couch", 0.85, (1, 2), "ground", (0.25, 0.35), (1.8, 2.6)), T("chair", 0.5, (1, 2), "ground", (0.3, 0.4), (0.6, 0.8)),
           T("tv", 0.6, (1, 1), "wall", (0.15, 0.22), (1.5, 1.8)), T("potted plant", 0.5, (1, 2), "ground", (0.2, 0.35), (0.5, 0.8)),
           T("book", 0.35, (1, 4), "on:dining table|couch", (0.03, 0.05), (1.2, 1.6)), T("remote", 0.3, (1, 1), "on:couch|dining table", (0.02, 0.03), (2.5, 3.5)),
           T("dining table", 0.45, (1, 1), "ground", (0.12, 0.18), (2, 3)), T("person", 0.5, (1, 2), "ground", PERSON, PERSON_ASPECT),
           T("dog", 0.25, (1, 1), "ground", (0.15, 0.25), (1.2, 1.6)), T("cat", 0.25, (1, 1), "on:couch", (0.08, 0.12), (1.2, 1.6)),
           T("clock", 0.2, (1, 1), "wall", (0.06, 0.09), (1, 1)), T("vase", 0.25, (1, 1), "on:dining table", (0.08, 0.12), (0.4, 0.6)),
           T("cup", 0.25, (1, 2), "on:dining table", (0.04, 0.06), (0.7, 1)), T("laptop", 0.15, (1, 1), "on:couch|dining table", (0.06, 0.09), (1.3, 1.6)))),
    Scene("bedroom", True,
          (S("wall", 1, "wall"), S("floor", 0.8, "ground"), S("window", 0.5, "patch"), S("curtain", 0.5, "patch"), S("rug", 0.3, "band:0.8:0.97")),
          (T("bed", 0.95, (1, 1), "ground", (0.3, 0.45), (1.6, 2.4)), T("chair", 0.3, (1, 1), "ground", (0.3, 0.4), (0.6, 0.8)),
           T("tv", 0.35, (1, 1), "wall", (0.12, 0.18), (1.5, 1.8)), T("book", 0.3, (1, 3), "on:bed", (0.03, 0.05), (1.2, 1.6)),
           T("clock", 0.2, (1, 1), "wall", (0.05, 0.08), (1, 1.2)), T("teddy bear", 0.25, (1, 1), "on:bed", (0.1, 0.15), (0.7, 0.9)),
           T("cat", 0.25, (1, 1), "on:bed", (0.08, 0.12), (1.2, 1.6)), T("laptop", 0.25, (1, 1), "on:bed", (0.06, 0.09), (1.3, 1.6)),
           T("person", 0.35, (1, 1), "ground", PERSON, PERSON_ASPECT), T("potted plant", 0.2, (1, 1), "ground", (0.2, 0.3), (0.5, 0.8)),
           T("suitcase", 0.15, (1, 1), "ground", (0.15, 0.25), (0.6, 0.8)))),
    Scene("bathroom", True,
          (S("wall", 1, "wall"), S("floor", 0.8, "ground"), S("mirror", 0.6, "patch"), S("towel", 0.4, "patch"), S("counter", 0.4, "hband:-0.12:-0.02")),
          (T("toilet", 0.85, (1, 1), "ground", (0.3, 0.4), (0.6, 0.8)), T("sink", 0.8, (1, 1), "on:counter", (0.08, 0.12), (1.8, 2.5)),
           T("toothbrush", 0.25, (1, 2), "on:sink|counter", (0.05, 0.08), (0.2, 0.3)), T("bottle", 0.35, (1, 3), "on:counter", (0.07, 0.11), (0.3, 0.45)),
           T("cup", 0.2, (1, 1), "on:counter|sink", (0.04, 0.06), (0.7, 0.9)), T("hair drier", 0.08, (1, 1), "on:counter", (0.05, 0.08), (1, 1.4)),
           T("person", 0.15, (1, 1), "ground", PERSON, PERSON_ASPECT), T("potted plant", 0.15, (1, 1), "on:counter", (0.08, 0.12), (0.6, 0.9)))),
    Scene("dining room", True,
          (S("wall", 1, "wall"), S("floor", 0.8, "ground"), S("window", 0.5, "patch"), S("curtain", 0.3, "patch")),
          (T("dining table", 0.95, (1, 1), "ground", (0.25, 0.35), (2, 3)), T("chair", 0.8, (1, 4), "ground", (0.3, 0.42), (0.5, 0.7)),
           T("person", 0.7, (1, 4), "ground", PERSON, PERSON_ASPECT), T("cup", 0.6, (1, 3), "on:dining table", (0.05, 0.07), (0.7, 1)),
           T("wine glass", 0.4, (1, 3), "on:dining table", (0.07, 0.1), (0.35, 0.5)), T("bowl", 0.45, (1, 2), "on:dining table", (0.04, 0.06), (1.8, 2.5)),
           T("fork", 0.35, (1, 2), "on:dining table", (0.02, 0.03), (3, 5)), T("knife", 0.3, (1, 2), "on:dining table", (0.02, 0.03), (3, 5)),
           T("pizza", 0.25, (1, 1), "on:dining table", (0.05, 0.08), (2, 2.8)), T("cake", 0.2, (1, 1), "on:dining table", (0.07, 0.1), (1.2, 1.6)),
           T("sandwich", 0.15, (1, 2), "on:dining table", (0.04, 0.06), (1.4, 2)), T("bottle", 0.4, (1, 2), "on:dining table", (0.1, 0.14), (0.3, 0.4)),
           T("vase", 0.2, (1, 1), "on:dining table", (0.1, 0.14), (0.4, 0.6)), T("spoon", 0.2, (1, 1), "on:dining table", (0.02, 0.03), (3, 4)))),
    Scene("office", True,
          (S("wall", 1, "wall"), S("floor", 0.7, "ground"), S("window", 0.4, "patch"), S("desk", 0.9, "hband:-0.1:0.0"), S("shelf", 0.3, "patch")),
          (T("laptop", 0.6, (1, 1), "on:desk", (0.1, 0.14), (1.3, 1.6)), T("keyboard", 0.5, (1, 1), "on:desk", (0.03, 0.05), (3.5, 5)),
           T("mouse", 0.45, (1, 1), "on:desk", (0.02, 0.03), (1.4, 1.8)), T("tv", 0.5, (1, 2), "on:desk", (0.15, 0.2), (1.4, 1.8)),
           T("chair", 0.7, (1, 2), "ground", (0.3, 0.4), (0.6, 0.8)), T("person", 0.5, (1, 2), "ground", PERSON, PERSON_ASPECT),
           T("book", 0.4, (1, 4), "on:desk", (0.04, 0.06), (0.8, 1.4)), T("cell phone", 0.3, (1, 1), "on:desk", (0.02, 0.03), (1.6, 2)),
           T("cup", 0.4, (1, 1), "on:desk", (0.05, 0.07), (0.7, 1)), T("potted plant", 0.2, (1, 1), "on:desk", (0.1, 0.14), (0.6, 0.9)),
           T("clock", 0.15, (1, 1), "wall", (0.06, 0.08), (1, 1)), T("scissors", 0.1, (1, 1), "on:desk", (0.02, 0.03), (2, 3)))),
    Scene("street", False,
          (S("sky", 0.9, "sky"), S("building", 0.9, "side"), S("road", 0.95, "ground"), S("sidewalk", 0.7, "band:0.85:1.0"), S("tree", 0.5, "patch")),
          (T("car", 0.9, (1, 4), "ground", (0.15, 0.3), (1.6, 2.4)), T("bus", 0.3, (1, 1), "ground", (0.35, 0.5), (1.8, 2.6)),
           T("truck", 0.3, (1, 1), "ground", (0.3, 0.45), (1.5, 2.2)), T("person", 0.8, (1, 4), "ground", PERSON, PERSON_ASPECT),
           T("traffic light", 0.5, (1, 2), "sky", (0.06, 0.1), (0.35, 0.45)), T("stop sign", 0.15, (1, 1), "ground", (0.25, 0.35), (0.3, 0.4)),
           T("fire hydrant", 0.15, (1, 1), "ground", (0.08, 0.12), (0.6, 0.8)), T("bicycle", 0.3, (1, 2), "ground", (0.18, 0.25), (1.4, 1.8)),
           T("motorcycle", 0.25, (1, 2), "ground", (0.18, 0.25), (1.3, 1.7)), T("bench", 0.15, (1, 1), "ground", (0.12, 0.18), (2, 3)),
           T("parking meter", 0.1, (1, 1), "ground", (0.2, 0.28), (0.2, 0.3)), T("umbrella", 0.2, (1, 1), "held:person", (0.1, 0.15), (1.5, 2)),
           T("handbag", 0.25, (1, 1), "held:person", (0.06, 0.09), (0.9, 1.2)), T("backpack", 0.25, (1, 1), "back:person", (0.1, 0.14), (0.7, 0.9)))),
    Scene("park", False,
          (S("sky", 0.8, "sky"), S("tree", 0.9, "side"), S("grass", 0.95, "ground"), S("pavement", 0.4, "band:0.8:0.95")),
          (T("person", 0.9, (1, 4), "ground", PERSON, PERSON_ASPECT), T("dog", 0.45, (1, 2), "ground", (0.15, 0.22), (1.2, 1.6)),
           T("bench", 0.4, (1, 1), "ground", (0.12, 0.18), (2, 3)), T("frisbee", 0.3, (1, 1), "held:person", (0.03, 0.05), (1.6, 2.2)),
           T("kite", 0.3, (1, 2), "sky", (0.05, 0.1), (0.8, 1.2)), T("bicycle", 0.3, (1, 1), "ground", (0.18, 0.25), (1.4, 1.8)),
           T("sports ball", 0.25, (1, 1), "ground", (0.03, 0.05), (1, 1)), T("umbrella", 0.15, (1, 1), "held:person", (0.1, 0.15), (1.5, 2)),
           T("bird", 0.25, (1, 3), "ground", (0.03, 0.05), (1.2, 1.6)), T("backpack", 0.2, (1, 1), "back:person", (0.1, 0.14), (0.7, 0.9)))),
    Scene("beach", False,
          (S("sky", 1, "sky"), S("sea", 0.95, "hband:0.0:0.12"), S("sand", 0.95, "ground"), S("clouds", 0.4, "patch")),
          (T("person", 0.9, (1, 4), "ground", PERSON, PERSON_ASPECT), T("surfboard", 0.6, (1, 2), "held:person", (0.08, 0.12), (2.5, 3.5)),
           T("umbrella", 0.5, (1, 2), "ground", (0.25, 0.35), (1.5, 2)), T("kite", 0.35, (1, 2), "sky", (0.05, 0.1), (0.8, 1.2)),
           T("boat", 0.3, (1, 2), "water", (0.05, 0.1), (1.8, 2.6)), T("bird", 0.25, (1, 3), "sky", (0.03, 0.05), (1.4, 1.8)),
           T("chair", 0.2, (1, 2), "ground", (0.15, 0.2), (0.8, 1)), T("dog", 0.2, (1, 1), "ground", (0.12, 0.18), (1.2, 1.6)),
           T("bottle", 0.15, (1, 1), "ground", (0.06, 0.08), (0.3, 0.4)))),
    Scene("ski slope", False,
          (S("sky", 0.9, "sky"), S("mountain", 0.7, "hband:-0.15:0.0"), S("snow", 1, "ground"), S("tree", 0.5, "side")),
          (T("person", 0.95, (1, 4), "ground", PERSON, PERSON_ASPECT), T("skis", 0.8, (1, 2), "under:person", (0.03, 0.05), (3, 5)),
           T("snowboard", 0.25, (1, 1), "under:person", (0.04, 0.06), (2.5, 3.5)), T("backpack", 0.3, (1, 1), "back:person", (0.1, 0.14), (0.7, 0.9)))),
    Scene("tennis court", False,
          (S("playingfield", 1, "ground"), S("fence", 0.7, "hband:-0.25:0.0"), S("sky", 0.4, "sky"), S("tree", 0.3, "side")),
          (T("person", 0.95, (1, 2), "ground", PERSON, PERSON_ASPECT), T("tennis racket", 0.85, (1, 1), "held:person", (0.08, 0.12), (0.5, 0.8)),
           T("sports ball", 0.6, (1, 1), "sky", (0.015, 0.025), (1, 1)), T("chair", 0.2, (1, 1), "ground", (0.15, 0.2), (0.7, 0.9)),
           T("bench", 0.15, (1, 1), "ground", (0.1, 0.15), (2, 3)))),
    Scene("baseball field", False,
          (S("dirt", 0.9, "band:0.7:1.0"), S("grass", 0.9, "ground"), S("fence", 0.6, "hband:-0.2:0.0"), S("sky", 0.4, "sky")),
          (T("person", 0.95, (2, 4), "ground", PERSON, PERSON_ASPECT), T("baseball bat", 0.7, (1, 1), "held:person", (0.1, 0.15), (0.3, 0.6)),
           T("baseball glove", 0.7, (1, 2), "held:person", (0.04, 0.06), (1, 1.2)), T("sports ball", 0.4, (1, 1), "sky", (0.015, 0.02), (1, 1)),
           T("bench", 0.15, (1, 1), "ground", (0.1, 0.15), (2, 3)))),
    Scene("pasture", False,
          (S("sky", 0.9, "sky"), S("grass", 1, "ground"), S("tree", 0.6, "side"), S("fence", 0.4, "hband:0.0:0.12"), S("hill", 0.4, "hband:-0.12:0.0")),
          (T("cow", 0.5, (1, 4), "ground", (0.2, 0.3), (1.4, 1.8)), T("sheep", 0.4, (1, 5), "ground", (0.12, 0.2), (1.2, 1.5)),
           T("horse", 0.4, (1, 3), "ground", (0.3, 0.4), (1.1, 1.4)), T("dog", 0.2, (1, 1), "ground", (0.12, 0.18), (1.2, 1.6)),
           T("person", 0.35, (1, 2), "ground", PERSON, PERSON_ASPECT), T("bird", 0.2, (1, 2), "sky", (0.03, 0.05), (1.4, 1.8)),
           T("truck", 0.1, (1, 1), "ground", (0.25, 0.35), (1.5, 2.2)))),
    Scene("airport", False,
          (S("sky", 1, "sky"), S("road", 0.9, "ground"), S("grass", 0.5, "hband:0.0:0.15"), S("building", 0.4, "side")),
          (T("airplane", 0.95, (1, 2), "ground", (0.25, 0.45), (2, 3.5)), T("truck", 0.4, (1, 2), "ground", (0.12, 0.2), (1.5, 2.2)),
           T("person", 0.4, (1, 3), "ground", (0.15, 0.25), PERSON_ASPECT), T("car", 0.2, (1, 1), "ground", (0.1, 0.15), (1.6, 2.4)))),
    Scene("harbour", False,
          (S("sky", 1, "sky"), S("water", 1, "ground"), S("building", 0.5, "side"), S("tree", 0.3, "side"), S("bridge", 0.2, "hband:-0.15:0.0")),
          (T("boat", 0.95, (1, 4), "water", (0.1, 0.25), (1.8, 2.8)), T("person", 0.4, (1, 2), "on:boat", (0.1, 0.15), PERSON_ASPECT),
           T("bird", 0.35, (1, 3), "sky", (0.03, 0.05), (1.4, 1.8)), T("bench", 0.1, (1, 1), "ground", (0.1, 0.15), (2, 3)))),
    Scene("train station", False,
          (S("railroad", 0.9, "ground"), S("platform", 0.8, "band:0.6:1.0"), S("sky", 0.6, "sky"), S("building", 0.5, "side"), S("roof", 0.4, "band:0.0:0.12")),
          (T("train", 0.95, (1, 1), "ground", (0.35, 0.55), (1.6, 3)), T("person", 0.6, (1, 4), "ground", PERSON, PERSON_ASPECT),
           T("bench", 0.25, (1, 1), "ground", (0.1, 0.15), (2, 3)), T("clock", 0.2, (1, 1), "sky", (0.06, 0.09), (1, 1)),
           T("handbag", 0.2, (1, 1), "held:person", (0.06, 0.09), (0.9, 1.2)), T("suitcase", 0.2, (1, 1), "ground", (0.1, 0.15), (0.6, 0.8)))),
    Scene("savanna", False,
          (S("sky", 0.9, "sky"), S("grass", 0.9, "ground"), S("tree", 0.6, "side"), S("dirt", 0.4, "band:0.7:1.0")),
          (T("giraffe", 0.45, (1, 3), "ground", (0.5, 0.7), (0.5, 0.7)), T("zebra", 0.4, (1, 4), "ground", (0.2, 0.3), (1.3, 1.6)),
           T("elephant", 0.4, (1, 3), "ground", (0.35, 0.5), (1.2, 1.6)), T("bird", 0.15, (1, 2), "sky", (0.03, 0.05), (1.4, 1.8)),
           T("person", 0.1, (1, 1), "ground", (0.2, 0.3), PERSON_ASPECT))),
    Scene("skate park", False,
          (S("sky", 0.8, "sky"), S("pavement", 1, "ground"), S("tree", 0.5, "side"), S("fence", 0.4, "hband:-0.2:0.0")),
          (T("person", 0.95, (1, 3), "ground", PERSON, PERSON_ASPECT), T("skateboard", 0.85, (1, 2), "under:person", (0.03, 0.05), (2.5, 3.5)),
           T("bench", 0.2, (1, 1), "ground", (0.1, 0.15), (2, 3)), T("backpack", 0.15, (1, 1), "back:person", (0.1, 0.14), (0.7, 0.9)))),
)
SCENE_WEIGHTS = (1.2, 1.2, 1.0, 0.8, 0.9, 0.8, 1.6, 1.2, 1.0, 0.7, 0.6, 0.6, 0.7, 0.5, 0.6, 0.6, 0.6, 0.5)


@dataclass
class Placed:
    cat: str
    box: Box
    stuff: bool
    colour: str | None = None
    parent: int | None = None
    zone: str = ""


@dataclass
class Layout:
    scene: Scene
    width: int
    height: int
    horizon: float  # y of the horizon (outdoor) or of the wall/floor line (indoor)
    objects: list[Placed] = field(default_factory=list)

    def label_map(self) -> np.ndarray:
        """H x W int32 map of object index + 1 (0 = unlabelled), stuff painted first, things over it (ellipses)."""
        lab = np.zeros((self.height, self.width), np.int32)
        yy, xx = np.mgrid[0 : self.height, 0 : self.width]
        for i, o in enumerate(self.objects):
            x0, y0, x1, y1 = (int(round(v)) for v in o.box)
            x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, self.width), min(y1, self.height)
            if x1 <= x0 or y1 <= y0:
                continue
            if o.stuff:
                lab[y0:y1, x0:x1] = i + 1
            else:
                cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, max((x1 - x0) / 2, 0.5), max((y1 - y0) / 2, 0.5)
                sub = ((xx[y0:y1, x0:x1] + 0.5 - cx) / rx) ** 2 + ((yy[y0:y1, x0:x1] + 0.5 - cy) / ry) ** 2 <= 1.0
                lab[y0:y1, x0:x1][sub] = i + 1
        return lab


_PAINT_ORDER = {"sky": 0, "wall": 0, "ground": 1, "ceiling": 2}


def _stuff_box(zone: str, w: int, h: int, horizon: float, rng: np.random.Generator) -> Box | None:
    if zone in ("sky", "wall"):
        return (0.0, 0.0, float(w), horizon)
    if zone == "ground":
        return (0.0, horizon, float(w), float(h))
    if zone == "ceiling":
        return (0.0, 0.0, float(w), horizon * rng.uniform(0.1, 0.2))
    if zone == "side":
        left = rng.random() < 0.5
        width = w * rng.uniform(0.25, 0.45)
        top = horizon * rng.uniform(0.0, 0.4)
        bottom = horizon + (h - horizon) * rng.uniform(0.0, 0.15)
        return (0.0, top, width, bottom) if left else (w - width, top, float(w), bottom)
    if zone == "patch":
        pw, ph = w * rng.uniform(0.15, 0.3), horizon * rng.uniform(0.3, 0.6)
        x0 = rng.uniform(0, w - pw)
        y0 = rng.uniform(0.05 * horizon, max(horizon - ph, 0.06 * horizon))
        return (x0, y0, x0 + pw, y0 + ph)
    if zone.startswith(("band:", "hband:")):
        # band: absolute fractions of the height; hband: offsets from the horizon, in image heights
        kind, a, b = zone.split(":")
        base = horizon if kind == "hband" else 0.0
        y0, y1 = base + float(a) * h, base + float(b) * h
        x0, x1 = (0.0, float(w)) if rng.random() < 0.7 else sorted(rng.uniform(0, w, 2).tolist())
        if x1 - x0 < 0.3 * w:
            x0, x1 = 0.0, float(w)
        return (x0, max(y0, 0.0), x1, min(y1, float(h)))
    raise ValueError(zone)


def _ground_box(t: Thing, w: int, h: int, horizon: float, rng: np.random.Generator) -> Box:
    bottom = rng.uniform(horizon + 0.08 * (h - horizon), h)
    scale = 0.35 + 0.65 * (bottom - horizon) / max(h - horizon, 1.0)
    bh = rng.uniform(*t.height) * h * scale
    bw = min(bh * rng.uniform(*t.aspect), 0.9 * w)
    x0 = rng.uniform(0, w - bw)
    return (x0, max(bottom - bh, 0.0), x0 + bw, bottom)


def _attached_box(t: Thing, mode: str, parent: Box, w: int, h: int, rng: np.random.Generator) -> Box:
    px0, py0, px1, py1 = parent
    pw, ph = px1 - px0, py1 - py0
    if mode == "on":
        bw = min(rng.uniform(*t.height) * h * rng.uniform(*t.aspect), 0.8 * pw)
        bh = bw / rng.uniform(*t.aspect)
        cx = rng.uniform(px0 + bw / 2, max(px1 - bw / 2, px0 + bw / 2 + 1))
        bottom = py0 + rng.uniform(0.05, 0.3) * ph
        return (cx - bw / 2, max(bottom - bh, 0.0), cx + bw / 2, bottom)
    if mode == "under":  # skis, skateboard: across the feet, wider than the person
        bw = pw * rng.uniform(1.0, 1.8)
        bh = max(ph * rng.uniform(0.05, 0.1), 3.0)
        cx = (px0 + px1) / 2 + rng.uniform(-0.1, 0.1) * pw
        return (cx - bw / 2, py1 - bh * 0.6, cx + bw / 2, py1 + bh * 0.4)
    if mode == "held":  # at one side of the body, mid height
        bh = rng.uniform(*t.height) * h
        bw = bh * rng.uniform(*t.aspect)
        side = px0 - 0.4 * bw if rng.random() < 0.5 else px1 - 0.6 * bw
        cy = py0 + rng.uniform(0.3, 0.6) * ph
        return (side, cy - bh / 2, side + bw, cy + bh / 2)
    if mode == "back":  # inside the upper half of the body
        bw, bh = 0.6 * pw, 0.3 * ph
        x0 = px0 + rng.uniform(0.05, 0.35) * pw
        y0 = py0 + rng.uniform(0.15, 0.25) * ph
        return (x0, y0, x0 + bw, y0 + bh)
    raise ValueError(mode)


def _clip(box: Box, w: int, h: int) -> Box | None:
    x0, y0, x1, y1 = max(box[0], 0.0), max(box[1], 0.0), min(box[2], float(w)), min(box[3], float(h))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    return (round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2))


def make_layout(rng: np.random.Generator, scenes: Sequence[Scene] = SCENES) -> Layout:
    weights = np.asarray(SCENE_WEIGHTS[: len(scenes)], dtype=float)
    scene = scenes[int(rng.choice(len(scenes), p=weights / weights.sum()))]
    w, h = SIZES[int(rng.integers(len(SIZES)))]
    horizon = h * (rng.uniform(0.5, 0.65) if scene.indoor else rng.uniform(0.35, 0.55))
    lay = Layout(scene, w, h, horizon)
    for s in sorted(scene.stuff, key=lambda s: _PAINT_ORDER.get(s.zone, 3)):  # broad layers first
        if rng.random() >= s.prob:
            continue
        box = _stuff_box(s.zone, w, h, horizon, rng)
        box = _clip(box, w, h) if box else None
        if box:
            lay.objects.append(Placed(s.cat, box, True, zone=s.zone))
    for t in scene.things:
        if rng.random() >= t.prob:
            continue
        for _ in range(int(rng.integers(t.count[0], t.count[1] + 1))):
            placed = _place_thing(t, lay, rng)
            if placed is not None:
                lay.objects.append(placed)
    return lay


def _place_thing(t: Thing, lay: Layout, rng: np.random.Generator) -> Placed | None:
    w, h, horizon = lay.width, lay.height, lay.horizon
    parent = None
    if t.zone == "ground":
        box = _ground_box(t, w, h, horizon, rng)
    elif t.zone in ("sky", "wall"):
        bh = rng.uniform(*t.height) * h
        bw = bh * rng.uniform(*t.aspect)
        x0 = rng.uniform(0, w - bw)
        cy = rng.uniform(0.1 * horizon + bh / 2, max(0.85 * horizon - bh / 2, 0.1 * horizon + bh / 2 + 1))
        box = (x0, cy - bh / 2, x0 + bw, cy + bh / 2)
    elif t.zone == "water":
        water = [o for o in lay.objects if o.stuff and o.cat in ("sea", "water")]
        if not water:
            return None
        wb = water[0].box
        bottom = rng.uniform(wb[1] + 0.3 * (wb[3] - wb[1]), wb[3])
        bh = rng.uniform(*t.height) * h
        bw = bh * rng.uniform(*t.aspect)
        x0 = rng.uniform(0, w - bw)
        box = (x0, bottom - bh, x0 + bw, bottom)
    else:
        mode, _, cats = t.zone.partition(":")
        options = [i for i, o in enumerate(lay.objects) if o.cat in cats.split("|")]
        if not options:
            return None
        parent = options[int(rng.integers(len(options)))]
        box = _attached_box(t, mode, lay.objects[parent].box, w, h, rng)
    clipped = _clip(box, w, h)
    if clipped is None:
        return None
    colour = COLOURS[int(rng.integers(len(COLOURS)))] if t.cat in COLOURED and rng.random() < 0.7 else None
    return Placed(t.cat, clipped, False, colour, parent, t.zone)


def layouts(n: int, seed: int) -> list[Layout]:
    rng = np.random.default_rng(seed)
    return [make_layout(rng) for _ in range(n)]
