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

import gc
import hashlib
import json
import multiprocessing as mp
import os
import time
from collections import Counter, deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

import scar
from scar.errors import BudgetExhausted, ScarError
from scar.export.hub_card import write_readme
from scar.filters import DuplicateEntityFilter
from scar.generate.base import Generator
from scar.locking import exclusive_lock
from scar.record_ids import UniqueIds
from scar.schema import Entity, Rejected, RejectionLog, parquet_schema, rows_to_table
from scar.images_roots import ROOTS_KEY, recorded_roots, stored_form
from scar.sources import SourceOptions, finds_own_images, make_source
from scar.sources.base import Record
from scar.tempfiles import atomic_write_bytes as _atomic_write_bytes
from scar.tempfiles import atomic_write_json, remove_stale_temporaries, temp_path
from scar.worker_lifetime import die_with_parent

MANIFEST_NAME = ".build-manifest.json"
STATS_NAME = "stats.json"
STATS_LOCK_NAME = ".stats.lock"
CARD_NAME = "dataset_card.md"
DEFAULT_SHARD_SIZE = 50_000
DEFAULT_ROW_GROUP_SIZE = 10_000
GENERATE_BATCH = 2_048  # entities handed to the generator at a time (progress granularity)
REVIEW_REASON = "rejected by review"


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
    workers: int = 1  # processes; >1 generates in worker processes when the generator allows it
    # Row ids a human review rejected (`--exclude REVIEW.json`) -> the reviewer's reason; dropped before generation.
    review_rejects: Mapping[str, str] = field(default_factory=dict)
    audit: bool = True  # audit the build with blind baselines (stats.json, dataset card, audit.json)
    audit_rows: int | None = 5000  # rows per source and split the audit scores (None: all)


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
    chunks_seen: int = 0  # chunks in the record stream, any worker's
    chunks: int = 0  # chunks of this worker, written now or resumed
    chunk_samples: int = 0  # rows in those chunks
    chunk_rejections: RejectionLog = field(default_factory=RejectionLog)

    def empty_build_problem(self) -> str | None:
        """Why this build produced nothing usable (a one-line reason naming the top rejection), or None."""
        if self.stopped_by_budget:
            return None
        if self.chunks_seen == 0:
            return "the source yielded no records (check --annotations / --root and --split)"
        if self.chunks == 0 or self.chunk_samples > 0:
            return None
        log = self.chunk_rejections
        if not log.counts:
            return f"0 samples in {self.chunks} shard(s) and no rejection recorded"
        reason, count = max(log.counts.items(), key=lambda kv: (kv[1], kv[0]))
        example = (log.examples.get(reason) or [""])[0]
        return (
            f"0 samples: all {log.total:,} records rejected; top reason {reason!r} ({count:,} records"
            + (f", e.g. {example}" if example else "")
            + ")"
        )


# ---------------------------------------------------------------- small file helpers


