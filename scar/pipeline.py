"""Build orchestration: source records -> generator -> validated samples -> Parquet shards.

Sharding. A split's record stream (entities and loader rejections, in the loader's deterministic
order) is cut into chunks of `shard_size` records; chunk c becomes `<split>-{c:05d}.parquet`.
A worker started with `--num-shards K --shard-index I` builds the chunks with c % K == I, so any
scheduler can run the workers, in any order, on any machine.

Resume. A chunk is done when its Parquet file exists: it is written under a temporary name and
renamed only after its sidecar `<split>-NNNNN.stats.json` is in place, so a killed build never
leaves a half shard, and a rerun skips finished chunks. A manifest records the settings that
determine the rows; a rerun with different settings into the same directory is refused.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import pyarrow.parquet as pq
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

import scar
from scar.errors import BudgetExhausted, ScarError
from scar.generate.base import Generator
from scar.schema import Entity, Rejected, RejectionLog, Sample, rows_to_table
from scar.sources import SourceOptions, make_source
from scar.sources.base import Record

MANIFEST_NAME = ".build-manifest.json"
STATS_NAME = "stats.json"
CARD_NAME = "dataset_card.md"
DEFAULT_SHARD_SIZE = 50_000
DEFAULT_ROW_GROUP_SIZE = 10_000
GENERATE_BATCH = 2_048  # entities handed to the generator at a time (progress granularity)


@dataclass(frozen=True)
class BuildConfig:
    source: str
    out: Path
    source_options: SourceOptions
    splits: tuple[str, ...] = ("train", "eval")
    seed: int = 0
    limit: int | None = None  # at most this many entities per split
    num_shards: int = 1
    shard_index: int = 0
    shard_size: int = DEFAULT_SHARD_SIZE
    row_group_size: int = DEFAULT_ROW_GROUP_SIZE
    progress: bool = True


@dataclass
class ShardStats:
    """What one chunk produced; written beside its Parquet file and summed into stats.json."""

    records: int = 0
    entities: int = 0
    samples: int = 0
    rejections: RejectionLog = field(default_factory=RejectionLog)
    categories: Counter = field(default_factory=Counter)
    neg_types: Counter = field(default_factory=Counter)
    generator_usage: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "entities": self.entities,
            "samples": self.samples,
            "rejected": self.rejections.total,
            "rejections": self.rejections.to_dict(),
            "categories": dict(sorted(self.categories.items())),
            "neg_types": dict(sorted(self.neg_types.items())),
            "generator_usage": self.generator_usage,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class BuildResult:
    written: int = 0  # shards written by this run
    skipped: int = 0  # shards found finished from an earlier run
    samples: int = 0  # rows written by this run
    rejected: int = 0
    stopped_by_budget: str | None = None
    seconds: float = 0.0


# ---------------------------------------------------------------- small file helpers


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    _atomic_write_bytes(path, (json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8"))


def _write_parquet_atomic(path: Path, rows: list[dict[str, Any]], split: str, row_group_size: int) -> None:
    table = rows_to_table(rows, split)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp, compression="zstd", row_group_size=row_group_size)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def shard_name(split: str, index: int) -> str:
    return f"{split}-{index:05d}.parquet"


def _numeric_delta(after: Any, before: Any) -> Any:
    """after - before for every numeric leaf (generator counters are cumulative per process)."""
    if isinstance(after, dict):
        before = before if isinstance(before, dict) else {}
        return {k: _numeric_delta(v, before.get(k)) for k, v in after.items()}
    if isinstance(after, (int, float)) and not isinstance(after, bool):
        return after - (before if isinstance(before, (int, float)) and not isinstance(before, bool) else 0)
    return after


def _numeric_sum(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _numeric_sum(a.get(k), b.get(k)) if k in a and k in b else a.get(k, b.get(k)) for k in {**a, **b}}
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return a + b
    return b if b is not None else a


# ---------------------------------------------------------------- the build


def _chunks(records: Iterable[Record], size: int, limit: int | None) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    entities = 0
    for record in records:
        if isinstance(record, Entity):
            if limit is not None and entities >= limit:
                break
            entities += 1
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _manifest(config: BuildConfig, generator: Generator) -> dict[str, Any]:
    opts = config.source_options
    return {
        "source": config.source,
        "seed": config.seed,
        "limit": config.limit,
        "shard_size": config.shard_size,
        "generator": {
            "name": generator.info.name,
            "model": generator.info.model,
            "prompt_version": generator.info.prompt_version,
            "region_kind": getattr(generator, "region_kind", "box"),
        },
        "source_options": {
            "split_by": opts.split_by,
            "max_per_image": opts.max_per_image,
            "min_area": opts.min_area,
            "annotations": [p.name for p in opts.annotations],
        },
    }


def _check_manifest(source_dir: Path, manifest: dict[str, Any]) -> None:
    path = source_dir / MANIFEST_NAME
    if path.exists():
        try:
            existing = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ScarError(f"{path}: unreadable build manifest ({exc}); remove it or use a new --out") from None
        if existing != manifest:
            diffs = sorted(k for k in {**existing, **manifest} if existing.get(k) != manifest.get(k))
            raise ScarError(
                f"{source_dir} holds a build made with other settings ({', '.join(diffs)} differ); "
                "use a new --out or remove that directory"
            )
    else:
        atomic_write_json(path, manifest)


def _process_chunk(
    chunk: Sequence[Record], generator: Generator, images_root: Path, on_batch: Any
) -> tuple[list[Sample], ShardStats]:
    stats = ShardStats(records=len(chunk))
    entities: list[Entity] = []
    for record in chunk:
        if isinstance(record, Rejected):
            stats.rejections.add(record)
        else:
            entities.append(record)
    stats.entities = len(entities)
    samples: list[Sample] = []
    step = max(len(entities), 1) if getattr(generator, "wants_whole_shard", False) else GENERATE_BATCH
    for start in range(0, len(entities), step):
        batch = entities[start : start + step]
        results = generator.generate(batch, images_root)
        if len(results) != len(batch):
            raise ScarError(f"generator {generator.info.name} returned {len(results)} results for {len(batch)} entities")
        for entity, result in zip(batch, results):
            if isinstance(result, Rejected):
                stats.rejections.add(result)
                continue
            problems = result.check()
            if problems:
                stats.rejections.add(Rejected(entity.source, entity.id, "invalid sample", detail="; ".join(problems)))
                continue
            samples.append(result)
            stats.categories[entity.category] += 1
            stats.neg_types.update(result.neg_types)
        on_batch(len(batch))
    stats.samples = len(samples)
    return samples, stats


def build(config: BuildConfig, generator: Generator) -> BuildResult:
    if not 0 <= config.shard_index < config.num_shards:
        raise ScarError(f"--shard-index must be in [0, {config.num_shards}), got {config.shard_index}")
    images_root = config.source_options.images or (config.out / "images")
    options = replace(config.source_options, images=images_root, seed=config.seed)
    source = make_source(config.source, options)
    source_dir = config.out / config.source
    source_dir.mkdir(parents=True, exist_ok=True)
    _check_manifest(source_dir, _manifest(config, generator))

    result = BuildResult()
    started = time.perf_counter()
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>8} entities/s"),
        TextColumn("shards {task.fields[shards]}"),
        TextColumn("{task.fields[usage]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not config.progress,
        transient=False,
    )
    with progress:
        for split in config.splits:
            task = progress.add_task(
                f"{config.source}/{split}", total=config.limit, rate="-", shards="0 written, 0 resumed", usage=""
            )
            split_start = time.perf_counter()
            done_entities = 0

            def advance(n: int) -> None:
                nonlocal done_entities
                done_entities += n
                elapsed = max(time.perf_counter() - split_start, 1e-9)
                usage = generator.progress_text() if hasattr(generator, "progress_text") else ""
                progress.update(task, advance=n, rate=f"{done_entities / elapsed:,.0f}", usage=usage)

            for chunk_index, chunk in enumerate(_chunks(source.iter_records(split), config.shard_size, config.limit)):
                if chunk_index % config.num_shards != config.shard_index:
                    continue
                path = source_dir / shard_name(split, chunk_index)
                if path.exists():
                    result.skipped += 1
                    advance(sum(isinstance(r, Entity) for r in chunk))
                else:
                    before = generator.stats()
                    chunk_start = time.perf_counter()
                    try:
                        samples, stats = _process_chunk(chunk, generator, images_root, advance)
                    except BudgetExhausted as exc:
                        result.stopped_by_budget = str(exc)
                        break
                    stats.generator_usage = _numeric_delta(generator.stats(), before)
                    stats.seconds = time.perf_counter() - chunk_start
                    atomic_write_json(path.with_suffix(".stats.json"), stats.to_dict())
                    _write_parquet_atomic(path, [s.to_row() for s in samples], split, config.row_group_size)
                    result.written += 1
                    result.samples += stats.samples
                    result.rejected += stats.rejections.total
                progress.update(task, shards=f"{result.written} written, {result.skipped} resumed")
            if result.stopped_by_budget:
                break
    result.seconds = time.perf_counter() - started
    write_stats_and_card(config.out, images_root)
    return result


# ---------------------------------------------------------------- stats.json and the dataset card


def collect_stats(out: Path, images_root: Path | None = None) -> dict[str, Any]:
    """Sum every shard sidecar under `out` into one stats document (all sources, all workers)."""
    sources: dict[str, Any] = {}
    for manifest_path in sorted(out.glob(f"*/{MANIFEST_NAME}")):
        source_dir = manifest_path.parent
        manifest = json.loads(manifest_path.read_text("utf-8"))
        splits: dict[str, Any] = {}
        usage: dict[str, Any] = {}
        for sidecar in sorted(source_dir.glob("*-*.stats.json")):
            split = sidecar.name.split("-", 1)[0]
            parquet = sidecar.with_name(sidecar.name.replace(".stats.json", ".parquet"))
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
            agg["rejections"].merge(shard["rejections"])
            usage = _numeric_sum(usage, shard.get("generator_usage") or {})
        for agg in splits.values():
            agg["categories"] = dict(sorted(agg["categories"].items(), key=lambda kv: (-kv[1], kv[0])))
            agg["neg_types"] = dict(sorted(agg["neg_types"].items()))
            agg["rejections"] = agg["rejections"].to_dict()
        sources[source_dir.name] = {"manifest": manifest, "splits": splits, "generator_usage": usage}
    stats: dict[str, Any] = {"toolkit_version": scar.__version__, "sources": sources}
    if images_root is not None:
        stats["images_root"] = str(Path(images_root).resolve())
    return stats


def write_stats_and_card(out: Path, images_root: Path | None) -> dict[str, Any]:
    previous = out / STATS_NAME
    if images_root is None and previous.exists():
        images_root = Path(json.loads(previous.read_text("utf-8")).get("images_root", out / "images"))
    stats = collect_stats(out, images_root)
    atomic_write_json(out / STATS_NAME, stats)
    _atomic_write_bytes(out / CARD_NAME, render_card(stats).encode("utf-8"))
    return stats


def render_card(stats: dict[str, Any]) -> str:
    lines = [
        "# SCaR dataset card",
        "",
        "Segmentation-and-Scene Caption Retrieval. One row = one query: an image, one entity's region",
        "(box `bbox` in COCO xywh pixels; `point` and `mask` where the source has them) and 10 candidate",
        "captions in `tgt_text`, the gold caption at index 0, then 9 hard negatives (3 object, 3 relation,",
        "3 scene swaps, each replacing exactly one element of `<object> <relation> <scene>`).",
        "The columns `qry_text`, `qry_image_path`, `tgt_text`, `bbox` are those the official SCaR evaluation",
        "reads; the rest are extensions it ignores. Train shards also carry the official training columns.",
        "",
        f"Built with scar-bench {stats.get('toolkit_version', '?')}.",
        "",
        "## Counts",
        "",
        "| source | split | shards | entities | samples | rejected |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, src in stats["sources"].items():
        for split, agg in sorted(src["splits"].items()):
            lines.append(
                f"| {name} | {split} | {agg['shards']} | {agg['entities']:,} | {agg['samples']:,} | {agg['rejected']:,} |"
            )
    for name, src in stats["sources"].items():
        m = src["manifest"]
        g = m["generator"]
        lines += [
            "",
            f"## {name}",
            "",
            f"Generator `{g['name']}` (model `{g['model']}`, prompts `{g['prompt_version']}`), seed {m['seed']}, "
            f"at most {m['source_options']['max_per_image']} entities per image.",
        ]
        for split, agg in sorted(src["splits"].items()):
            lines += ["", f"### {split}", "", "Negatives per type: " + ", ".join(
                f"{k} {v:,}" for k, v in agg["neg_types"].items()) + "."]
            cats = list(agg["categories"].items())
            lines += ["", "| category | samples |", "|---|---:|"]
            lines += [f"| {c} | {n:,} |" for c, n in cats[:50]]
            if len(cats) > 50:
                lines.append(f"| ({len(cats) - 50} more categories, {sum(n for _, n in cats[50:]):,} samples) | |")
            rej = agg["rejections"]["counts"]
            if rej:
                lines += ["", "Rejected records by reason:", "", "| reason | count |", "|---|---:|"]
                lines += [f"| {reason} | {n:,} |" for reason, n in rej.items()]
        if src.get("generator_usage"):
            lines += ["", "Generator usage: `" + json.dumps(src["generator_usage"], sort_keys=True) + "`"]
    lines.append("")
    return "\n".join(lines)
