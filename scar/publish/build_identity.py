"""A build's identity: the name it was built under and a fingerprint of its eval rows (`<out>/build.json`).

A source of a build with no SCaR task of its own (coco, refcoco, ...) is evaluated as the task
`<build name>/<source>`. The name is recorded when the build is written, so a build that is copied,
moved or exported keeps its task names; exports carry it (`build.json`, and in the official layout the
Parquet metadata of every file). The fingerprint of a source hashes, row by row in order, each eval
row's id, query text, region (box, point, mask) and candidate texts: everything a score depends on but
the image path. Exports rewrite image paths and file metadata, never rows, so it is the same for a
build, its copies and its exports, and it differs as soon as one row does. Two different builds
that happen to share a name are told apart by it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Sequence

from scar.core.errors import InputFileError
from scar.core.jsonfiles import read_json
from scar.core.tempfiles import atomic_write_json

IDENTITY_NAME = "build.json"
SCHEMA = "scar-build/1"
EVAL_SHARD = re.compile(r"^eval-\d{5}\.parquet$")
_BATCH = 10_000
_ROW_COLUMNS = ("qry_text", "bbox", "point", "mask", "tgt_text")


def eval_fingerprint(files: Sequence[Path]) -> tuple[str, int]:
    """(fingerprint, rows) of eval rows spread over `files`, read in order: each row's `id` (or, in files
    without ids, its image path), query text, box, point, mask and candidate texts."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    digest = hashlib.blake2b(digest_size=8)
    rows = 0
    for path in files:
        try:
            parquet = pq.ParquetFile(path)
            names = parquet.schema_arrow.names
            keys = ["id"] if "id" in names else ["qry_image_path"]
            columns = [c for c in (*keys, *_ROW_COLUMNS) if c in names]
            for batch in parquet.iter_batches(batch_size=_BATCH, columns=columns):
                values = [batch.column(c).to_pylist() for c in columns]
                for row in zip(*values):
                    digest.update(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
                    rows += 1
        except (OSError, pa.ArrowException) as exc:
            raise InputFileError(path, f"not a readable Parquet file: {exc}") from None
    return digest.hexdigest(), rows


def eval_shards(folder: Path) -> list[Path]:
    """A source folder's eval shards, in order."""
    return sorted(p for p in Path(folder).glob("eval-*.parquet") if EVAL_SHARD.match(p.name) and p.is_file())


def compute_identity(build_dir: Path, name: str) -> dict[str, Any]:
    """The identity of the build in `build_dir` under `name`, from its eval shards as they are now."""
    sources: dict[str, dict[str, Any]] = {}
    for folder in sorted(p for p in Path(build_dir).iterdir() if p.is_dir() and not p.name.startswith(".")):
        shards = eval_shards(folder)
        if shards:
            fingerprint, rows = eval_fingerprint(shards)
            sources[folder.name] = {"eval_fingerprint": fingerprint, "eval_rows": rows}
    whole = hashlib.blake2b(json.dumps(sources, sort_keys=True).encode("utf-8"), digest_size=8).hexdigest()
    return {"schema": SCHEMA, "name": name, "fingerprint": whole, "sources": sources}


def read_identity(folder: Path) -> dict[str, Any] | None:
    """`<folder>/build.json`, checked; None when there is none."""
    path = Path(folder) / IDENTITY_NAME
    if not path.is_file():
        return None
    data = read_json(path)
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise InputFileError(path, f"not a `scar build` identity (expected schema {SCHEMA!r})")
    name = data.get("name")
    if not isinstance(name, str) or not name or "/" in name:
        raise InputFileError(path, f"name must be a non-empty string without '/', found {name!r}")
    if not isinstance(data.get("sources"), dict):
        raise InputFileError(path, "no \"sources\" object")
    return data


def build_name(build_dir: Path) -> str:
    """The recorded name, else the folder's own name (a build written before names were recorded)."""
    identity = read_identity(build_dir)
    return identity["name"] if identity else Path(build_dir).resolve().name


def current_identity(build_dir: Path) -> dict[str, Any]:
    """The build's recorded name with fingerprints of its eval shards as they are now."""
    return compute_identity(build_dir, build_name(build_dir))


def write_identity(build_dir: Path) -> dict[str, Any]:
    """Write (or refresh) `<build_dir>/build.json`: the name a first write records is kept by every later
    one, so adding a source or finalising after a move changes the fingerprints, never the name."""
    identity = current_identity(build_dir)
    atomic_write_json(Path(build_dir) / IDENTITY_NAME, identity)
    return identity
