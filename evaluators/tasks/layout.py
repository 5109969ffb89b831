"""What a `--scar-root` holds: which sources' eval data, in which layout, and the name of the build.

Two layouts are read:
  build      a `scar build` folder or its hub export: `<root>/<source>/eval-NNNNN.parquet`, the build's
             name in `<root>/build.json` (scar.publish.build_identity);
  official   `scar export --layout official`'s `SCaR-eval/` (or the release itself):
             `<root>/SCAR_<DS>_val_filtered.parquet`, each exported file naming its source and build in
             its Parquet metadata (`scar.export`).
A build written before names were recorded is named after its folder (`SCaR-eval`'s parent folder for
an official-layout folder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from evaluators.tasks.catalog import OFFICIAL_EVAL_PREFIX, OFFICIAL_EVAL_SUFFIX, OFFICIAL_STEMS
from scar.publish.build_identity import eval_shards, read_identity

EXPORT_KEY = b"scar.export"  # the marker scar.export.official writes into every file's metadata
OFFICIAL_FOLDER = "SCaR-eval"


@dataclass(frozen=True)
class RootSource:
    source: str
    files: tuple[Path, ...]
    aliases: tuple[str, ...] = ()  # other names --tasks accepts for it: the file stem, the official config key


@dataclass(frozen=True)
class ScarRoot:
    path: Path
    name: str  # the build's name, for `<name>/<source>` task names
    sources: dict[str, RootSource] = field(default_factory=dict)

    def names_of(self, source: str) -> tuple[str, ...]:
        """Every name --tasks may use for `source` (compared case-blind)."""
        found = self.sources[source]
        folder = self.path.resolve().name
        return (source, f"{self.name}/{source}", f"{folder}/{source}", *found.aliases)


def _export_marker(path: Path) -> dict:
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
        marker = json.loads(metadata.get(EXPORT_KEY, b"{}"))
    except (OSError, ValueError):  # an unreadable file is reported by the loader, naming it
        return {}
    return marker if isinstance(marker, dict) else {}


def _official_files(root: Path) -> dict[str, tuple[Path, dict]]:
    """stem -> (file, export marker) of the official-layout eval files directly in `root`."""
    found = {}
    for path in sorted(root.glob(f"{OFFICIAL_EVAL_PREFIX}*{OFFICIAL_EVAL_SUFFIX}")):
        stem = path.name[len(OFFICIAL_EVAL_PREFIX):-len(OFFICIAL_EVAL_SUFFIX)]
        if stem and path.is_file():
            found[stem] = (path, _export_marker(path))
    return found


def inspect_root(scar_root: Path | None) -> ScarRoot:
    if scar_root is None or not Path(scar_root).is_dir():
        return ScarRoot(Path(scar_root or "."), Path(scar_root or ".").resolve().name)
    root = Path(scar_root)
    identity = read_identity(root)
    sources: dict[str, RootSource] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        shards = eval_shards(folder)
        if shards:
            sources[folder.name] = RootSource(folder.name, tuple(shards))
    by_stem = {stem: source for source, stem in OFFICIAL_STEMS.items()}
    names: list[str] = []
    for stem, (path, marker) in _official_files(root).items():
        source = marker.get("source") if isinstance(marker.get("source"), str) else by_stem.get(stem, stem)
        build = marker.get("build")
        if isinstance(build, dict) and isinstance(build.get("name"), str) and build["name"]:
            names.append(build["name"])
        if source not in sources:
            config_key = f"{OFFICIAL_EVAL_PREFIX}{stem}_val"
            sources[source] = RootSource(source, (path,), (path.stem, config_key, f"{OFFICIAL_EVAL_PREFIX}{stem}"))
    if identity is not None:
        name = identity["name"]
    elif names:
        name = sorted(names)[0]
    elif root.resolve().name == OFFICIAL_FOLDER and _official_files(root):
        name = root.resolve().parent.name
    else:
        name = root.resolve().name
    return ScarRoot(root, name, dict(sorted(sources.items())))
