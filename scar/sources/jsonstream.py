"""Streaming a top-level JSON array one element at a time (Visual Genome's files run to gigabytes).

Each element is parsed by the standard library's C decoder (`raw_decode`) on a sliding text buffer.
ijson (yajl2_c backend) was measured as the alternative and is about half as fast on a 200 MB
Visual Genome-shaped objects.json (tests/benchmarks/bench_json_stream.py); it also fails a whole
file on one invalid UTF-8 byte, where this parser keeps it as a lone surrogate so only that record
is rejected, like `read_json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from scar.core.errors import InputFileError


class TruncatedJson(Exception):
    """Raised by `iter_json_array` after the last complete element of a cut-off file."""

    def __init__(self, path: Path, position: int, message: str) -> None:
        super().__init__(f"{path}: JSON ends or breaks after character {position}: {message}")
        self.path = path
        self.position = position


def iter_json_array(path: Path, chunk_chars: int = 1 << 22) -> Iterator[Any]:
    """Elements of a top-level JSON array, parsed one at a time (big files never sit whole in
    memory). A file cut off mid-way yields every complete element, then raises TruncatedJson."""
    decoder = json.JSONDecoder()
    try:
        handle = open(path, encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        raise InputFileError(path, "file not found") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror or exc}") from None
    with handle:
        buf = handle.read(chunk_chars)
        eof = len(buf) < chunk_chars
        pos = _skip_ws(buf, 0)
        if pos >= len(buf) or buf[pos] != "[":
            raise InputFileError(path, "expected a JSON array")
        pos += 1
        consumed = 0  # characters dropped from the front of buf
        first = True
        while True:
            pos = _skip_ws(buf, pos)
            while pos >= len(buf) and not eof:
                buf, pos, consumed, eof = _refill(handle, buf, pos, consumed, chunk_chars)
                pos = _skip_ws(buf, pos)
            if pos >= len(buf):
                raise TruncatedJson(Path(path), consumed + pos, "array not closed")
            if buf[pos] == "]":
                return
            if not first:
                if buf[pos] != ",":
                    raise TruncatedJson(Path(path), consumed + pos, f"expected ',' but found {buf[pos]!r}")
                pos += 1
            while True:
                pos = _skip_ws(buf, pos)
                try:
                    value, end = decoder.raw_decode(buf, pos)
                except json.JSONDecodeError as exc:
                    if eof:
                        raise TruncatedJson(Path(path), consumed + pos, exc.msg) from None
                    buf, pos, consumed, eof = _refill(handle, buf, pos, consumed, chunk_chars)
                    continue
                except RecursionError:
                    raise InputFileError(path, f"JSON nested too deeply (element at character {consumed + pos})") from None
                # A number at the very end of the buffer may continue in the next chunk.
                if end >= len(buf) and not eof:
                    buf, pos, consumed, eof = _refill(handle, buf, pos, consumed, chunk_chars)
                    continue
                break
            first = False
            pos = end
            yield value


def _skip_ws(buf: str, pos: int) -> int:
    n = len(buf)
    while pos < n and buf[pos] in " \t\r\n":
        pos += 1
    return pos


def _refill(handle: Any, buf: str, pos: int, consumed: int, chunk_chars: int) -> tuple[str, int, int, bool]:
    more = handle.read(chunk_chars)
    return buf[pos:] + more, 0, consumed + pos, len(more) < chunk_chars
