"""`scar browse --serve PORT`: serve a written site on 127.0.0.1 (the site also works from file://)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()


def make_server(site: Path, port: int) -> ThreadingHTTPServer:
    """A server for `site` on 127.0.0.1:port (0 = any free port); only files under `site` are served."""
    handler = functools.partial(_QuietHandler, directory=str(site.resolve()))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)
