"""Crash-safe on-disk embedding cache keyed by (model fingerprint, item key).

Layout: `<cache-dir>/<fingerprint>/shard-<id>.bin` (records appended back to back) and a sidecar
`shard-<id>.idx` (fixed-size entries: key, offset, dim, crc32). A batch is appended to the data file
and fsync'd before its index entries are appended and fsync'd, so an index entry only ever points
at complete data. A run killed mid-write leaves at most a torn tail (a partial index entry, or data
no entry points to, or an entry pointing past the end of the data): all are detected on open and
ignored. Each writer appends to its own new shard, so old shards are never rewritten.
"""

from __future__ import annotations

import os
import struct
import time
import uuid
import zlib
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

_ENTRY = struct.Struct("<16sQII")  # key (blake2b-16 digest), data offset, dim, crc32 of the payload
_DTYPE = np.dtype("<f4")


def _key_bytes(key: str) -> bytes:
    raw = bytes.fromhex(key)
    if len(raw) != 16:
        raise ValueError(f"cache keys are 32 hex digits, got {key!r}")
    return raw


class EmbeddingCache:
    def __init__(self, root: Path, fingerprint: str) -> None:
        self.dir = Path(root) / fingerprint
        self.dir.mkdir(parents=True, exist_ok=True)
        self._where: dict[str, tuple[Path, int, int, int]] = {}  # key -> (data file, offset, dim, crc)
        self.ignored_entries = 0  # torn or dangling index entries found on open
        self._load_index()
        self._data_file = None
        self._index_file = None
        self._data_path: Path | None = None

    # ------------------------------------------------------------------ reading

    def _load_index(self) -> None:
        for idx in sorted(self.dir.glob("shard-*.idx")):
            data = idx.with_suffix(".bin")
            data_size = data.stat().st_size if data.exists() else 0
            raw = idx.read_bytes()
            whole = len(raw) - len(raw) % _ENTRY.size
            self.ignored_entries += (len(raw) - whole) > 0
            for off in range(0, whole, _ENTRY.size):
                key, offset, dim, crc = _ENTRY.unpack_from(raw, off)
                if offset + dim * _DTYPE.itemsize > data_size:
                    self.ignored_entries += 1
                    continue
                self._where[key.hex()] = (data, offset, dim, crc)

    def __contains__(self, key: str) -> bool:
        return key in self._where

    def __len__(self) -> int:
        return len(self._where)

    def missing(self, keys: Iterable[str]) -> list[str]:
        return [k for k in keys if k not in self._where]

    def get(self, keys: Sequence[str]) -> np.ndarray:
        """(len(keys), d) float32 array; a record whose checksum fails raises (the file was altered)."""
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        self.flush()
        by_file: dict[Path, list[int]] = {}
        for i, k in enumerate(keys):
            if k not in self._where:
                raise KeyError(f"embedding of item {k} is not in the cache {self.dir}")
            by_file.setdefault(self._where[k][0], []).append(i)
        dims = {self._where[k][2] for k in keys}
        if len(dims) != 1:
            raise ValueError(f"cache {self.dir} holds embeddings of different sizes {sorted(dims)}")
        out = np.empty((len(keys), dims.pop()), dtype=np.float32)
        for path, rows in by_file.items():
            mm = np.memmap(path, dtype=np.uint8, mode="r")
            for i in rows:
                _, offset, dim, crc = self._where[keys[i]]
                payload = mm[offset : offset + dim * _DTYPE.itemsize]
                if zlib.crc32(payload) != crc:
                    raise ValueError(f"{path}: corrupt cache record for item {keys[i]} (checksum mismatch)")
                out[i] = np.frombuffer(payload, dtype=_DTYPE)
            del mm
        return out

    # ------------------------------------------------------------------ writing

    def _open_shard(self, tag: str) -> None:
        name = f"shard-{time.strftime('%Y%m%d%H%M%S')}-{tag}-{uuid.uuid4().hex[:8]}"
        self._data_path = self.dir / f"{name}.bin"
        self._data_file = open(self._data_path, "ab")
        self._index_file = open(self.dir / f"{name}.idx", "ab")

    def put(self, keys: Sequence[str], embeddings: np.ndarray, tag: str = "r0") -> None:
        """Append a batch durably: data, fsync, then index entries, fsync."""
        emb = np.ascontiguousarray(np.asarray(embeddings, dtype=_DTYPE))
        if emb.ndim != 2 or emb.shape[0] != len(keys):
            raise ValueError(f"expected ({len(keys)}, d) embeddings, got shape {emb.shape}")
        if self._data_file is None:
            self._open_shard(tag)
        assert self._data_file is not None and self._index_file is not None and self._data_path is not None
        start = self._data_file.tell()
        entries = []
        for i, key in enumerate(keys):
            payload = emb[i].tobytes()
            offset = start + i * len(payload)
            entries.append((key, offset, emb.shape[1], zlib.crc32(payload)))
        self._data_file.write(emb.tobytes())
        self._data_file.flush()
        os.fsync(self._data_file.fileno())
        self._index_file.write(b"".join(_ENTRY.pack(_key_bytes(k), o, d, c) for k, o, d, c in entries))
        self._index_file.flush()
        os.fsync(self._index_file.fileno())
        for key, offset, dim, crc in entries:
            self._where[key] = (self._data_path, offset, dim, crc)

    def flush(self) -> None:
        for f in (self._data_file, self._index_file):
            if f is not None:
                f.flush()

    def close(self) -> None:
        for f in (self._data_file, self._index_file):
            if f is not None:
                f.close()
        self._data_file = self._index_file = None

    def __enter__(self) -> "EmbeddingCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
