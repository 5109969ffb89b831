"""Reading a dataset's own files: bytes and JSON with one-line errors, required files and folders."""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from scar.core.errors import InputFileError


def read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputFileError(path, "file not found") from None
    except IsADirectoryError:
        raise InputFileError(path, "is a directory, expected a file") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror or exc}") from None


def read_json(path: Path, object_hook: Callable[[dict[str, Any]], Any] | None = None) -> Any:
    """Parse a JSON file. Invalid UTF-8 bytes survive as lone surrogates, so the one record that
    holds them is rejected later (see `text_problem`) instead of the whole file failing.
    `object_hook` sees every object as it is parsed (to drop what is not needed, early)."""
    text = read_bytes(path).decode("utf-8", errors="surrogateescape")
    try:
        return json.loads(text, object_hook=object_hook)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            path, f"not valid JSON (truncated or corrupt?): {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise InputFileError(path, "JSON nested too deeply") from None


def require_file(path: Path, what: str) -> Path:
    if not Path(path).is_file():
        raise InputFileError(path, f"{what} not found")
    return Path(path)


def require_dir(path: Path | None, option: str) -> Path:
    if path is None:
        raise InputFileError(option, "this source needs the option (a directory)")
    if not Path(path).is_dir():
        raise InputFileError(path, f"{option}: directory not found")
    return Path(path)


def relative_posix(path: Path, root: Path) -> str | None:
    """`path` relative to `root` with POSIX separators, or None when it is not under root."""
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    except ValueError:
        return None
    rel_posix = PurePosixPath(*Path(rel).parts).as_posix()
    if rel_posix.startswith("../") or rel_posix == "..":
        return None
    return rel_posix
