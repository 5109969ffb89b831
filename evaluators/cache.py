"""Crash-safe on-disk embedding cache keyed by (model fingerprint, item key).

Layout: `<cache-dir>/<fingerprint>/shard-<id>.bin` (records appended back to back) and a sidecar
`shard-<id>.idx` (fixed-size entries: key, offset, dim, crc32). A batch is appended to the data file
and fsync'd before its index entries are appended and fsync'd, so an index entry only ever points
at complete data. A run killed mid-write leaves at most a torn tail (a partial index entry, or data
no entry points to, or an entry pointing past the end of the data): all are detected on open and
ignored. Each writer appends to its own new shard, so old shards are never rewritten.

Self-healing: `missing()` verifies every record it would report as present (checksum, and the
dimension most records share). A corrupt record (a flipped byte, a bad offset or dimension in its
index entry) is dropped, counted in `corrupt_records`, logged once, and reported missing, so the run
encodes it again; the new record lands in a newer shard, which wins over the old one on every later
open (shards load in name order, and names start with the time in microseconds).
"""

from __future__ import annotations

import logging
import os
import struct
import time
import uuid
import zlib
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from scar.core.errors import ScarError

log = logging.getLogger("evaluators.cache")

_ENTRY = struct.Struct("<16sQII")  # key (blake2b-16 digest), data offset, dim, crc32 of the payload
_DTYPE = np.dtype("<f4")


class CorruptCacheRecord(ScarError):
    """A record that failed its checksum after `missing()` had verified it (the file changed mid-run)."""


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
        self.corrupt_records = 0  # records dropped by `missing()` because they failed verification
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

    def keys(self) -> list[str]:
        """Every key with a record, in the order they were found."""
        return list(self._where)

    def missing(self, keys: Iterable[str]) -> list[str]:
        """The keys to (re-)encode: absent ones, and present ones whose record fails verification."""
        keys = list(keys)
        present = [k for k in dict.fromkeys(keys) if k in self._where]
        corrupt = self._corrupt(present)
        if corrupt:
            for key in corrupt:
                del self._where[key]
            self.corrupt_records += len(corrupt)
            log.warning("embedding cache %s: %d corrupt record(s) dropped and encoded again (first: item %s)",
                        self.dir, len(corrupt), corrupt[0])  # fmt: skip
        return [k for k in keys if k not in self._where]

    def _corrupt(self, keys: Sequence[str]) -> list[str]:
        """Keys whose record fails its checksum or has a dimension other than the common one."""
        if not keys:
            return []
        common_dim = Counter(self._where[k][2] for k in keys).most_common(1)[0][0]
        bad = [k for k in keys if self._where[k][2] != common_dim]
        by_file: dict[Path, list[str]] = {}
        for k in keys:
            if self._where[k][2] == common_dim:
                by_file.setdefault(self._where[k][0], []).append(k)
        self.flush()
        for path, file_keys in by_file.items():
            try:
                mm = np.memmap(path, dtype=np.uint8, mode="r")
            except (OSError, ValueError):  # vanished or emptied since open
                bad.extend(file_keys)
                continue
            for k in file_keys:
                _, offset, dim, crc = self._where[k]
                payload = mm[offset : offset + dim * _DTYPE.itemsize]
                if len(payload) != dim * _DTYPE.itemsize or zlib.crc32(payload) != crc:
                    bad.append(k)
            del mm
        return bad

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
            raise CorruptCacheRecord(
                f"cache {self.dir} holds embeddings of different sizes {sorted(dims)}; rerun to re-encode them"
            )
        out = np.empty((len(keys), dims.pop()), dtype=np.float32)
        for path, rows in by_file.items():
            mm = np.memmap(path, dtype=np.uint8, mode="r")
            for i in rows:
                _, offset, dim, crc = self._where[keys[i]]
                payload = mm[offset : offset + dim * _DTYPE.itemsize]
                if zlib.crc32(payload) != crc:
                    del self._where[keys[i]]  # a rerun encodes it again
                    raise CorruptCacheRecord(
                        f"{path}: corrupt cache record for item {keys[i]} (checksum mismatch); rerun to re-encode it"
                    )
                out[i] = np.frombuffer(payload, dtype=_DTYPE)
            del mm
        return out

    # ------------------------------------------------------------------ writing

    def _open_shard(self, tag: str) -> None:
        # Microseconds after the seconds: a shard written later sorts (and so loads, and wins) later,
        # also against the older second-resolution names (a digit sorts after their '-').
        now = time.time()
        stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(now)) + f"{int(now * 1e6) % 1_000_000:06d}"
        name = f"shard-{stamp}-{tag}-{uuid.uuid4().hex[:8]}"
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
