"""Build orchestration: source records -> generator -> validated samples -> Parquet shards.

Sharding. A split's record stream (entities and loader rejections, in the loader's deterministic
order) is cut into chunks of `shard_size` records; chunk c becomes `<split>-{c:05d}.parquet`.
A worker started with `--num-shards K --shard-index I` builds the chunks with c % K == I, so any
scheduler can run the workers, in any order, on any machine.

Resume. A chunk is done when its Parquet file exists: it is written under a temporary name and
renamed only after its sidecar `<split>-NNNNN.stats.json` is in place, so a killed build never
leaves a half shard, and a rerun skips finished chunks. A manifest records the settings that
determine the rows; a rerun with different settings into the same directory is refused.

This module runs the loop; its parts live beside it: `scar.build.workers` (batches generated in this
process or in forked workers), `scar.build.shards` (the Parquet writer and the sidecars),
`scar.build.manifests` (the settings check) and `scar.build.stats` (stats.json, the dataset card, README.md).
"""

from __future__ import annotations

import gc
import json
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from scar.build.config import BuildConfig
from scar.build.manifests import build_manifest, check_manifest, record_declared_terms, release_empty_claim
from scar.build.record_ids import UniqueIds
from scar.build.shards import ShardStats, ShardWriter, numeric_delta, shard_name, sidecar_path
from scar.build.stats import write_stats_and_card
from scar.build.workers import BatchOutcome, generate_batch, generate_in_worker, worker_pool
from scar.core.errors import BudgetExhausted, ScarError
from scar.core.filters import DuplicateEntityFilter
from scar.core.schema import Entity, Rejected, RejectionLog
from scar.core.tempfiles import atomic_write_json, remove_stale_temporaries
from scar.generate.base import Generator
from scar.sources import FIXABLE_REASONS
from scar.sources.base import Record

GENERATE_BATCH = 2_048  # entities handed to the generator at a time (progress granularity)
REVIEW_REASON = "rejected by review"


@dataclass
class BuildResult:
    written: int = 0  # shards written by this run
    skipped: int = 0  # shards found finished from an earlier run
    samples: int = 0  # rows written by this run
    rejected: int = 0
    stopped_by_budget: str | None = None
    unfinished: int = 0  # shards left unwritten: nothing kept, every record rejected for a fixable reason
    claimed: bool = False  # this run created the source folder's manifest
    released: bool = False  # ... and removed it again because nothing was kept
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
        after = ""
        if self.released:
            after = "; nothing was written, so a rerun with corrected inputs starts afresh"
        elif self.unfinished:
            after = f"; {self.unfinished} shard(s) left unfinished, a rerun after the fix builds them"
        return (
            f"0 samples: all {log.total:,} records rejected; top reason {reason!r} ({count:,} records"
            + (f", e.g. {example}" if example else "")
            + ")"
            + after
        )


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


CALIBRATION_ENTITIES = 2000  # the split's first entities, whose golds the generator may learn from


def _calibrated(records: Iterable[Record], generator: Generator, known: dict[str, Any]) -> Iterator[Record]:
    """Yield the records; before the first, let a generator that can (`calibrate`) learn from the golds
    of the split's first CALIBRATION_ENTITIES entities, whatever --limit, shard or resume point this
    run has, so that every process of a build draws from the same prior."""
    iterator = iter(records)
    calibrate = getattr(generator, "calibrate", None)
    if calibrate is None:
        yield from iterator
        return
    head: list[Record] = []
    entities: list[Entity] = []
    for record in iterator:
        head.append(record)
        if isinstance(record, Entity):
            entities.append(record)
            if len(entities) >= CALIBRATION_ENTITIES:
                break
    if entities and known.get("prior") is not None:
        state = calibrate(entities)
        if state is not None:
            known["prior"] = state
    yield from head
    yield from iterator


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
        stats.scene_methods.update(outcome.scene_methods)
        on_batch(n)

    def dispatch(batch: list[Entity]) -> None:
        if pool is None:
            collect(generate_batch(generator, batch, images_root, split), len(batch))
            return
        in_flight.append((pool.submit(generate_in_worker, batch, images_root, split, prior), len(batch)))
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
    stats.generator_usage = numeric_delta(generator.stats(), before)
    stats.seconds = time.perf_counter() - started
    if stats.samples == 0 and not FIXABLE_REASONS.isdisjoint(stats.rejections.reasons()):
        writer.abort()  # not done: the records failed for a reason the user can fix
        stats.unfinished = True
        return stats
    # The sidecar goes first: a shard counts as done only once its Parquet file is renamed into place.
    atomic_write_json(sidecar_path(path), stats.to_dict())
    writer.commit()
    return stats


def build(config: BuildConfig, generator: Generator) -> BuildResult:
    if not 0 <= config.shard_index < config.num_shards:
        raise ScarError(f"--shard-index must be in [0, {config.num_shards}), got {config.shard_index}")
    if config.source_options.images is None and config.source.finds_own_images:
        source = config.source.make(replace(config.source_options, seed=config.seed))
        images_root = Path(source.images_root)  # type: ignore[attr-defined]
    else:
        images_root = config.source_options.images or (config.out / "images")
        source = config.source.make(replace(config.source_options, images=images_root, seed=config.seed))
    source_dir = config.out / config.source.name
    source_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries([config.out, source_dir])  # left by builds killed mid-write
    claimed = check_manifest(source_dir, build_manifest(config, generator, images_root))
    unique = UniqueIds()  # row ids unique over the whole build, all splits

    result = BuildResult(claimed=claimed)
    started = time.perf_counter()
    pool = worker_pool(config.workers, generator)  # forked before the progress bar starts its thread
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
                    f"{config.source.name}/{split}", total=config.limit, rate="-", shards="0 written, 0 resumed", usage=""
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
                    record_declared_terms(source, split, source_dir)

                records_in = _calibrated(_after_first(unique.filter(source.iter_records(split)), loaded), generator, known)
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
                        result.written += 0 if stats.unfinished else 1
                        result.unfinished += 1 if stats.unfinished else 0
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
    if result.claimed and result.empty_build_problem() is not None:
        result.released = release_empty_claim(source_dir)
    write_stats_and_card(config.out, images_root, audit_rows=config.audit_rows if config.audit else 0)
    return result


def _count_resumed(result: BuildResult, path: Path) -> None:
    """Add a finished chunk's counts from its sidecar (written before the Parquet file was renamed in)."""
    result.chunks += 1
    try:
        shard = json.loads(sidecar_path(path).read_text("utf-8"))
        result.chunk_samples += int(shard["samples"])
        result.chunk_rejections.merge(shard.get("rejections") or {})
    except (OSError, ValueError, KeyError, TypeError):
        result.chunk_samples += 1  # no readable sidecar: count it as not empty rather than fail the build
