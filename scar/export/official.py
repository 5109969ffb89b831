"""`scar export DIR --layout official`: the files and folders the official sony/virtue loaders read.

    OUT/SCaR-eval/SCAR_<DS>_val_filtered.parquet   every eval column (the loader picks its four)
    OUT/SCaR-train/SCAR_<DS>.parquet               exactly the official training columns
    OUT/images/<source>/<path>                     one images root for every file
    OUT/eval_scar.yaml, OUT/train_scar.yaml        configs in the official format, pointing here
    OUT/LAYOUT.md                                  how to point the official code at this folder
    OUT/build.json                                 the build's identity (scar.publish.build_identity), kept

One file per source and split (the build's shards concatenated in order). `qry_image_path` becomes
`<source>/<path>`, so `images/` is the single root the official configs take (`image_root`,
`image_dir`). Train files hold exactly the columns the training loader names (it drops six by name
and casts what is left to fixed features, so any other column is at best dropped; the official
`datasets` version is unpinned). Eval files keep the extension columns: the eval
loader ignores them, and `generator`/`source` mark the rows as self-built (scar eval's provenance).
Every file also records `scar.export` (self-built, toolkit version, source, generator, and the build's
name and the source's eval fingerprint) in its Parquet metadata, so `scar eval --scar-root SCaR-eval`
names each task as the build did.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from evaluators.tasks.catalog import ALL_TASKS, custom_scar_task
from scar.core.errors import ScarError
from scar.core.schema import OFFICIAL_TRAIN_COLUMNS
from scar.core.tempfiles import atomic_write_bytes, atomic_write_json, temp_path
from scar.core.version import __version__
from scar.export import names
from scar.export.build_folder import Build, BuiltSource
from scar.export.images import IMAGES_FOLDER, LINK, NONE, ImagePlan, place_images, prune
from scar.export.outdir import finish, real_folder
from scar.export.progress import progress_bar
from scar.export.session import IMAGE_COLUMNS, ExportResult, start
from scar.publish.build_identity import IDENTITY_NAME, current_identity

LAYOUT = "official"
ROW_GROUP = 10_000
LAYOUT_DOC = "LAYOUT.md"
EVAL_CONFIG, TRAIN_CONFIG = "eval_scar.yaml", "train_scar.yaml"


def _folder(split: str) -> str:
    return names.EVAL_FOLDER if split == "eval" else names.TRAIN_FOLDER


def _file_name(source: str, split: str) -> str:
    return names.eval_file(source) if split == "eval" else names.train_file(source)


def planned_files(build: Build) -> list[str]:
    files = [f"{_folder(split)}/{_file_name(s.name, split)}" for s in build.sources for split in s.shards]
    has_train = any("train" in s.shards for s in build.sources)
    return files + [LAYOUT_DOC, EVAL_CONFIG, IDENTITY_NAME] + ([TRAIN_CONFIG] if has_train else [])


def _output_schema(shard: Path, split: str, source: BuiltSource, identity: dict[str, Any]) -> pa.Schema:
    schema = pq.read_schema(shard)
    if split == "train":
        missing = [c for c in OFFICIAL_TRAIN_COLUMNS if c not in schema.names]
        if missing:
            raise ScarError(f"{shard}: no official training column {', '.join(missing)}")
        schema = pa.schema([schema.field(c) for c in OFFICIAL_TRAIN_COLUMNS], metadata=schema.metadata)
    fingerprint = (identity["sources"].get(source.name) or {}).get("eval_fingerprint")
    marker = {"self_built": True, "toolkit_version": __version__, "source": source.name,
              "generator": source.generator, "layout": LAYOUT,
              "build": {"name": identity["name"], "eval_fingerprint": fingerprint}}
    return schema.with_metadata({**(schema.metadata or {}), b"scar.export": json.dumps(marker, sort_keys=True).encode()})


def _rewrite(table: pa.Table, source: BuiltSource, plan: ImagePlan, shard: Path, first_row: int) -> pa.Table:
    if "source" in table.column_names:
        other = [v for v in pc.unique(table.column("source")).to_pylist() if v != source.name]
        if other:
            raise ScarError(f"{shard}: rows of source {other[0]!r} in the folder of {source.name!r}")
    for column in IMAGE_COLUMNS:
        if column not in table.column_names:
            continue
        values = table.column(column).to_pylist()
        rewritten = [f"{source.name}/{plan.add(source.name, source.images_root, v, f'{shard} row {first_row + i}')}"
                     if v else v for i, v in enumerate(values)]
        index = table.column_names.index(column)
        table = table.set_column(index, table.schema.field(index), pa.array(rewritten, type=pa.string()))
    return table


def _write_split(source: BuiltSource, split: str, dest: Path, plan: ImagePlan, advance, identity: dict[str, Any]) -> int:
    shards = source.shards[split]
    schema = _output_schema(shards[0], split, source, identity)
    tmp = temp_path(dest)
    rows = 0
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for shard in shards:
                first = 0
                for batch in pq.ParquetFile(shard).iter_batches(batch_size=ROW_GROUP, columns=schema.names):
                    table = _rewrite(pa.Table.from_batches([batch]), source, plan, shard, first)
                    writer.write_table(table.cast(schema), row_group_size=ROW_GROUP)
                    first += table.num_rows
                    advance(table.num_rows)
                rows += first
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return rows


def _yaml(data: dict[str, Any]) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, width=200).encode("utf-8")


def _configs(out: Path, build: Build, result: ExportResult) -> None:
    """The official config files (same keys as sony/virtue's configs/datasets/*.yaml), with this folder's paths."""
    root = out.resolve()
    images = f"{root / IMAGES_FOLDER}/"
    evals = {f"SCAR_{names.dataset_stem(s.name)}_val": {
        "dataset_parser": "scar_i2t", "dataset_name": names.eval_file(s.name).removesuffix(".parquet"),
        "dataset_split": "test", "image_root": images, "eval_type": "local"} for s in build.sources if "eval" in s.shards}
    atomic_write_bytes(out / EVAL_CONFIG, _yaml(evals))
    trains = {}
    for s in build.sources:
        if "train" in s.shards:
            rel = f"{names.TRAIN_FOLDER}/{names.train_file(s.name)}"
            trains[f"SCAR_{names.dataset_stem(s.name)}"] = {
                "dataset_parser": "scar", "dataset_name": str(root / names.TRAIN_FOLDER),
                "subset_name": names.train_file(s.name).removesuffix(".parquet"), "dataset_split": "original",
                "image_dir": str(root / IMAGES_FOLDER), "num_sample_per_subset": result.files[rel], "weight": 1}
    if trains:
        atomic_write_bytes(out / TRAIN_CONFIG, _yaml(trains))


def _task_name(source: str, build_name: str) -> str:
    """The task `scar eval` scores the source's eval file as: its SCaR task, else `<build name>/<source>`."""
    info = next((t for t in ALL_TASKS.values() if t.source == source), None)
    return info.name if info is not None else custom_scar_task(build_name, source).name


def _layout_doc(build: Build, result: ExportResult, identity: dict[str, Any]) -> str:
    lines = [
        "# SCaR, official layout (self-built)",
        "",
        "Written by `scar export --layout official` from a `scar build` folder: **not the official release**;",
        "the files are named like it so the official sony/virtue loaders read them unchanged.",
        f"Build `{identity['name']}` (fingerprint `{identity['fingerprint']}`, in `{IDENTITY_NAME}`).",
        "",
        "| source | split | file | rows | name | `scar eval` task |",
        "|---|---|---|---:|---|---|",
    ]
    for s in build.sources:
        for split in s.shards:
            rel = f"{_folder(split)}/{_file_name(s.name, split)}"
            kind = "the release's name" if names.is_official(s.name) else "no official counterpart: named after the source"
            task = f"`{_task_name(s.name, identity['name'])}`" if split == "eval" else ""
            lines.append(f"| `{s.name}` | {split} | `{rel}` | {result.files[rel]:,} | {kind} | {task} |")
    images = ("every row's image is under `images/`: `qry_image_path` is `<source>/<path in the build>`"
              if result.images_mode != NONE else
              "images were not exported (`--no-images`): `images/<source>/` must hold each source's images root "
              "(its path at build time is in the build's `stats.json`, `images_roots`)")
    lines += [
        "",
        f"Images: one root for every file, `images/`; {images}.",
        "",
        "Evaluation (`src/data/eval_dataset/scar_image_i2t.py`): the loader reads",
        "`../../data/SCaR-eval/<dataset_name>.parquet` relative to where it runs, so copy or link `SCaR-eval/`",
        f"there, and use `{EVAL_CONFIG}` (its `image_root` is this folder's `images/`).",
        "",
        f"Training (`src/data/dataset/scar_dataset.py`): `{TRAIN_CONFIG}` names `SCaR-train/` as `dataset_name`",
        "and `images/` as `image_dir`, with absolute paths written at export time (export again after a move).",
        "That loader maps batches of 2048 rows and drops each file's last partial batch, so it trains on",
        "`rows // 2048 * 2048` rows of a file.",
        "",
        "With this toolkit, from this folder: `scar eval --model MODEL --scar-root SCaR-eval --scar-images images --tasks built`",
        "scores every eval file, each under the task name in the table above: the name the build itself is scored",
        "under, so results of the build and of this export share a task (the rows, and their fingerprint, are",
        "the same). `--tasks` also takes one task name, a source name or a file stem (`SCAR_<DS>_val_filtered`).",
        "`scar validate SCaR-eval --images images` checks every eval file.",
        "",
    ]
    return "\n".join(lines)


def export_official(build_dir: Path, out: Path, images_mode: str = LINK, images_override: Path | None = None,
                    progress: bool = False) -> ExportResult:
    build, previous, result, plan = start(build_dir, out, LAYOUT, images_mode, images_override, planned_files,
                                          official_names=True)
    total = build.total_rows()
    identity = current_identity(build_dir)
    with progress_bar(progress) as bar:
        task = bar.add_task("rows", total=total)
        for source in build.sources:
            for split in source.shards:
                rel = f"{_folder(split)}/{_file_name(source.name, split)}"
                real_folder(out, _folder(split))
                result.files[rel] = _write_split(source, split, out / rel, plan,
                                                 lambda n: bar.advance(task, n), identity)
        if images_mode != NONE:
            task = bar.add_task("images", total=len(plan.files))
            result.images = place_images(plan, real_folder(out, IMAGES_FOLDER), images_mode, lambda n: bar.advance(task, n))
    result.pruned = prune(out / IMAGES_FOLDER, plan) if images_mode != NONE else 0
    _configs(out, build, result)
    atomic_write_bytes(out / LAYOUT_DOC, _layout_doc(build, result, identity).encode("utf-8"))
    atomic_write_json(out / IDENTITY_NAME, identity)
    summary = result.summary()
    finish(out, LAYOUT, build_dir, planned_files(build), previous, summary)
    return result
