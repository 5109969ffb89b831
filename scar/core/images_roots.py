"""Where a build's images are: one images root per source, resolved when read.

A build records each source's root in its manifest and in `stats.json` (`"images_roots"`): relative
to the build folder when the images are inside it (the demo's `images/`), else absolute. Readers
(validate, eval, audit, browse) resolve it against the build folder they are given, so a copied or
moved build folder still finds its own images, and several sources built into one `--out` keep
their own roots. `--images` on a reader overrides every recorded root. Builds made before roots were
per source recorded one absolute `"images_root"`; it is still read.
"""

from __future__ import annotations

from pathlib import Path

from scar.core.errors import InputFileError
from scar.core.jsonfiles import read_json

STATS_NAME = "stats.json"
ROOTS_KEY = "images_roots"
LEGACY_KEY = "images_root"
DEFAULT_FOLDER = "images"


def stored_form(images_root: Path, build_dir: Path) -> str:
    """How a build records `images_root`: POSIX-relative to `build_dir` when inside it, else absolute."""
    root, base = Path(images_root).resolve(), Path(build_dir).resolve()
    try:
        return root.relative_to(base).as_posix() or "."
    except ValueError:
        return str(root)


def resolve_stored(stored: str, build_dir: Path) -> Path:
    path = Path(stored)
    return path if path.is_absolute() else Path(build_dir) / path


def build_folder(target: Path) -> Path:
    """The build folder of a target: a folder itself, else the folder of the Parquet file, or the one
    above it for a shard in `<build>/<source>/` (the folder holding stats.json)."""
    target = Path(target)
    if target.is_dir():
        return target
    if not (target.parent / STATS_NAME).is_file() and (target.parent.parent / STATS_NAME).is_file():
        return target.parent.parent
    return target.parent


def recorded_roots(build_dir: Path) -> tuple[dict[str, Path], Path | None]:
    """(source -> images root, the legacy single root or None) as `stats.json` of `build_dir` records them."""
    stats_file = Path(build_dir) / STATS_NAME
    if not stats_file.is_file():
        return {}, None
    stats = read_json(stats_file)
    if not isinstance(stats, dict):
        raise InputFileError(stats_file, "not a JSON object")
    roots = stats.get(ROOTS_KEY) if isinstance(stats.get(ROOTS_KEY), dict) else {}
    per_source = {str(s): resolve_stored(v, build_dir) for s, v in roots.items() if isinstance(v, str) and v}
    legacy = stats.get(LEGACY_KEY)
    return per_source, resolve_stored(legacy, build_dir) if isinstance(legacy, str) and legacy else None


def images_root(target: Path, source: str | None = None, override: Path | None = None) -> Path:
    """The images root of `source`'s rows in `target` (a build folder or a Parquet file in one):
    `override` (--images), else the recorded root of that source, else the build's legacy single
    root, else `<build>/images`."""
    if override is not None:
        return Path(override)
    base = build_folder(target)
    per_source, legacy = recorded_roots(base)
    if source is not None and source in per_source:
        return per_source[source]
    if legacy is not None:
        return legacy
    if source is None and len(set(per_source.values())) == 1:
        return next(iter(per_source.values()))
    return base / DEFAULT_FOLDER
