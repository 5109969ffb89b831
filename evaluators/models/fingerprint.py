"""What identifies a model's code and weights: the content hash of a model folder, and the hash of
the source files that define a custom embedder (outside the Python installation and this toolkit).
They join the model fingerprint (evaluators.models.protocol.EmbedderInfo) and the run id."""

from __future__ import annotations

import hashlib
import inspect
import os
import sys
import sysconfig
from pathlib import Path
from typing import Iterable

WHOLE_FILE_LIMIT = 8 << 20  # bigger files are hashed by size, head and tail (weights: GBs)
EDGE_BYTES = 1 << 20


def directory_hash(root: Path) -> str:
    """A content hash of a model folder: every file's relative path and bytes (large files: size,
    first and last MiB), hidden entries skipped. Stable across copies and machines."""
    h = hashlib.blake2b(digest_size=6)
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(f for f in filenames if not f.startswith(".")):
            path = Path(dirpath) / name
            try:
                size = path.stat().st_size
                h.update(f"{path.relative_to(root).as_posix()}\0{size}\0".encode("utf-8"))
                with open(path, "rb") as f:
                    if size <= WHOLE_FILE_LIMIT:
                        h.update(f.read())
                    else:
                        h.update(f.read(EDGE_BYTES))
                        f.seek(size - EDGE_BYTES)
                        h.update(f.read(EDGE_BYTES))
            except OSError:
                continue
    return h.hexdigest()


def _installed_roots() -> tuple[Path, ...]:
    """The Python installation and this toolkit: code that is not the user's model."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()}
    toolkit = Path(__file__).resolve().parents[2]  # evaluators/models/ -> the checkout
    return (*sorted(Path(r).resolve() for r in roots if r), *(toolkit / p for p in ("scar", "evaluators", "baselines")))


def source_files(objects: Iterable[object]) -> list[Path]:
    """The module files that define `objects` (classes or functions) and the classes they derive from,
    outside the Python installation and this toolkit; sorted, each once."""
    roots = _installed_roots()
    found: set[Path] = set()
    for obj in objects:
        for cls in getattr(obj, "__mro__", (obj,)):
            try:
                name = inspect.getsourcefile(cls)  # type: ignore[arg-type]
            except TypeError:  # builtins, and classes of modules without a file
                continue
            if name is None:
                continue
            path = Path(name).resolve()
            if path.is_file() and not any(path.is_relative_to(root) for root in roots):
                found.add(path)
    return sorted(found)


def source_hash(objects: Iterable[object]) -> str:
    """A content hash of the source files of `objects` (see `source_files`); "" when there are none."""
    files = source_files(objects)
    if not files:
        return ""
    h = hashlib.blake2b(digest_size=6)
    for path in files:
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()
