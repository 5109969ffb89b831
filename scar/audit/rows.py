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

import pyarrow.parquet as pq

from scar.errors import ScarError

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


def _iter_file(path: Path, skipped: dict[str, int]) -> Iterator[AuditRow]:
    try:
        parquet = pq.ParquetFile(path)
        columns = [c for c in _WANTED if c in parquet.schema_arrow.names]
        if "tgt_text" not in columns:
            raise ScarError(f"{path}: not a SCaR file (no tgt_text column)")
        source, split = _defaults(path)
        index = 0
        for batch in parquet.iter_batches(batch_size=8192, columns=columns):
            data = batch.to_pydict()
            n = batch.num_rows
            for i in range(n):
                row_index, index = index, index + 1
                cands = data["tgt_text"][i]
                if not cands or len(cands) < 2 or not all(isinstance(c, str) for c in cands):
                    skipped["fewer than 2 text candidates"] = skipped.get("fewer than 2 text candidates", 0) + 1
                    continue
                types = data["neg_types"][i] if "neg_types" in data else None
                if types is not None and len(types) != len(cands) - 1:
                    skipped["neg_types length differs from the negatives"] = (
                        skipped.get("neg_types length differs from the negatives", 0) + 1
                    )
                    types = None
                yield AuditRow(
                    id=(data["id"][i] if "id" in data and data["id"][i] else f"{path.stem}:{row_index}"),
                    source=(data["source"][i] if "source" in data and data["source"][i] else source),
                    split=(data["split"][i] if "split" in data and data["split"][i] else split),
                    candidates=tuple(cands),
                    neg_types=tuple(str(t) for t in types) if types is not None else None,
                    image=str(data["qry_image_path"][i] or "") if "qry_image_path" in data else "",
                )
    except ScarError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
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
