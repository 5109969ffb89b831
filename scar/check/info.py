"""`scar info DIR`: a summary of a built SCaR directory (from its shards and stats.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from scar.core.errors import ScarError


def summarize(root: Path) -> dict[str, Any]:
    if not root.is_dir():
        raise ScarError(f"{root}: not a directory")
    shards: dict[tuple[str, str], dict[str, int]] = {}
    for path in sorted(root.glob("*/*.parquet")):
        if path.name.startswith("."):
            continue
        split = path.name.split("-", 1)[0]
        try:
            meta = pq.read_metadata(path)
        except (OSError, ValueError) as exc:
            raise ScarError(f"{path}: unreadable Parquet file ({exc})") from None
        agg = shards.setdefault((path.parent.name, split), {"files": 0, "rows": 0, "bytes": 0})
        agg["files"] += 1
        agg["rows"] += meta.num_rows
        agg["bytes"] += path.stat().st_size
    if not shards:
        raise ScarError(f"{root}: no shards found (expected <source>/<split>-NNNNN.parquet)")
    stats_path = root / "stats.json"
    stats = json.loads(stats_path.read_text("utf-8")) if stats_path.exists() else {}
    return {"shards": shards, "stats": stats}


def print_summary(root: Path, console: Console | None = None) -> None:
    console = console or Console()
    summary = summarize(root)
    stats_sources = summary["stats"].get("sources", {})
    table = Table(title=f"SCaR build at {root}")
    for col in ("source", "split", "shards", "rows", "size", "rejected", "top categories"):
        table.add_column(col, justify="right" if col in ("shards", "rows", "size", "rejected") else "left")
    for (source, split), agg in sorted(summary["shards"].items()):
        split_stats = stats_sources.get(source, {}).get("splits", {}).get(split, {})
        top = ", ".join(f"{c} {n}" for c, n in list(split_stats.get("categories", {}).items())[:4])
        table.add_row(
            source,
            split,
            str(agg["files"]),
            f"{agg['rows']:,}",
            f"{agg['bytes'] / 1e6:,.1f} MB",
            f"{split_stats.get('rejected', '?')}",
            top,
        )
    console.print(table)
    for source, src in stats_sources.items():
        g = src.get("manifest", {}).get("generator", {})
        console.print(f"{source}: generator {g.get('name')} ({g.get('model')}, prompts {g.get('prompt_version')})")
        for split, agg in src.get("splits", {}).items():
            for reason, n in agg.get("rejections", {}).get("counts", {}).items():
                console.print(f"  {split}: rejected {n:,} x {reason}")
    if "images_root" in summary["stats"]:
        console.print(f"images root: {summary['stats']['images_root']}")
