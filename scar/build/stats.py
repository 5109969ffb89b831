"""`<out>/stats.json`, recomputed from every shard sidecar under `out` (all sources, all workers) after
each build, with what is published from it: `<out>/dataset_card.md` and the hub `<out>/README.md`
(scar.publish), the audit and build.json."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from scar.build.manifests import MANIFEST_NAME, declared_terms
from scar.build.shards import SIDECAR_SUFFIX, numeric_sum
from scar.core.errors import ScarError
from scar.core.images_roots import ROOTS_KEY, STATS_NAME, recorded_roots, stored_form
from scar.core.locking import exclusive_lock
from scar.core.schema import RejectionLog
from scar.core.tempfiles import atomic_write_bytes, atomic_write_json
from scar.core.version import __version__
from scar.publish.build_identity import write_identity
from scar.publish.dataset_card import CARD_NAME, render_card
from scar.publish.hub_card import write_readme

STATS_LOCK_NAME = ".stats.lock"


def collect_stats(out: Path, images_root: Path | None = None) -> dict[str, Any]:
    """Sum every shard sidecar under `out` into one stats document (all sources, all workers)."""
    sources: dict[str, Any] = {}
    for manifest_path in sorted(out.glob(f"*/{MANIFEST_NAME}")):
        source_dir = manifest_path.parent
        manifest = json.loads(manifest_path.read_text("utf-8"))
        splits: dict[str, Any] = {}
        usage: dict[str, Any] = {}
        for sidecar in sorted(source_dir.glob(f"*-*{SIDECAR_SUFFIX}")):
            split = sidecar.name.split("-", 1)[0]
            parquet = sidecar.with_name(sidecar.name.replace(SIDECAR_SUFFIX, ".parquet"))
            if not parquet.exists():
                continue  # a chunk killed between its sidecar and its Parquet rename: not finished
            shard = json.loads(sidecar.read_text("utf-8"))
            agg = splits.setdefault(
                split,
                {
                    "shards": 0,
                    "records": 0,
                    "entities": 0,
                    "samples": 0,
                    "rejected": 0,
                    "categories": Counter(),
                    "neg_types": Counter(),
                    "rejections": RejectionLog(),
                },
            )
            agg["shards"] += 1
            for key in ("records", "entities", "samples", "rejected"):
                agg[key] += shard[key]
            agg["categories"].update(shard["categories"])
            agg["neg_types"].update(shard["neg_types"])
            if shard.get("scene_methods"):
                agg.setdefault("scene_methods", Counter()).update(shard["scene_methods"])
            agg["rejections"].merge(shard["rejections"])
            usage = numeric_sum(usage, shard.get("generator_usage") or {})
        for agg in splits.values():
            agg["categories"] = dict(sorted(agg["categories"].items(), key=lambda kv: (-kv[1], kv[0])))
            agg["neg_types"] = dict(sorted(agg["neg_types"].items()))
            if "scene_methods" in agg:
                agg["scene_methods"] = dict(sorted(agg["scene_methods"].items(), key=lambda kv: (-kv[1], kv[0])))
            agg["rejections"] = agg["rejections"].to_dict()
        sources[source_dir.name] = {"manifest": manifest, "splits": splits, "generator_usage": usage}
        declared = declared_terms(source_dir)
        if declared:
            sources[source_dir.name]["declared_terms"] = declared
    stats: dict[str, Any] = {"toolkit_version": __version__, "sources": sources}
    roots = {name: src["manifest"]["images_root"] for name, src in sources.items() if src["manifest"].get("images_root")}
    if images_root is not None:  # sources built before roots were recorded per source
        roots.update({name: stored_form(images_root, out) for name in sources if name not in roots})
    stats[ROOTS_KEY] = dict(sorted(roots.items()))
    return stats


def write_stats_and_card(out: Path, images_root: Path | None, audit_rows: int | None = 0) -> dict[str, Any]:
    """Recompute stats.json, the card and the hub README.md from every sidecar under `out`; with `audit_rows` (rows per source
    and split, None for all, 0 for no audit) the blind-baseline audit of the build too (scar.audit: also
    DIR/audit.json). Workers sharing `out` take turns (scar.core.locking), so the last one to write has summed
    every shard committed before it."""
    with exclusive_lock(out / STATS_LOCK_NAME):
        if images_root is None:  # a legacy single root recorded by an older build
            try:
                images_root = recorded_roots(out)[1]
            except ScarError:
                images_root = None
        stats = collect_stats(out, images_root)
        audit_text = ""
        if audit_rows != 0 and any(src["splits"] for src in stats["sources"].values()):
            from scar.audit import build_audit

            try:
                stats["audit"], audit_text = build_audit(out, audit_rows)
            except ScarError as exc:  # an audit that cannot run never costs the build
                stats["audit"] = {"error": str(exc)}
        atomic_write_json(out / STATS_NAME, stats)
        card = render_card(stats) + (f"\n{audit_text}" if audit_text else "")
        atomic_write_bytes(out / CARD_NAME, card.encode("utf-8"))
        write_readme(out, stats, card)  # the hub card: `datasets.load_dataset(out)` reads the SCaR rows
        write_identity(out)  # build.json: the build's name and data fingerprints, which its task names use
    return stats
