"""How each demo category is drawn: one function per category, in the painter's unit box."""

from __future__ import annotations

from scar.sources.demo.painter import DARK, GLASS, LEAF, RGB, WHITE, WOOD, Painter, shade


def draw_ball(p: Painter, c: RGB) -> None:
    p.ellipse(c, 0, 0, 1, 1)
    p.line(WHITE, max(1.0, p.width * 0.06), (0.15, 0.5), (0.5, 0.35), (0.85, 0.5))


def draw_umbrella(p: Painter, c: RGB) -> None:
    p.rect(DARK, 0.48, 0.3, 0.52, 1.0)
    p.pieslice(c, 180, 360, 0, 0, 1, 0.8)
    p.pieslice(shade(c, 0.8), 180, 240, 0, 0, 1, 0.8)


def draw_chair(p: Painter, c: RGB) -> None:
    p.rect(c, 0.05, 0.0, 0.22, 0.58)
    p.rect(c, 0.05, 0.5, 0.95, 0.6)
    p.rect(shade(c, 0.7), 0.07, 0.6, 0.17, 1.0)
    p.rect(shade(c, 0.7), 0.83, 0.6, 0.93, 1.0)


def draw_table(p: Painter, c: RGB) -> None:
    p.rect(c, 0.0, 0.0, 1.0, 0.14)
    p.rect(shade(c, 0.75), 0.06, 0.14, 0.13, 1.0)
    p.rect(shade(c, 0.75), 0.87, 0.14, 0.94, 1.0)


def draw_cup(p: Painter, c: RGB) -> None:
    p.ring(c, max(2.0, p.width * 0.1), 0.55, 0.2, 1.0, 0.7)
    p.rect(c, 0.0, 0.0, 0.75, 1.0)
    p.rect(shade(c, 0.8), 0.0, 0.0, 0.75, 0.1)


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
    p.rect(shade(c, 0.7), 0.86, 0.5, 0.96, 0.85)
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
    dark = shade(c, 0.7)
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
    p.ellipse(shade(c, 1.1), 0.15, 0.0, 0.85, 0.5)


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
    dark = shade(c, 0.8)
    p.rect(c, 0.06, 0.0, 0.94, 0.55)
    p.rect(dark, 0.0, 0.48, 1.0, 0.86)
    p.rect(c, 0.0, 0.3, 0.12, 0.86)
    p.rect(c, 0.88, 0.3, 1.0, 0.86)
    p.rect(DARK, 0.05, 0.86, 0.1, 1.0)
    p.rect(DARK, 0.9, 0.86, 0.95, 1.0)


def draw_potted_plant(p: Painter, c: RGB) -> None:
    p.ellipse(LEAF, 0.05, 0.0, 0.55, 0.68)
    p.ellipse(shade(LEAF, 1.2), 0.45, 0.05, 0.95, 0.68)
    p.ellipse(shade(LEAF, 0.85), 0.25, 0.1, 0.75, 0.62)
    p.polygon(c, (0.22, 0.58), (0.78, 0.58), (0.68, 1.0), (0.32, 1.0))


def draw_boat(p: Painter, c: RGB) -> None:
    p.rect(WOOD, 0.48, 0.0, 0.52, 0.62)
    p.polygon(WHITE, (0.54, 0.04), (0.54, 0.56), (0.9, 0.56))
    p.polygon(c, (0.0, 0.6), (1.0, 0.6), (0.85, 1.0), (0.15, 1.0))


def draw_bench(p: Painter, c: RGB) -> None:
    dark = shade(c, 0.7)
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
    p.polygon(shade(c, 0.75), (0.3, 0.5), (0.62, 0.5), (0.42, 0.0))


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
    p.polygon(shade(c, 0.75), (0.5, 0.0), (1.0, 0.3), (0.5, 0.3))


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
    p.rect(shade(c, 0.75), 0.14, 0.5, 0.86, 0.58)


def draw_book(p: Painter, c: RGB) -> None:
    p.rect(WHITE, 0.05, 0.0, 1.0, 0.9)
    p.rect(c, 0.0, 0.15, 1.0, 1.0)
    p.rect(shade(c, 0.7), 0.0, 0.15, 0.12, 1.0)
