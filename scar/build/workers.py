"""Generation of entity batches into validated Arrow rows: in the build's own process, or in
forked worker processes beside it (which inherit the generator once, not with every batch)."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pyarrow as pa

from scar.core.errors import ScarError
from scar.core.schema import Entity, Rejected, rows_to_table
from scar.core.worker_lifetime import die_with_parent
from scar.generate.base import Generator


@dataclass
class BatchOutcome:
    """One generated batch, ready for the shard: its rows as Arrow, and what to count."""

    table: pa.Table
    rejections: list[Rejected]
    categories: Counter
    neg_types: Counter
    scene_methods: Counter = field(default_factory=Counter)  # how each gold scene was inferred (Sample.scene_method)


def generate_batch(generator: Generator, entities: Sequence[Entity], images_root: Path, split: str) -> BatchOutcome:
    results = generator.generate(entities, images_root)
    if len(results) != len(entities):
        raise ScarError(f"generator {generator.info.name} returned {len(results)} results for {len(entities)} entities")
    rows: list[dict[str, Any]] = []
    rejections: list[Rejected] = []
    categories: Counter = Counter()
    neg_types: Counter = Counter()
    scene_methods: Counter = Counter()
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
        if result.scene_method:
            scene_methods[result.scene_method] += 1
    return BatchOutcome(rows_to_table(rows, split), rejections, categories, neg_types, scene_methods)


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


def generate_in_worker(
    entities: Sequence[Entity], images_root: Path, split: str, prior: dict[str, Any] | None
) -> BatchOutcome:
    assert _WORKER_GENERATOR is not None
    if hasattr(_WORKER_GENERATOR, "use_prior"):
        _WORKER_GENERATOR.use_prior(prior)
    return generate_batch(_WORKER_GENERATOR, entities, images_root, split)


def worker_pool(workers: int, generator: Generator) -> ProcessPoolExecutor | None:
    """Generation processes beside the main one (which runs the loader), when the generator allows it."""
    if workers <= 1 or not getattr(generator, "parallel_safe", False):
        return None
    if "fork" not in mp.get_all_start_methods():
        return None
    pool = ProcessPoolExecutor(
        max_workers=workers - 1,
        mp_context=mp.get_context("fork"),
        initializer=_init_worker,
        initargs=(generator, os.getpid()),
    )
    # Fork every worker now: before the loader parses its annotations (the workers need none of
    # that memory) and before the progress bar starts a thread (forking under threads can deadlock).
    for future in [pool.submit(int) for _ in range(workers - 1)]:
        future.result()
    return pool
