"""What an export reads from a build folder: its stats, and per source the shards and images root."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scar.check.validate import stats_mismatches
from scar.core.errors import ScarError
from scar.core.images_roots import STATS_NAME, images_root
from scar.core.schema import SPLITS
from scar.export.images import check_source_name

_SHARD = re.compile(r"^(train|eval)-\d{5}\.parquet$")


@dataclass
class BuiltSource:
    name: str
    images_root: Path
    shards: dict[str, list[Path]] = field(default_factory=dict)  # split -> shard files in order
    generator: dict[str, Any] = field(default_factory=dict)


@dataclass
class Build:
    path: Path
    stats: dict[str, Any]
    sources: list[BuiltSource]

    def total_rows(self) -> int:
        import pyarrow.parquet as pq

        return sum(pq.read_metadata(f).num_rows for s in self.sources for files in s.shards.values() for f in files)


def read_build(path: Path, images_override: Path | None = None) -> Build:
    if not path.is_dir():
        raise ScarError(f"{path}: not a folder (give a `scar build` output folder)")
    stats_file = path / STATS_NAME
    if not stats_file.is_file():
        raise ScarError(f"{path}: no {STATS_NAME}; not a `scar build` output folder")
    try:
        stats = json.loads(stats_file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScarError(f"{stats_file}: not a readable JSON file: {exc}") from None
    if not isinstance(stats, dict) or not isinstance(stats.get("sources"), dict):
        raise ScarError(f"{stats_file}: no \"sources\"; not a `scar build` stats file")
    mismatches = stats_mismatches(path)
    if mismatches:
        raise ScarError(f"{path}: {mismatches[0]} (a build still running? finish it or run `scar build --finalize`)")
    sources = []
    for name in sorted(stats["sources"]):
        check_source_name(name)
        folder = path / name
        shards: dict[str, list[Path]] = {}
        for split in SPLITS:
            files = sorted(p for p in folder.glob(f"{split}-*.parquet") if _SHARD.match(p.name) and p.is_file())
            if files:
                shards[split] = files
        if not shards:
            continue
        manifest = (stats["sources"][name] or {}).get("manifest") or {}
        sources.append(BuiltSource(name, images_root(path, name, images_override), shards,
                                   dict(manifest.get("generator") or {})))
    if not sources:
        raise ScarError(f"{path}: no finished shards to export")
    return Build(path, stats, sources)
