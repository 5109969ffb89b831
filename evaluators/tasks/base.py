"""A loaded task: its catalog entry plus queries, each with its own local candidate list."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from evaluators.models.protocol import Item
from evaluators.tasks.catalog import TaskInfo
from scar.core.errors import InputFileError


@dataclass(frozen=True)
class Query:
    item: Item
    candidates: tuple[Item, ...]
    gold: int = 0
    record: str = ""  # where it came from, for error messages: "file.parquet row 12"
    qid: str = ""  # the query's own id where the data has one (a SCaR build's `id` column)
    # SCaR rows of a `scar build` (None elsewhere), for the error analysis (evaluators.analysis):
    candidate_types: tuple[str, ...] | None = None  # per candidate: "gold", then each negative's type
    category: str | None = None
    source: str | None = None

    def items(self) -> Iterable[Item]:
        yield self.item
        yield from self.candidates


@dataclass
class LoadedTask:
    info: TaskInfo
    queries: list[Query]
    fingerprint: str  # identifies the task's data: SCaR its rows (scar.publish.build_identity), MMEB its files; + the limit
    files: tuple[str, ...] = ()
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count (only with skip_bad)
    provenance: dict = field(default_factory=dict)  # evaluators.tasks.provenance: official or self-built

    @property
    def name(self) -> str:
        return self.info.name

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def file_fingerprint(paths: Iterable[Path], *extra: object) -> str:
    """Content hash of the files (in the given order) and any extra parameters such as the limit."""
    h = hashlib.blake2b(digest_size=12)
    for path in paths:
        h.update(Path(path).name.encode("utf-8") + b"\0")
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    h.update(repr(extra).encode("utf-8"))
    return h.hexdigest()


class MissingImage(InputFileError):
    """A record names an image file that does not exist (`reason`: what --skip-bad counts it as)."""

    reason = "image not found"


class ImageOutsideRoot(MissingImage):
    """A record's image path is absolute or climbs out of the images root with `..`."""

    reason = "image path outside the images root"


def resolve_image(images_root: Path, relative: str, file: Path, record: str) -> str:
    """Join a stored relative image path with the images root; the file must exist. An absolute path
    or a `..` part is refused: a data file never points the model at files outside its images root."""
    parts = relative.replace("\\", "/").split("/")
    if os.path.isabs(relative) or relative.startswith(("/", "\\")) or ".." in parts:
        raise ImageOutsideRoot(file, f"image path {relative!r} is outside the images root {images_root}", record=record)
    path = os.path.join(images_root, relative)
    if not os.path.isfile(path):
        raise MissingImage(file, f"image not found: {path}", record=record)
    return path


def check_candidates(texts: object, file: Path, record: str, expected: int | None = None) -> list:
    if not isinstance(texts, list) or not texts:
        raise InputFileError(file, "empty candidate list", record=record)
    if expected is not None and len(texts) != expected:
        raise InputFileError(file, f"ragged candidate list: {len(texts)} candidates, expected {expected}", record=record)
    return texts


def apply_limit(n: int, limit: int | None) -> int:
    return n if limit is None else min(n, max(0, int(limit)))


def read_columns(path: Path, required: Sequence[str], optional: Sequence[str] = ()) -> dict[str, list]:
    """The required columns (and whichever optional ones exist) of a task's Parquet file, as lists.

    An unreadable file or a missing required column is one InputFileError naming the file.
    """
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputFileError(path, f"not a readable Parquet file: {exc}") from None
    missing = [c for c in required if c not in names]
    if missing:
        raise InputFileError(path, f"missing column(s) {', '.join(missing)}")
    columns = list(required) + [c for c in optional if c in names and c not in required]
    try:
        table = pq.read_table(path, columns=columns)
    except Exception as exc:
        raise InputFileError(path, f"not a readable Parquet file: {exc}") from None
    return {c: table.column(c).to_pylist() for c in columns}
