"""Drawing every object twice: in colour on the picture and with its id on the object-id map.

Shapes are given in the object's own unit box (u, v in 0..1, flipped when the object faces left),
so one drawing function serves every size and position. Also the palette the objects are painted in.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

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


def shade(colour: RGB, factor: float) -> RGB:
    return tuple(int(min(255, max(0, c * factor))) for c in colour)  # type: ignore[return-value]


DARK: RGB = (35, 35, 40)
GLASS: RGB = (170, 210, 235)
WHITE: RGB = (245, 245, 245)
WOOD: RGB = (120, 80, 45)
LEAF: RGB = (55, 140, 55)
