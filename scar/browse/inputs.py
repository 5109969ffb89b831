"""What the browser reads beside the rows: audit flags (`scar audit`) and rejection examples (stats.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scar.core.errors import ScarError
from scar.core.images_roots import STATS_NAME

AUDIT_NAME = "audit.json"


def _base(target: Path) -> Path:
    return target if target.is_dir() else target.parent


def read_audit(target: Path, override: Path | None = None) -> tuple[Path | None, dict[str, list[str]]]:
    """(file, {row id: flags}) from `--audit` or DIR/audit.json; (None, {}) when there is none.

    Only `row_flags` is read: {row id: ["solved:ngram", ...]}.
    """
    path = override if override is not None else _base(target) / AUDIT_NAME
    if not path.is_file():
        if override is not None:
            raise ScarError(f"{path}: audit file not found")
        return None, {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ScarError(f"{path}: unreadable audit file ({exc})") from None
    flags = data.get("row_flags", {}) if isinstance(data, dict) else None
    if not isinstance(flags, dict):
        raise ScarError(f"{path}: 'row_flags' must map row ids to lists of flags")
    out: dict[str, list[str]] = {}
    for row, values in flags.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ScarError(f"{path}: flags of row {row!r} must be a list of strings")
        if values:
            out[str(row)] = list(dict.fromkeys(values))
    return path, out


def read_stats(target: Path) -> dict[str, Any] | None:
    path = _base(target) / STATS_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ScarError(f"{path}: unreadable stats file ({exc})") from None
    return data if isinstance(data, dict) else None


def rejection_groups(stats: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One entry per (source, split, reason): count, text examples and examples with an image and box."""
    groups: list[dict[str, Any]] = []
    sources = (stats or {}).get("sources")
    if not isinstance(sources, dict):
        return groups
    for source, src in sorted(sources.items()):
        splits = src.get("splits") if isinstance(src, dict) else None
        for split, agg in sorted((splits or {}).items()):
            rejections = agg.get("rejections") if isinstance(agg, dict) else None
            if not isinstance(rejections, dict):
                continue
            counts = rejections.get("counts") or {}
            examples = rejections.get("examples") or {}
            regions = rejections.get("example_regions") or {}
            for key, count in sorted(counts.items(), key=lambda kv: (-int(kv[1]), kv[0])):
                reason = key.split(": ", 1)[1] if key.startswith(f"{source}: ") else key
                groups.append(
                    {
                        "source": source,
                        "split": split,
                        "reason": reason,
                        "count": int(count),
                        "examples": [str(e) for e in examples.get(key, [])],
                        "regions": [r for r in regions.get(key, []) if isinstance(r, dict) and r.get("image_path")],
                    }
                )
    return groups
