"""Shard files: `<split>-NNNNN.parquet`, written under a temporary name and renamed into place, and
its sidecar `<split>-NNNNN.stats.json` (what the chunk produced, summed later into stats.json)."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from scar.core.schema import RejectionLog, parquet_schema
from scar.core.tempfiles import temp_path

DEFAULT_ROW_GROUP_SIZE = 10_000
SIDECAR_SUFFIX = ".stats.json"


def shard_name(split: str, index: int) -> str:
    return f"{split}-{index:05d}.parquet"


def sidecar_path(shard: Path) -> Path:
    return shard.with_suffix(SIDECAR_SUFFIX)


@dataclass
class ShardStats:
    """What one chunk produced; written beside its Parquet file and summed into stats.json."""

    records: int = 0
    entities: int = 0
    samples: int = 0
    rejections: RejectionLog = field(default_factory=RejectionLog)
    categories: Counter = field(default_factory=Counter)
    neg_types: Counter = field(default_factory=Counter)
    scene_methods: Counter = field(default_factory=Counter)  # how the golds' scenes were inferred (offline generator)
    generator_usage: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    unfinished: bool = False  # left unwritten (see scar.sources.images.FIXABLE_REASONS); not part of the sidecar

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "entities": self.entities,
            "samples": self.samples,
            "rejected": self.rejections.total,
            "rejections": self.rejections.to_dict(),
            "categories": dict(sorted(self.categories.items())),
            "neg_types": dict(sorted(self.neg_types.items())),
            **({"scene_methods": dict(sorted(self.scene_methods.items()))} if self.scene_methods else {}),
            "generator_usage": self.generator_usage,
            "seconds": round(self.seconds, 3),
        }


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


# Generator usage counters (requests, tokens, cost...) in sidecars: nested dicts of numbers.


def numeric_delta(after: Any, before: Any) -> Any:
    """after - before for every numeric leaf (generator counters are cumulative per process)."""
    if isinstance(after, dict):
        before = before if isinstance(before, dict) else {}
        return {k: numeric_delta(v, before.get(k)) for k, v in after.items()}
    if isinstance(after, (int, float)) and not isinstance(after, bool):
        return after - (before if isinstance(before, (int, float)) and not isinstance(before, bool) else 0)
    return after


def numeric_sum(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: numeric_sum(a.get(k), b.get(k)) if k in a and k in b else a.get(k, b.get(k)) for k in {**a, **b}}
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return a + b
    return b if b is not None else a
