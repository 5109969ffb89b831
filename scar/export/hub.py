"""`scar export DIR --layout hub`: a self-contained copy of a build, ready to upload as a hub dataset.

    OUT/README.md                       the dataset card with YAML `configs:` (scar.publish.hub_card)
    OUT/<source>/<split>-NNNNN.parquet  the build's shards, unchanged (hard links where possible)
    OUT/images/<source>/<path>          the rows' images; `stats.json` records `images/<source>` as
                                        each source's images root, so OUT is itself a build folder
    OUT/stats.json, dataset_card.md, audit.json, OUT/<source>/.build-manifest.json
    OUT/build.json                      the build's identity (its name and eval fingerprints), kept

`datasets.load_dataset(OUT)` returns the SCaR rows; `scar validate OUT` and `scar eval --scar-root OUT`
read it wherever it is copied. With `--no-images` the images stay where they are and `stats.json`
keeps their absolute roots.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from scar.build.manifests import MANIFEST_NAME
from scar.core.images_roots import ROOTS_KEY, STATS_NAME
from scar.core.tempfiles import atomic_write_bytes, atomic_write_json
from scar.export.build_folder import Build
from scar.export.images import COPY, IMAGES_FOLDER, LINK, NONE, ImagePlan, place_file, place_images, prune, same_file
from scar.export.outdir import finish, real_folder
from scar.export.progress import progress_bar
from scar.export.session import IMAGE_COLUMNS, ExportResult, start
from scar.publish.build_identity import IDENTITY_NAME, current_identity
from scar.publish.dataset_card import CARD_NAME
from scar.publish.hub_card import README_NAME, write_readme

LAYOUT = "hub"
AUDIT_NAME = "audit.json"


def planned_files(build: Build) -> list[str]:
    shards = [f"{s.name}/{f.name}" for s in build.sources for files in s.shards.values() for f in files]
    shards += [f"{s.name}/{MANIFEST_NAME}" for s in build.sources]
    extra = [AUDIT_NAME] if (build.path / AUDIT_NAME).is_file() else []
    return shards + [STATS_NAME, CARD_NAME, README_NAME, IDENTITY_NAME] + extra


def _check_images(build: Build, plan: ImagePlan, advance) -> None:
    for source in build.sources:
        for files in source.shards.values():
            for shard in files:
                parquet = pq.ParquetFile(shard)
                columns = [c for c in IMAGE_COLUMNS if c in parquet.schema_arrow.names]
                first = 0
                for batch in parquet.iter_batches(batch_size=10_000, columns=columns):
                    for column in columns:
                        for i, value in enumerate(batch.column(column).to_pylist()):
                            if value:
                                plan.add(source.name, source.images_root, value, f"{shard} row {first + i}")
                    first += batch.num_rows
                    advance(batch.num_rows)


def _stats(build: Build, images_mode: str) -> dict[str, Any]:
    stats = copy.deepcopy(build.stats)
    roots = {s.name: (f"{IMAGES_FOLDER}/{s.name}" if images_mode != NONE else str(s.images_root.resolve()))
             for s in build.sources}
    stats[ROOTS_KEY] = dict(sorted(roots.items()))
    stats.pop("images_root", None)  # the legacy single root: superseded by the per-source roots
    stats["sources"] = {name: src for name, src in stats["sources"].items() if name in roots}
    for name, src in stats["sources"].items():
        if isinstance(src.get("manifest"), dict):
            src["manifest"]["images_root"] = roots[name]
    return stats


def export_hub(build_dir: Path, out: Path, images_mode: str = LINK, images_override: Path | None = None,
               progress: bool = False) -> ExportResult:
    build, previous, result, plan = start(build_dir, out, LAYOUT, images_mode, images_override, planned_files)
    total = build.total_rows()
    with progress_bar(progress) as bar:
        task = bar.add_task("rows", total=total)
        _check_images(build, plan, lambda n: bar.advance(task, n))
        for source in build.sources:
            real_folder(out, source.name)
            for files in source.shards.values():
                for shard in files:
                    dest = out / source.name / shard.name
                    # Shards are written once and renamed in, never changed in place, so a link is a safe copy.
                    if not (dest.exists() and same_file(str(shard), dest, COPY)):
                        place_file(str(shard), dest, LINK if images_mode == LINK else COPY)
                    result.files[f"{source.name}/{shard.name}"] = pq.read_metadata(dest).num_rows
        if images_mode != NONE:
            task = bar.add_task("images", total=len(plan.files))
            result.images = place_images(plan, real_folder(out, IMAGES_FOLDER), images_mode, lambda n: bar.advance(task, n))
    result.pruned = prune(out / IMAGES_FOLDER, plan) if images_mode != NONE else 0
    stats = _stats(build, images_mode)
    atomic_write_json(out / STATS_NAME, stats)
    for name, src in stats["sources"].items():  # readers check stats.json against the folders holding a manifest
        if isinstance(src.get("manifest"), dict):
            atomic_write_json(out / name / MANIFEST_NAME, src["manifest"])
    card_file = build.path / CARD_NAME
    card = card_file.read_text("utf-8") if card_file.is_file() else ""
    atomic_write_bytes(out / CARD_NAME, card.encode("utf-8"))
    if (build.path / AUDIT_NAME).is_file():
        atomic_write_bytes(out / AUDIT_NAME, (build.path / AUDIT_NAME).read_bytes())
    write_readme(out, stats, card)
    atomic_write_json(out / IDENTITY_NAME, current_identity(build_dir))
    summary = result.summary()
    finish(out, LAYOUT, build_dir, planned_files(build), previous, summary)
    return result
