"""Reading JSON and JSON Lines files someone else wrote: a one-line error naming the file (and line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from scar.core.errors import InputFileError


def read_json(path: Path, what: str = "JSON file") -> Any:
    """The document in `path`; InputFileError "not a readable <what> (why)" when it cannot be read or parsed."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(path, f"not a readable {what} ({exc})") from None


def json_lines(path: Path, what: str = "JSON Lines file") -> Iterator[tuple[int, Any]]:
    """(line number, value) for every non-blank line; errors name the file, and the line when it is not JSON."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"not a readable {what} ({exc})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFileError(path, f"not JSON ({exc.msg})", record=f"line {number}") from None
        yield number, value
