"""Reading SCaR rows for the audit: a `scar build` folder or any SCaR Parquet file.

Only the candidates are needed (`tgt_text`, gold at index 0). The extension columns `id`, `source`,
`split` and `neg_types` are used where present; an official `SCAR_<DS>_val_filtered.parquet` has none
of them, so its rows are named `<file stem>:<row index>`, its source is `<DS>`, its split `eval`, and
its negatives have no known type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from scar.core.errors import ScarError

_OFFICIAL = re.compile(r"^SCAR_(?P<ds>.+?)_(?:val|test|train)(?:_filtered)?$", re.IGNORECASE)
_WANTED = ("tgt_text", "qry_image_path", "id", "source", "split", "neg_types")


@dataclass(frozen=True)
class AuditRow:
    id: str
    source: str
    split: str
    candidates: tuple[str, ...]  # gold first
    neg_types: tuple[str, ...] | None  # one per negative, or None when the file does not say
    image: str = ""  # qry_image_path (rows of one image stay together when the audit halves the data)

    @property
    def gold(self) -> str:
        return self.candidates[0]


@dataclass
class RowSet:
    rows: list[AuditRow]
    files: list[Path]
    skipped: dict[str, int]  # reason -> rows left out (fewer than 2 candidates, a type list of the wrong length)
    build_dir: Path | None  # the build folder when the input was one


def parquet_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ScarError(f"{path}: no such file or directory")
    files = sorted(p for p in path.rglob("*.parquet") if not any(part.startswith(".") for part in p.relative_to(path).parts))
    if not files:
        raise ScarError(f"{path}: no Parquet files found")
    return files


def _defaults(path: Path) -> tuple[str, str]:
    """(source, split) for a file without those columns: from an official name, else folder and file name."""
    m = _OFFICIAL.match(path.stem)
    if m:
        return m.group("ds"), "eval"
    split = path.stem.split("-", 1)[0]
    return path.parent.name, split if split in ("train", "eval") else "eval"


def _is_string_list(t: pa.DataType) -> bool:
    return (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)) and (
        pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)
    )


def _iter_file(path: Path, skipped: dict[str, int]) -> Iterator[AuditRow]:
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
        columns = [c for c in _WANTED if c in schema.names]
        if "tgt_text" not in columns or not _is_string_list(schema.field("tgt_text").type):
            raise ScarError(f"{path}: not a SCaR file (no tgt_text column of caption lists)")
        if "neg_types" in columns and not _is_string_list(schema.field("neg_types").type):
            columns.remove("neg_types")
        source, split = _defaults(path)
        index = 0
        few, mismatch = "fewer than 2 text candidates", "neg_types length differs from the negatives"
        for batch in parquet.iter_batches(batch_size=8192, columns=columns):
            data = batch.to_pydict()
            cands_col, types_col = data["tgt_text"], data.get("neg_types")
            ids, sources, splits, images = data.get("id"), data.get("source"), data.get("split"), data.get("qry_image_path")
            for i, cands in enumerate(cands_col):
                row_index, index = index, index + 1
                if not cands or len(cands) < 2 or None in cands:
                    skipped[few] = skipped.get(few, 0) + 1
                    continue
                types = types_col[i] if types_col is not None else None
                if types is not None and (len(types) != len(cands) - 1 or None in types):
                    skipped[mismatch] = skipped.get(mismatch, 0) + 1
                    types = None
                yield AuditRow(
                    id=str(ids[i]) if ids is not None and ids[i] else f"{path.stem}:{row_index}",
                    source=str(sources[i]) if sources is not None and sources[i] else source,
                    split=str(splits[i]) if splits is not None and splits[i] else split,
                    candidates=tuple(cands),
                    neg_types=tuple(types) if types is not None else None,
                    image=str(images[i] or "") if images is not None else "",
                )
    except ScarError:
        raise
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
        raise ScarError(f"{path}: unreadable Parquet file ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None


def iter_rows(path: Path, skipped: dict[str, int]) -> Iterator[AuditRow]:
    """Every usable row of a build folder or a file, streamed; rows left out are counted in `skipped`."""
    files = parquet_files(path)
    found = False
    for f in files:
        for row in _iter_file(f, skipped):
            found = True
            yield row
    if not found:
        raise ScarError(f"{path}: no usable rows (each needs at least 2 candidates in tgt_text)")


def read_rows(path: Path) -> RowSet:
    """All rows in memory (small inputs and tests; the audit itself streams them)."""
    skipped: dict[str, int] = {}
    rows = list(iter_rows(path, skipped))
    return RowSet(rows, parquet_files(path), skipped, path if path.is_dir() else None)
