"""Keeping the API key out of everything we write: logs, errors, cache, stats."""

from __future__ import annotations

import re

# Shapes of provider keys that may come back inside a server's error text (e.g. OpenAI echoes a masked key).
_KEY_SHAPES = re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-*]{8,}|\bBearer\s+\S+", re.IGNORECASE)


class Redactor:
    """Removes one secret (and anything shaped like an API key) from text."""

    def __init__(self, secret: str | None = None) -> None:
        self._secret = secret or None

    def set_secret(self, secret: str | None) -> None:
        self._secret = secret or None

    def __call__(self, text: object) -> str:
        out = str(text)
        if self._secret:
            out = out.replace(self._secret, "***")
        return _KEY_SHAPES.sub("***", out)


def short_error(exc: BaseException, redact: Redactor, limit: int = 300) -> str:
    """One sanitized line describing an exception, safe to log, store or raise."""
    text = " ".join(redact(f"{type(exc).__name__}: {exc}").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
