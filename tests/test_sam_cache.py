"""VIRTUE's SAM image embeddings kept per picture: the same embeddings bit for bit, SAM's image encoder
once per picture, the prompt encoder and mask decoder per prompt; keys that follow the pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from baselines.tiny.qwen2vl import TINY_PIXELS, write_tiny_virtue
from evaluators.models import qwen2vl
from evaluators.models.protocol import Item
from evaluators.models.regions import load_image
from evaluators.models.registry import load_embedder
from evaluators.robustness.geometry import encode

TINY = {"min_pixels": TINY_PIXELS, "max_pixels": TINY_PIXELS}


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    folder = write_tiny_virtue(tmp_path_factory.mktemp("virtue"), seed=0)
    rng = np.random.default_rng(5)
    for name, (w, h) in (("a.png", (70, 50)), ("b.png", (40, 60))):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(folder / name)
    return folder


def prompts(ckpt, name: str, w: int, h: int, shift: float = 0.0) -> list[Item]:
    """One picture under every kind of prompt (the robustness suite's levels, in small)."""
    mask = np.zeros((h, w), bool)
    mask[10:30, 5:25] = True
    text = "<|image_1|> Find the caption of the object."
    image = str(ckpt / name)
    return [Item(text=text, image=image, box_xyxy=(2.0 + shift, 3.0, 30.0, 40.0)),
            Item(text=text, image=image, point_xy=(12.0 + shift, 20.0)),
            Item(text=text, image=image, mask_rle=encode(mask)),
            Item(text=text, image=image)]


def batch_of(ckpt, shift: float = 0.0) -> list[Item]:
    return prompts(ckpt, "a.png", 70, 50, shift) + [Item(text="a salad fork")] + prompts(ckpt, "b.png", 40, 60, shift)


def encoder_rows(monkeypatch, embedder) -> list[int]:
    """How many pictures each call of SAM's image encoder saw."""
    rows: list[int] = []
    original = embedder.stream.image_embeddings

    def counted(pixels):
        rows.append(len(pixels))
        return original(pixels)

    monkeypatch.setattr(embedder.stream, "image_embeddings", counted)
    return rows


@pytest.mark.parametrize("protocol", ["official", "fixed"])
def test_cached_sam_embeddings_give_the_same_embeddings_bit_for_bit(ckpt, protocol, monkeypatch):
    plain = load_embedder(str(ckpt), family="virtue", protocol=protocol, sam_cache_mb=0, **TINY)
    cached = load_embedder(str(ckpt), family="virtue", protocol=protocol, **TINY)
    assert plain.info.fingerprint == cached.info.fingerprint  # a cache budget changes no result
    first, second = batch_of(ckpt), batch_of(ckpt, shift=1.5)  # the same pictures under other prompts
    plain_rows, cached_rows = encoder_rows(monkeypatch, plain), encoder_rows(monkeypatch, cached)
    references = [plain.encode(batch, len(batch)) for batch in (first, second)]
    assert plain_rows == [8, 8]  # every image row through SAM's image encoder, every time
    assert torch.equal(cached.encode(first, len(first)), references[0])
    assert cached_rows == [2]  # pictures a and b, once each
    assert (cached.sam_cache.hits, cached.sam_cache.misses) == (0, 2)
    decodes = []
    monkeypatch.setattr(qwen2vl, "load_image", lambda path: decodes.append(path) or load_image(path))
    assert torch.equal(cached.encode(second, len(second)), references[1])  # new prompts, cached pictures
    assert cached_rows == [2] and (cached.sam_cache.hits, cached.sam_cache.misses) == (2, 2)
    assert decodes == []  # tower output and SAM embedding cached: the pictures are not even processed
    assert torch.equal(cached.encode(first[::-1], 3).flip(0), plain.encode(first[::-1], 3).flip(0))


def test_sam_keys_follow_the_pixels_and_the_model(ckpt):
    boxtext = load_embedder(str(ckpt), family="virtue", protocol="fixed", **TINY)
    crop = load_embedder(str(ckpt) + "+crop", family="virtue", protocol="fixed", **TINY)
    official = load_embedder(str(ckpt), family="virtue", protocol="official", **TINY)
    bigger = load_embedder(str(ckpt), family="virtue", protocol="fixed", min_pixels=4 * TINY_PIXELS,
                           max_pixels=4 * TINY_PIXELS)
    box, point = prompts(ckpt, "a.png", 70, 50)[:2]
    assert boxtext.sam_key(box) == boxtext.sam_key(point) is not None  # the prompt is not in the picture
    assert crop.sam_key(box) != crop.sam_key(point)  # a crop is another picture per prompt
    keys = {boxtext.sam_key(box), official.sam_key(box), bigger.sam_key(box), crop.sam_key(box)}
    assert len(keys) == 4  # protocol (SAM's normalisation) and the processor's limits change the pixels
    assert boxtext.sam_key(Item(text="no image")) is None
    off = load_embedder(str(ckpt), family="virtue", sam_cache_mb=0, **TINY)
    assert not off.sam_cache.enabled and off.sam_key(box) is None


def test_a_picture_gone_from_the_cache_before_its_batch_runs_is_prepared_again(ckpt):
    batch = batch_of(ckpt)
    reference = load_embedder(str(ckpt), family="virtue", protocol="fixed", sam_cache_mb=0, **TINY).encode(batch, 9)
    cached = load_embedder(str(ckpt), family="virtue", protocol="fixed", **TINY)
    cached.encode(batch, 9)
    prepared = cached.prepare_batch(batch)  # every picture cached: no pixels
    assert all(p.slot is None for p in prepared[1] if p.shows_image)
    cached.sam_cache.clear()
    assert torch.equal(cached.forward_batch(prepared), reference)  # prepared again, in full


def test_a_small_budget_keeps_the_last_pictures_and_stays_exact(ckpt, monkeypatch):
    batch = batch_of(ckpt)
    reference = load_embedder(str(ckpt), family="virtue", protocol="fixed", sam_cache_mb=0, **TINY).encode(batch, 9)
    one = load_embedder(str(ckpt), family="virtue", protocol="fixed", **TINY)
    entry = 32 * 8 * 8 * 4  # the tiny SAM's (C, h, w) float32 embedding
    one.sam_cache = type(one.sam_cache)(entry / 2**20)  # room for one picture
    rows = encoder_rows(monkeypatch, one)
    assert torch.equal(one.encode(batch, 9), reference)
    assert len(one.sam_cache) == 1 and rows == [2]
    assert torch.equal(one.encode(batch, 9), reference)  # b was kept, a encoded again
    assert rows == [2, 1]
