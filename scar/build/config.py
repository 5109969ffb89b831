"""The settings of one `scar build` run, with its source already resolved (`scar.sources.SourceSpec`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from scar.build.shards import DEFAULT_ROW_GROUP_SIZE
from scar.sources import SourceOptions, SourceSpec

DEFAULT_SHARD_SIZE = 50_000


@dataclass(frozen=True)
class BuildConfig:
    source: SourceSpec  # resolved once, at the command boundary
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
