import numpy as np
import pytest

from evaluators.cache import EmbeddingCache
from evaluators.protocol import Item


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


def test_altered_record_is_detected(tmp_path):
    k = keys(1)
    with EmbeddingCache(tmp_path, "fp") as c:
        c.put(k, np.ones((1, 4), dtype=np.float32))
    data = next((tmp_path / "fp").glob("*.bin"))
    raw = bytearray(data.read_bytes())
    raw[0] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="checksum"):
        EmbeddingCache(tmp_path, "fp").get(k)
