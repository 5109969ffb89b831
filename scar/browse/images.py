"""Where a row's image is: the images root(s) of a build, and the safe join of a row's relative path."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from scar.core.errors import ScarError
from scar.core.images_roots import build_folder, recorded_roots


@dataclass(frozen=True)
class ImageRoots:
    """The images root of each source of a build (scar.core.images_roots), and the one used for others."""

    default: Path | None
    origin: str  # how it was found, for messages: "--images", "stats.json", "DIR/images", "none"
    per_source: dict[str, Path] = field(default_factory=dict)

    def for_source(self, source: str) -> Path | None:
        return self.per_source.get(source, self.default)


def resolve_image_roots(target: Path, override: Path | None) -> ImageRoots:
    """The images root(s) for `target` (a build folder or a Parquet file): `--images`, else the roots
    stats.json records per source (relative ones resolved against the build folder), else DIR/images."""
    if override is not None:
        if not override.is_dir():
            raise ScarError(f"{override}: images root is not a directory")
        return ImageRoots(override.resolve(), "--images")
    base = build_folder(target)
    try:
        per_source, legacy = recorded_roots(base)
    except ScarError:
        per_source, legacy = {}, None
    found = {source: root.resolve() for source, root in per_source.items() if root.is_dir()}
    default = legacy.resolve() if legacy is not None and legacy.is_dir() else None
    if default is None and len(set(found.values())) == 1:
        default = next(iter(found.values()))
    if found or default is not None:
        return ImageRoots(default, "stats.json", found)
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
