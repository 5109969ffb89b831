"""Small text helpers for building caption parts: normalised names, head nouns, articles, noun phrases."""

from __future__ import annotations

from typing import Sequence

COLOUR_WORDS = frozenset(
    "red blue green yellow orange purple pink white black brown grey gray silver gold beige tan".split()
)
SIZE_WORDS = frozenset("big small large little tiny huge tall short".split())
# Colours each colour class of the taxonomy can plausibly take ("a silver window" is not a caption).
COLOURS_OF_CLASS: dict[str, frozenset[str]] = {
    "any": COLOUR_WORDS,
    "natural": frozenset("white black brown grey gray tan beige gold orange".split()),
    "plant": frozenset("green brown yellow red pink white purple orange".split()),
    "none": frozenset(),
}


def norm_name(name: str) -> str:
    """'Traffic_Light, traffic signal' -> 'traffic light'."""
    return " ".join(name.strip().lower().replace("_", " ").split(",")[0].split())


def head(phrase: str) -> str:
    words = phrase.split()
    return words[-1] if words else ""


def article(phrase: str) -> str:
    first = phrase.split()[0] if phrase else ""
    if first.startswith(("uni", "use", "one", "eu")):
        return "a"
    return "an" if first[:1] in "aeiou" or first in ("hour", "honest") else "a"


def noun_phrase(noun: str, det: str, modifiers: Sequence[str] = ()) -> str:
    """'a red ball', 'the sky', 'some food', 'grass' (det '' for mass nouns)."""
    phrase = " ".join((*modifiers, noun))
    if det == "a":
        return f"{article(phrase)} {phrase}"
    return f"{det} {phrase}" if det else phrase


def the_phrase(noun: str) -> str:
    return f"the {noun}"
