"""The output folder of `scar export`: refused unless empty, new, or an earlier export of the same layout.

A marker (`.scar-export.json`) is written before anything else, so a killed export can be rerun into
the same folder; it ends up listing what the export wrote (files, counts, the build it came from).
A rerun rewrites every file and deletes the files of the earlier run that the new one no longer
writes; nothing else in the folder is touched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from scar.core.errors import ScarError
from scar.core.tempfiles import atomic_write_json

MARKER = ".scar-export.json"
FORMAT = "scar-export"


def _within(inner: Path, outer: Path) -> bool:
    try:
        inner.relative_to(outer)
        return True
    except ValueError:
        return False


def read_marker(out: Path) -> dict[str, Any] | None:
    path = out / MARKER
    if not path.is_file():
        return None
    try:
        marker = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        marker = None
    if not isinstance(marker, dict) or marker.get("format") != FORMAT:
        raise ScarError(f"{path}: not a `scar export` marker; choose another --out")
    return marker


def prepare(out: Path, build_dir: Path, layout: str, planned: list[str]) -> list[str]:
    """Claim `out` for an export of `build_dir` that will write `planned` (paths relative to `out`);
    returns the files an earlier export into it wrote, so `finish` can delete those no longer written."""
    real_out, real_build = out.resolve(), build_dir.resolve()
    if _within(real_out, real_build) or _within(real_build, real_out):
        raise ScarError(f"--out {out}: must be outside the build folder {build_dir} (and not hold it)")
    if out.exists() and not out.is_dir():
        raise ScarError(f"--out {out}: exists and is not a folder")
    previous: list[str] = []
    if out.is_dir() and any(out.iterdir()):
        marker = read_marker(out)
        if marker is None:
            raise ScarError(f"--out {out}: not empty and not written by `scar export`; choose another --out")
        if marker.get("layout") != layout:
            raise ScarError(f"--out {out}: holds a `--layout {marker.get('layout')}` export; choose another --out")
        previous = [str(f) for f in marker.get("files") or [] if isinstance(f, str)]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScarError(f"cannot create --out {out}: {exc.strerror or exc}") from None
    # Listed before anything is written, so the rerun of a killed export still knows every file it may have left.
    claimed = sorted(set(previous) | set(planned))
    atomic_write_json(out / MARKER, {"format": FORMAT, "layout": layout, "build": str(real_build), "complete": False,
                                     "files": claimed})
    return claimed


def real_folder(out: Path, rel: str) -> Path:
    """`out/rel` as a folder of the export, created if needed; refused when it (or a folder on the way) is a
    symlink, so nothing written into it can land outside `out`."""
    path = out
    for part in Path(rel).parts:
        path = path / part
        if path.is_symlink():
            raise ScarError(f"{path}: a symlink inside the export folder; remove it and rerun")
        path.mkdir(exist_ok=True)
    return path


def finish(out: Path, layout: str, build_dir: Path, files: list[str], previous: list[str], summary: dict[str, Any]) -> None:
    """Delete the earlier run's files this one did not write, then record the export as complete."""
    real_out = out.resolve()
    for rel in sorted(set(previous) - set(files)):
        path = out / rel
        if _within(path.resolve(), real_out) and path.is_file() and not path.is_symlink():
            path.unlink()
            parent = path.parent
            while parent != out and _within(parent.resolve(), real_out) and not any(parent.iterdir()):
                os.rmdir(parent)
                parent = parent.parent
    atomic_write_json(out / MARKER, {"format": FORMAT, "layout": layout, "build": str(build_dir.resolve()),
                                     "complete": True, "files": sorted(files), **summary})
