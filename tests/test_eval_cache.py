import struct

import numpy as np
import pytest

from evaluators.cache import CorruptCacheRecord, EmbeddingCache
from evaluators.models.protocol import Item


def keys(n, start=0):
    return [Item(text=f"t{i}").key() for i in range(start, start + n)]


def test_roundtrip_and_reopen(tmp_path):
    k = keys(5)
    emb = np.arange(15, dtype=np.float32).reshape(5, 3)
    with EmbeddingCache(tmp_path, "fp") as c:
        c.put(k[:2], emb[:2])
        c.put(k[2:], emb[2:])
        assert np.array_equal(c.get(k[::-1]), emb[::-1])
    c2 = EmbeddingCache(tmp_path, "fp")
    assert len(c2) == 5 and c2.missing(k + keys(1, 9)) == keys(1, 9)
    assert np.array_equal(c2.get(k), emb)
    assert len(EmbeddingCache(tmp_path, "other")) == 0  # another model fingerprint shares nothing


def test_torn_tail_is_ignored(tmp_path):
    k = keys(4)
    emb = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)
    with EmbeddingCache(tmp_path, "fp") as c:
        c.put(k[:2], emb[:2])
        c.put(k[2:], emb[2:])
    idx = next((tmp_path / "fp").glob("*.idx"))
    data = idx.with_suffix(".bin")
    # A kill during the last batch: its data half written, so its index entries point past the end,
    # and a partial entry dangles at the end of the index.
    data.write_bytes(data.read_bytes()[: 2 * 8 * 4 + 5])
    idx.write_bytes(idx.read_bytes() + b"\x01\x02\x03")
    c = EmbeddingCache(tmp_path, "fp")
    assert len(c) == 2 and c.missing(k) == k[2:]
    assert c.ignored_entries == 3
    assert np.array_equal(c.get(k[:2]), emb[:2])
    c.put(k[2:], emb[2:])  # the rerun appends to a new shard
    assert np.array_equal(EmbeddingCache(tmp_path, "fp").get(k), emb)


_ENTRY = struct.Struct("<16sQII")  # an index entry, as documented in evaluators/cache.py: key, offset, dim, crc32


def _corrupt(tmp_path, kind: str) -> None:
    """Alter one stored record the way a bad disk or a stray write would."""
    idx = next((tmp_path / "fp").glob("*.idx"))
    data = idx.with_suffix(".bin")
    if kind == "flipped-byte":
        raw = bytearray(data.read_bytes())
        raw[4 * 4 + 1] ^= 0xFF  # inside the second record (dim 4)
        data.write_bytes(bytes(raw))
        return
    raw = bytearray(idx.read_bytes())
    key, offset, dim, crc = _ENTRY.unpack_from(raw, _ENTRY.size)  # the second entry
    if kind == "bad-offset":
        offset += 4
    elif kind == "bad-dimension":
        dim -= 1
    _ENTRY.pack_into(raw, _ENTRY.size, key, offset, dim, crc)
    idx.write_bytes(bytes(raw))


@pytest.mark.parametrize("kind", ["flipped-byte", "bad-offset", "bad-dimension"])
def test_corrupt_record_is_dropped_counted_and_re_encoded(tmp_path, kind, caplog):
    k = keys(3)
    emb = np.arange(12, dtype=np.float32).reshape(3, 4)
    with EmbeddingCache(tmp_path, "fp") as c:
        c.put(k, emb)
    _corrupt(tmp_path, kind)
    c = EmbeddingCache(tmp_path, "fp")
    with caplog.at_level("WARNING", logger="evaluators.cache"):
        assert c.missing(k + k) == [k[1], k[1]]  # once per occurrence, like any missing key
    assert c.corrupt_records == 1
    assert sum("corrupt record" in r.message for r in caplog.records) == 1  # logged once
    assert c.missing(k) == [k[1]] and c.corrupt_records == 1  # not counted again
    c.put([k[1]], emb[1:2])  # the rerun's encoding of it, in a newer shard
    c.close()
    healed = EmbeddingCache(tmp_path, "fp")
    assert healed.missing(k) == [] and healed.corrupt_records == 0
    assert np.array_equal(healed.get(k), emb)


def test_a_record_altered_after_verification_is_a_clear_error(tmp_path):
    k = keys(1)
    with EmbeddingCache(tmp_path, "fp") as c:
        c.put(k, np.ones((1, 4), dtype=np.float32))
    cache = EmbeddingCache(tmp_path, "fp")
    assert cache.missing(k) == []
    data = next((tmp_path / "fp").glob("*.bin"))
    raw = bytearray(data.read_bytes())
    raw[0] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(CorruptCacheRecord, match="checksum.*rerun to re-encode"):
        cache.get(k)
    assert cache.missing(k) == k  # dropped: the next pass encodes it again
