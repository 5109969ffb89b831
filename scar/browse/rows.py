"""Reading SCaR rows for the browser: which Parquet files, each row's id, source and split, and the
compact form the page gets (short keys, no columns the page does not show)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pyarrow.parquet as pq

from scar.core.errors import ScarError
from scar.core.schema import OFFICIAL_EVAL_COLUMNS

# Columns the page shows, when the file has them (official files carry only OFFICIAL_EVAL_COLUMNS).
SHOWN_COLUMNS = (
    *OFFICIAL_EVAL_COLUMNS,
    "id",
    "source",
    "split",
    "category",
    "image_width",
    "image_height",
    "point",
    "mask",
    "neg_types",
    "caption_parts",
    "generator",
)
BATCH_ROWS = 4_096


@dataclass(frozen=True)
class ParquetInput:
    path: Path
    label: str  # path relative to the browsed folder, shown on the page
    columns: tuple[str, ...]  # the shown columns this file has
    rows: int


def find_inputs(target: Path, skip: Path | None = None) -> list[ParquetInput]:
    """The Parquet files of `target` (a file, or every non-hidden *.parquet under a folder, `skip` excluded)."""
    if not target.exists():
        raise ScarError(f"{target}: no such file or directory")
    if target.is_file():
        files, base = [target], target.parent
    else:
        skip_resolved = skip.resolve() if skip is not None else None
        files = []
        for path in sorted(target.rglob("*.parquet")):
            rel = path.relative_to(target)
            if any(part.startswith(".") for part in rel.parts):
                continue
            if skip_resolved is not None and skip_resolved in path.resolve().parents:
                continue
            files.append(path)
        base = target
        if not files:
            raise ScarError(f"{target}: no Parquet files found")
    inputs = []
    for path in files:
        try:
            parquet = pq.ParquetFile(path)
        except (OSError, ValueError) as exc:
            raise ScarError(f"{path}: unreadable Parquet file ({str(exc).splitlines()[0]})") from None
        names = set(parquet.schema_arrow.names)
        missing = [c for c in OFFICIAL_EVAL_COLUMNS if c not in names]
        if missing:
            raise ScarError(f"{path}: not a SCaR file (missing column {', '.join(missing)})")
        columns = tuple(c for c in SHOWN_COLUMNS if c in names)
        inputs.append(ParquetInput(path, path.relative_to(base).as_posix(), columns, parquet.metadata.num_rows))
    return inputs


def iter_rows(source: ParquetInput, columns: tuple[str, ...] | None = None) -> Iterator[dict[str, Any]]:
    wanted = [c for c in (columns or source.columns) if c in source.columns]
    try:
        parquet = pq.ParquetFile(source.path)
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=wanted):
            yield from batch.to_pylist()
    except (OSError, ValueError) as exc:
        raise ScarError(f"{source.path}: unreadable Parquet file ({str(exc).splitlines()[0]})") from None


def row_id(row: dict[str, Any], source: ParquetInput, index: int) -> str:
    """The `id` column, else `<file stem>:<row index>` (the key of audit flags and review decisions)."""
    value = row.get("id")
    return str(value) if value else f"{source.path.stem}:{index}"


def row_source(row: dict[str, Any], source: ParquetInput) -> str:
    """The `source` column, else the build folder the file sits in, else the file's stem (official files)."""
    if row.get("source"):
        return str(row["source"])
    parts = source.label.split("/")
    return parts[-2] if len(parts) > 1 else source.path.stem


def row_split(row: dict[str, Any], source: ParquetInput) -> str:
    if row.get("split"):
        return str(row["split"])
    return "train" if source.path.stem.lower().startswith("train") else "eval"


def _floats(values: Any, n: int) -> list[float] | None:
    if values is None or len(values) != n:
        return None
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        return None
    return [round(v, 2) for v in out] if all(v == v and abs(v) != float("inf") for v in out) else None


def _mask(mask: Any) -> dict[str, Any] | None:
    """A COCO RLE the page can decode, else None (the page then draws box and point only)."""
    if not isinstance(mask, dict) or not isinstance(mask.get("counts"), str) or not mask["counts"]:
        return None
    try:
        height, width = (int(v) for v in mask.get("size") or ())
    except (TypeError, ValueError):
        return None
    return {"size": [height, width], "counts": mask["counts"]} if height > 0 and width > 0 else None


def compact_row(row: dict[str, Any], source: ParquetInput, index: int) -> dict[str, Any]:
    """The row as the page reads it (thumbnail and instruction are filled in by the caller)."""
    generator = row.get("generator")
    return {
        "id": row_id(row, source, index),
        "src": row_source(row, source),
        "sp": row_split(row, source),
        "cat": str(row.get("category") or ""),
        "img": str(row.get("qry_image_path") or ""),
        "iw": row.get("image_width"),
        "ih": row.get("image_height"),
        "box": _floats(row.get("bbox"), 4),
        "pt": _floats(row.get("point"), 2),
        "m": _mask(row.get("mask")),
        "c": ["" if t is None else str(t) for t in (row.get("tgt_text") or [])],
        "nt": [str(t) for t in row["neg_types"]] if row.get("neg_types") is not None else None,
        "cp": row.get("caption_parts"),
        "gen": generator,
        "f": source.label,
        "r": index,
    }