class ShardWriter:
    """Streams row batches into `<shard>.parquet` under a temporary name; `commit` renames it into place."""

    def __init__(self, path: Path, split: str, row_group_size: int) -> None:
        self.path = path
        self.tmp = temp_path(path)
        self.row_group_size = row_group_size
        self.writer = pq.ParquetWriter(self.tmp, parquet_schema(split), compression="zstd")
        self.pending: list[pa.Table] = []
        self.pending_rows = 0

    def add(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.pending_rows += table.num_rows
        if self.pending_rows >= self.row_group_size:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        if not self.pending:
            return
        table = pa.concat_tables(self.pending)
        while table.num_rows >= self.row_group_size or (final and table.num_rows):
            self.writer.write_table(table.slice(0, self.row_group_size))
            table = table.slice(self.row_group_size)
        self.pending = [table] if table.num_rows else []
        self.pending_rows = table.num_rows

    def commit(self) -> None:
        self._flush(final=True)
        self.writer.close()
        with open(self.tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.writer.close()
        self.tmp.unlink(missing_ok=True)


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


def _numbered(records: Iterable[Record], size: int, limit: int | None) -> Iterator[tuple[int, Record]]:
    """(chunk index, record): chunk c holds records c*size .. (c+1)*size-1 of the loader's stream."""
    entities = 0
    for position, record in enumerate(records):
        if isinstance(record, Entity):
            if limit is not None and entities >= limit:
                return
            entities += 1
        yield position // size, record


def _review_ids(config: BuildConfig) -> list[str]:
    """The review-rejected ids of this build's source (a review file may cover several sources)."""
    return sorted(i for i in config.review_rejects if i.startswith(f"{config.source}:"))


def _manifest(config: BuildConfig, generator: Generator, images_root: Path) -> dict[str, Any]:
    opts = config.source_options
    manifest = {
        "source": config.source,
        # where this source's images are (relative to --out when inside it): another root is another build
        "images_root": stored_form(images_root, config.out),
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
    review = _review_ids(config)
    if review:  # absent without a review, so manifests of earlier builds still match
        digest = hashlib.sha256("\n".join(review).encode("utf-8")).hexdigest()
        manifest["review"] = {"rejected": len(review), "rejected_ids_sha256": digest}
    return manifest


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


@dataclass
class BatchOutcome:
    """One generated batch, ready for the shard: its rows as Arrow, and what to count."""

    table: pa.Table
    rejections: list[Rejected]
    categories: Counter
    neg_types: Counter


def generate_batch(generator: Generator, entities: Sequence[Entity], images_root: Path, split: str) -> BatchOutcome:
    results = generator.generate(entities, images_root)
    if len(results) != len(entities):
        raise ScarError(f"generator {generator.info.name} returned {len(results)} results for {len(entities)} entities")
    rows: list[dict[str, Any]] = []
    rejections: list[Rejected] = []
    categories: Counter = Counter()
    neg_types: Counter = Counter()
    for entity, result in zip(entities, results):
        if isinstance(result, Rejected):
            rejections.append(result.at(entity))
            continue
        problems = result.check()
        if problems:
            rejections.append(Rejected(entity.source, entity.id, "invalid sample", detail="; ".join(problems)).at(entity))
            continue
        rows.append(result.to_row())
        categories[entity.category] += 1
        neg_types.update(result.neg_types)
    return BatchOutcome(rows_to_table(rows, split), rejections, categories, neg_types)


# Worker processes (fork) inherit the generator once instead of receiving it with every batch.
_WORKER_GENERATOR: Generator | None = None


def _init_worker(generator: Generator, parent_pid: int) -> None:
    die_with_parent(parent_pid)  # a killed build leaves no orphan behind
    global _WORKER_GENERATOR
    _WORKER_GENERATOR = generator
    # pyarrow's first conversion in a process costs about 0.3 s; pay it while the main process
    # is still parsing annotations.
    for split in ("train", "eval"):
        rows_to_table([], split)


def _generate_in_worker(
    entities: Sequence[Entity], images_root: Path, split: str, prior: dict[str, Any] | None
) -> BatchOutcome:
    assert _WORKER_GENERATOR is not None
    if hasattr(_WORKER_GENERATOR, "use_prior"):
        _WORKER_GENERATOR.use_prior(prior)
    return generate_batch(_WORKER_GENERATOR, entities, images_root, split)


def generator_prior(generator: Generator, source: Any, split: str) -> dict[str, Any] | None:
    """What the loader knows about the split's golds before any is written (category counts, scene
    labels, each image's categories), turned by the generator into the compact prior its swaps are
    drawn from; None when either side cannot use it."""
    if not hasattr(source, "source_stats") or not hasattr(generator, "prior_from_source"):
        return None
    prior = generator.prior_from_source(source.source_stats(split))
    if hasattr(generator, "use_prior"):
        generator.use_prior(prior)
    return prior


def _worker_pool(config: BuildConfig, generator: Generator) -> ProcessPoolExecutor | None:
    """Generation processes beside the main one (which runs the loader), when the generator allows it."""
    if config.workers <= 1 or not getattr(generator, "parallel_safe", False):
        return None
    if "fork" not in mp.get_all_start_methods():
        return None
    pool = ProcessPoolExecutor(
        max_workers=config.workers - 1,
        mp_context=mp.get_context("fork"),
        initializer=_init_worker,
        initargs=(generator, os.getpid()),
    )
    # Fork every worker now: before the loader parses its annotations (the workers need none of
    # that memory) and before the progress bar starts a thread (forking under threads can deadlock).
    for future in [pool.submit(int) for _ in range(config.workers - 1)]:
        future.result()
    return pool


def _after_first(records: Iterable[Record], action: Callable[[], None]) -> Iterator[Record]:
    """Yield the records, running `action` once the first has arrived (the loader has parsed its files)."""
    iterator = iter(records)
    first = next(iterator, None)
    if first is None:
        return
    action()
    yield first
    yield from iterator


def _build_shard(
    records: Iterable[Record],
    path: Path,
    split: str,
    config: BuildConfig,
    generator: Generator,
    pool: ProcessPoolExecutor | None,
    images_root: Path,
    on_batch: Any,
    prior: dict[str, Any] | None = None,
) -> ShardStats:
    stats = ShardStats()
    before = generator.stats()
    started = time.perf_counter()
    writer = ShardWriter(path, split, config.row_group_size)
    in_flight: deque[tuple[Future, int]] = deque()
    max_in_flight = 2 * (config.workers - 1)

    def collect(outcome: BatchOutcome, n: int) -> None:
        writer.add(outcome.table)
        stats.samples += outcome.table.num_rows
        for rejection in outcome.rejections:
            stats.rejections.add(rejection)
        stats.categories.update(outcome.categories)
        stats.neg_types.update(outcome.neg_types)
        on_batch(n)

    def dispatch(batch: list[Entity]) -> None:
        if pool is None:
            collect(generate_batch(generator, batch, images_root, split), len(batch))
            return
        in_flight.append((pool.submit(_generate_in_worker, batch, images_root, split, prior), len(batch)))
        while len(in_flight) > max_in_flight:
            future, n = in_flight.popleft()
            collect(future.result(), n)

    step = config.shard_size if getattr(generator, "wants_whole_shard", False) else GENERATE_BATCH
    # One per shard, so a shard's rows never depend on the shards built before it.
    dedupe = DuplicateEntityFilter()

    def screen(entity: Entity) -> Entity | Rejected:
        # Duplicates first: a review drops exactly the rows it names, never lets a duplicate in.
        duplicate = dedupe.check(entity)
        if duplicate is not None:
            return duplicate.at(entity)
        if entity.id in config.review_rejects:
            return Rejected(entity.source, entity.id, REVIEW_REASON, detail=config.review_rejects[entity.id]).at(entity)
        return entity

    batch: list[Entity] = []
    try:
        for record in records:
            stats.records += 1
            if isinstance(record, Entity):
                record = screen(record)
            if isinstance(record, Rejected):
                stats.rejections.add(record)
                continue
            stats.entities += 1
            batch.append(record)
            if len(batch) >= step:
                dispatch(batch)
                batch = []
        if batch:
            dispatch(batch)
        while in_flight:
            future, n = in_flight.popleft()
            collect(future.result(), n)
    except BaseException:
        for future, _ in in_flight:
            future.cancel()
        writer.abort()
        raise
    stats.generator_usage = _numeric_delta(generator.stats(), before)
    stats.seconds = time.perf_counter() - started
    # The sidecar goes first: a shard counts as done only once its Parquet file is renamed into place.
    atomic_write_json(path.with_suffix(".stats.json"), stats.to_dict())
    writer.commit()
    return stats


def build(config: BuildConfig, generator: Generator) -> BuildResult:
    if not 0 <= config.shard_index < config.num_shards:
        raise ScarError(f"--shard-index must be in [0, {config.num_shards}), got {config.shard_index}")
    if config.source_options.images is None and finds_own_images(config.source):
        source = make_source(config.source, replace(config.source_options, seed=config.seed))
        images_root = Path(source.images_root)  # type: ignore[attr-defined]
    else:
        images_root = config.source_options.images or (config.out / "images")
        source = make_source(config.source, replace(config.source_options, images=images_root, seed=config.seed))
    source_dir = config.out / config.source
    source_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries([config.out, source_dir])  # left by builds killed mid-write
    _check_manifest(source_dir, _manifest(config, generator, images_root))
    unique = UniqueIds()  # row ids unique over the whole build, all splits

    result = BuildResult()
    started = time.perf_counter()
    pool = _worker_pool(config, generator)  # forked before the progress bar starts its thread
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
    try:
        with progress:
            for split in config.splits:
                task = progress.add_task(
                    f"{config.source}/{split}", total=config.limit, rate="-", shards="0 written, 0 resumed", usage=""
                )
                split_start = time.perf_counter()
                done_entities = 0
                known: dict[str, Any] = {}

                def advance(n: int) -> None:
                    nonlocal done_entities
                    done_entities += n
                    elapsed = max(time.perf_counter() - split_start, 1e-9)
                    usage = generator.progress_text() if hasattr(generator, "progress_text") else ""
                    progress.update(task, advance=n, rate=f"{done_entities / elapsed:,.0f}", usage=usage)

                def loaded(split: str = split, task: TaskID = task, known: dict[str, Any] = known) -> None:
                    # Move everything alive (the parsed annotation files) to the GC's permanent
                    # generation, so collections stop rescanning it (26% of a 100k COCO build).
                    gc.freeze()
                    expected = source.expected_entities(split) if hasattr(source, "expected_entities") else None
                    if expected:  # the progress bar's total, hence its ETA
                        progress.update(task, total=min(expected, config.limit or expected))
                    # the golds' category and scene distribution, which swaps are drawn from
                    known["prior"] = generator_prior(generator, source, split)

                records_in = _after_first(unique.filter(source.iter_records(split)), loaded)
                numbered = _numbered(records_in, config.shard_size, config.limit)
                for chunk_index, group in groupby(numbered, key=itemgetter(0)):
                    result.chunks_seen += 1
                    if chunk_index % config.num_shards != config.shard_index:
                        continue  # groupby skips the rest of this chunk's records
                    records = (record for _, record in group)
                    path = source_dir / shard_name(split, chunk_index)
                    if path.exists():
                        result.skipped += 1
                        advance(sum(isinstance(r, Entity) for r in records))
                        _count_resumed(result, path)
                    else:
                        try:
                            stats = _build_shard(
                                records, path, split, config, generator, pool, images_root, advance, known.get("prior")
                            )
                        except BudgetExhausted as exc:
                            result.stopped_by_budget = str(exc)
                            break
                        result.written += 1
                        result.samples += stats.samples
                        result.rejected += stats.rejections.total
                        result.chunks += 1
                        result.chunk_samples += stats.samples
                        result.chunk_rejections.merge(stats.rejections.to_dict())
                    progress.update(task, shards=f"{result.written} written, {result.skipped} resumed")
                progress.update(task, total=done_entities)  # estimates end at 100%
                if result.stopped_by_budget:
                    break
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    result.seconds = time.perf_counter() - started
    write_stats_and_card(config.out, images_root, audit_rows=config.audit_rows if config.audit else 0)
    return result


def _count_resumed(result: BuildResult, path: Path) -> None:
    """Add a finished chunk's counts from its sidecar (written before the Parquet file was renamed in)."""
    result.chunks += 1
    try:
        shard = json.loads(path.with_suffix(".stats.json").read_text("utf-8"))
        result.chunk_samples += int(shard["samples"])
        result.chunk_rejections.merge(shard.get("rejections") or {})
    except (OSError, ValueError, KeyError, TypeError):
        result.chunk_samples += 1  # no readable sidecar: count it as not empty rather than fail the build


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
    roots = {name: src["manifest"]["images_root"] for name, src in sources.items() if src["manifest"].get("images_root")}
    if images_root is not None:  # sources built before roots were recorded per source
        roots.update({name: stored_form(images_root, out) for name in sources if name not in roots})
    stats[ROOTS_KEY] = dict(sorted(roots.items()))
    return stats


def write_stats_and_card(out: Path, images_root: Path | None, audit_rows: int | None = 0) -> dict[str, Any]:
    """Recompute stats.json, the card and the hub README.md from every sidecar under `out`; with `audit_rows` (rows per source
    and split, None for all, 0 for no audit) the blind-baseline audit of the build too (scar.audit: also
    DIR/audit.json). Workers sharing `out` take turns (scar.locking), so the last one to write has summed
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
        _atomic_write_bytes(out / CARD_NAME, card.encode("utf-8"))
        write_readme(out, stats, card)  # the hub card: `datasets.load_dataset(out)` reads the SCaR rows
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
        if m.get("review"):
            lines += ["", f"Human review: the review file rejected {m['review']['rejected']:,} ids (sha256 "
                      f"`{m['review']['rejected_ids_sha256'][:16]}`); the rows they matched are left out and "
                      "counted as \"rejected by review\"."]
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
