"""The decoded-picture cache behind `regions.load_image`: the pixels of a fresh decode, one decode per
file while it is kept, copies handed out, a rewritten file decoded again, a byte budget, counts."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image, ImageDraw

from evaluators.models import decoded, regions
from evaluators.models.decoded import DecodedPictures
from evaluators.models.protocol import Item
from scar.core.errors import InputFileError


def picture(path, seed: int, size=(40, 30)) -> str:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return str(path)


def counting(calls: list[str]):
    def decode(path: str) -> Image.Image:
        calls.append(path)
        return regions.decode_image(path)

    return decode


def test_one_decode_per_file_and_copies_of_the_fresh_pixels(tmp_path):
    cache, calls = DecodedPictures(1), []
    a, b = picture(tmp_path / "a.png", 0), picture(tmp_path / "b.jpg", 1)
    fresh = [regions.decode_image(a), regions.decode_image(b)]
    for _ in range(3):
        got = [cache.load(a, counting(calls)), cache.load(b, counting(calls))]
        assert [g.tobytes() for g in got] == [f.tobytes() for f in fresh] and all(g.mode == "RGB" for g in got)
    assert calls == [a, b] and cache.counts() == {"hits": 4, "misses": 2}
    drawn = cache.load(a, counting(calls))
    ImageDraw.Draw(drawn).rectangle((0, 0, 39, 29), fill=(255, 0, 0))  # a caller drawing on its copy
    assert cache.load(a, counting(calls)).tobytes() == fresh[0].tobytes()


def test_a_rewritten_file_is_decoded_again(tmp_path):
    cache, calls = DecodedPictures(1), []
    path = picture(tmp_path / "a.png", 0)
    first = cache.load(path, counting(calls))
    picture(tmp_path / "a.png", 1)
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a later mtime whatever the clock's grain
    second = cache.load(path, counting(calls))
    assert len(calls) == 2 and first.tobytes() != second.tobytes()
    assert second.tobytes() == regions.decode_image(path).tobytes()


def test_the_byte_budget_evicts_the_least_recently_used(tmp_path):
    paths = [picture(tmp_path / f"{i}.png", i) for i in range(3)]
    cache, calls = DecodedPictures(2 * 40 * 30 * 3 / 2**20), []  # room for two 40x30 RGB pictures
    for path in paths[:2]:
        cache.load(path, counting(calls))
    cache.load(paths[0], counting(calls))  # 0 is now the most recent
    cache.load(paths[2], counting(calls))  # evicts 1
    assert len(cache) == 2 and cache.size == 2 * 40 * 30 * 3
    cache.load(paths[0], counting(calls))
    cache.load(paths[1], counting(calls))
    assert calls == [paths[0], paths[1], paths[2], paths[1]]
    big = picture(tmp_path / "big.png", 9, size=(100, 100))
    cache.load(big, counting(calls))  # larger than the whole budget: decoded, never kept
    assert len(cache) == 2 and calls[-1] == big
    cache.configure(0)
    assert not cache.enabled and len(cache) == 0 and cache.size == 0
    cache.load(paths[0], counting(calls))
    assert calls[-1] == paths[0] and cache.counts() == {"hits": 2, "misses": 5}  # off: nothing counted


def test_load_image_goes_through_the_process_cache_and_still_reports_bad_files(tmp_path):
    path = picture(tmp_path / "a.png", 3)
    before = decoded.counts()
    item = Item(text="x", image=path, box_xyxy=(1.0, 2.0, 20.0, 25.0))
    crops = [regions.prepare(item, "crop")[0] for _ in range(3)]
    circles = [regions.prepare(item, "circle")[0] for _ in range(2)]
    after = decoded.counts()
    assert after["misses"] - before["misses"] == 1 and after["hits"] - before["hits"] == 4
    fresh = regions.decode_image(path)
    assert all(c.tobytes() == fresh.crop((1, 2, 20, 25)).tobytes() for c in crops)
    assert all(c.tobytes() == regions.draw_circle(fresh, (1.0, 2.0, 20.0, 25.0)).tobytes() for c in circles)
    with pytest.raises(InputFileError, match="not found"):
        regions.load_image(str(tmp_path / "missing.png"))
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(InputFileError, match="cannot read image"):
        regions.load_image(str(tmp_path / "bad.png"))


def test_threads_share_the_cache(tmp_path):
    paths = [picture(tmp_path / f"{i}.png", i) for i in range(4)]
    cache, calls = DecodedPictures(8), []
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda p: cache.load(p, counting(calls)).tobytes(), paths * 8))
    assert got == [regions.decode_image(p).tobytes() for p in paths] * 8
    counts = cache.counts()
    assert counts["hits"] + counts["misses"] == 32 and len(set(calls)) == 4 and len(cache) == 4
