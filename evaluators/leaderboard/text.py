"""Markdown text helpers shared by the leaderboard tables and `scar report`."""

from __future__ import annotations

DASH = "–"
_MD_SPECIAL = "\\`*_[]<>|"


def escape(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in text)
