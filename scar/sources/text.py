"""Checks and normal forms of the texts an annotation file holds (category names, phrases)."""

from __future__ import annotations


def text_problem(text: object) -> str | None:
    """Why a source text cannot be used, or None."""
    if not isinstance(text, str):
        return "text is not a string"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "non-UTF-8 text"
    return None


def clean_category(name: object) -> str:
    return " ".join(str(name).replace("_", " ").split()).strip().lower()
