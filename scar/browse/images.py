"""Where a row's image is: the images root(s) of a build, and the safe join of a row's relative path."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from scar.errors import ScarError


@dataclass(frozen=True)
class ImageRoots:
    """The images root for each source of a build.

    Today a build records one absolute `images_root` in stats.json, so every source maps to it;
    when roots become per source, only `resolve_image_roots` changes.
    """

    default: Path | None
    origin: str  # how it was found, for messages: "--images", "stats.json", "DIR/images", "none"

    def for_source(self, source: str) -> Path | None:
        return self.default


def resolve_image_roots(target: Path, override: Path | None) -> ImageRoots:
    """The images root(s) for `target` (a build folder or a Parquet file): `--images`, else stats.json, else DIR/images."""
    if override is not None:
        if not override.is_dir():
            raise ScarError(f"{override}: images root is not a directory")
        return ImageRoots(override.resolve(), "--images")
    base = target if target.is_dir() else target.parent
    stats = base / "stats.json"
    if stats.is_file():
        try:
            recorded = json.loads(stats.read_text("utf-8")).get("images_root")
        except (OSError, ValueError, AttributeError):
            recorded = None
        if isinstance(recorded, str) and recorded and Path(recorded).is_dir():
            return ImageRoots(Path(recorded), "stats.json")
    if (base / "images").is_dir():
        return ImageRoots((base / "images").resolve(), "DIR/images")
    return ImageRoots(None, "none")


def image_file(root: Path | None, relative: str) -> Path | None:
    """`root / relative` when `relative` is a plain relative path (no absolute path, drive, `..` or NUL); else None."""
    if root is None or not relative or "\x00" in relative:
        return None
    posix = PurePosixPath(relative.replace("\\", "/"))
    if posix.is_absolute() or (len(relative) > 1 and relative[1] == ":") or ".." in posix.parts:
        return None
    return root / Path(*posix.parts)
