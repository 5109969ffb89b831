"""The per-picture image-tower cache: same embeddings, one tower call and one decode per picture."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from baselines.tiny import ensure_tiny_models
from baselines.tiny.qwen2vl import TINY_PIXELS, write_tiny_qwen2vl
from evaluators.models import qwen2vl as qwen2vl_module
from evaluators.models.protocol import Item
from evaluators.models.registry import load_embedder
from evaluators.models.vision_cache import FeatureCache, file_digest, picture_key

TINY = {"min_pixels": TINY_PIXELS, "max_pixels": TINY_PIXELS}


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(3)
    for name, size in (("a.png", (70, 50)), ("b.png", (40, 60)), ("c.png", (64, 64))):
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(folder / name)
    (folder / "copy").mkdir()
    shutil.copyfile(folder / "a.png", folder / "copy" / "a.png")  # the same picture in another task's folder
    return folder


def items(folder):
    a, b, c, a2 = (str(folder / n) for n in ("a.png", "b.png", "c.png", "copy/a.png"))
    return [
        Item(text="<|image_1|>\nRepresent the given image.", image=a),
        Item(text="<|image_1|>\nRepresent the given image with the following question: what is it?", image=a),
        Item(text="<|image_1|>\nFind a caption.", image=b),
        Item(text="a dog on a mat"),
        Item(text="<|image_1|>\nSelect the object", image=a2),
        Item(text="<|image_1|>\nRepresent the given image.", image=c, box_xyxy=(2.0, 3.0, 30.0, 40.0)),
        Item(text="<|image_1|>\nRepresent the given image.", image=b),
    ]


def test_feature_cache_is_an_lru_with_a_byte_budget():
    cache = FeatureCache(budget_mb=2 * 4096 * 4 / 2**20)  # room for two 4096-float tensors
    for key in ("x", "y", "z"):
        cache.put(key, torch.zeros(4096))
    assert "x" not in cache and "y" in cache and "z" in cache and cache.size == 2 * 4096 * 4
    assert cache.peek("y") is not None and cache.hits == 0  # peeking counts nothing, moves nothing
    cache.get("y")
    cache.put("w", torch.zeros(4096))  # "z" is now the least recently used
    assert "z" not in cache and "y" in cache and (cache.hits, cache.misses) == (1, 0)
    off = FeatureCache(0)
    off.put("x", torch.zeros(1))
    assert not off.enabled and "x" not in off


def test_picture_keys_follow_the_bytes_and_the_pixel_changing_variants(pictures):
    a, copy_a, b = str(pictures / "a.png"), str(pictures / "copy" / "a.png"), str(pictures / "b.png")
    assert file_digest(a) == file_digest(copy_a) != file_digest(b)
    plain, boxed = Item(text="x", image=a), Item(text="y", image=copy_a, box_xyxy=(1.0, 1.0, 9.0, 9.0))
    assert picture_key(plain, None) == picture_key(boxed, "boxtext") == picture_key(boxed, None)
    assert picture_key(boxed, "crop") != picture_key(plain, "crop") and picture_key(boxed, "crop") != picture_key(boxed, "circle")
    assert picture_key(Item(text="t"), None) is None
    assert picture_key(Item(text="t", image=str(pictures / "missing.png")), None) is None


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory):
    return write_tiny_qwen2vl(tmp_path_factory.mktemp("qwen2vl"), seed=0)


def count_calls(monkeypatch, target, name):
    calls = []
    original = getattr(target, name)

    def wrapper(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)
    return calls


@pytest.mark.parametrize("protocol", ["official", "fixed"])
@pytest.mark.parametrize("variant", ["", "+crop"])
def test_qwen2vl_cached_tower_gives_the_same_embeddings(qwen_dir, pictures, protocol, variant, monkeypatch):
    batch = items(pictures)
    plain = load_embedder(str(qwen_dir) + variant, family="vlm2vec", protocol=protocol, vision_cache_mb=0, **TINY)
    cached = load_embedder(str(qwen_dir) + variant, family="vlm2vec", protocol=protocol, **TINY)
    reference = plain.encode(batch, len(batch))
    tower = count_calls(monkeypatch, cached, "tower")
    decodes = count_calls(monkeypatch, qwen2vl_module, "load_image")
    first = cached.encode(batch, len(batch))
    assert torch.equal(first, reference)  # the same batch: bit for bit
    assert len(tower) == 1 and len(decodes) == 3  # pictures a (under two paths), b, c (or its crop): once each
    again = cached.encode(batch[::-1], 2)  # every picture cached now: no decode, no tower
    assert len(tower) == 1 and len(decodes) == 3
    assert torch.allclose(again.flip(0), reference, atol=1e-6)
    # the hand-expanded prompts are the processor's own tokens
    _, _, by_processor = plain.prepare_batch(batch)
    _, _, by_hand = cached.prepare_batch(batch)
    for key in ("input_ids", "attention_mask", "mm_token_type_ids", "image_grid_thw"):
        assert torch.equal(by_processor[key], by_hand[key]), key


def test_qwen2vl_changed_pixel_limits_never_reuse_an_older_tower_output(qwen_dir, pictures):
    batch = items(pictures)[:3]
    cached = load_embedder(str(qwen_dir), family="vlm2vec", **TINY)
    cached.encode(batch, 3)
    bigger = {"min_pixels": 4 * TINY_PIXELS, "max_pixels": 4 * TINY_PIXELS}
    reference = load_embedder(str(qwen_dir), family="vlm2vec", vision_cache_mb=0, **bigger).encode(batch, 3)
    cached.size = load_embedder(str(qwen_dir), family="vlm2vec", **bigger).size  # the same model, other limits
    assert torch.allclose(cached.encode(batch, 3), reference, atol=1e-6)


def test_qwen2vl_picture_evicted_before_its_batch_runs(qwen_dir, pictures):
    batch = items(pictures)
    reference = load_embedder(str(qwen_dir), family="vlm2vec", vision_cache_mb=0, **TINY).encode(batch, 3)
    cached = load_embedder(str(qwen_dir), family="vlm2vec", **TINY)
    first, second = cached.prepare_batch(batch[:3]), cached.prepare_batch(batch[3:])  # second counts on first's a
    out = [cached.forward_batch(first)]
    cached.vision_cache.clear()
    out.append(cached.forward_batch(second))  # its pictures are gone: prepared again, in full
    assert torch.allclose(torch.cat(out), reference, atol=1e-6)


@pytest.mark.parametrize("protocol", ["official", "fixed"])
def test_virtue_processes_each_picture_once_while_it_keeps_sam_embeddings(tmp_path, pictures, monkeypatch, protocol):
    from baselines.tiny.qwen2vl import write_tiny_virtue

    ckpt = write_tiny_virtue(tmp_path / "virtue", seed=0)
    batch = [it for it in items(pictures) if it.image is not None][:3]  # a, a (another question), b
    options = {"protocol": protocol, **TINY}
    reference = load_embedder(str(ckpt), family="virtue", vision_cache_mb=0, sam_cache_mb=0, **options).encode(batch, 3)
    cached = load_embedder(str(ckpt), family="virtue", **options)
    tower = count_calls(monkeypatch, cached, "tower")
    decodes = count_calls(monkeypatch, qwen2vl_module, "load_image")
    assert torch.equal(cached.encode(batch, 3), reference)
    assert len(decodes) == 2 and len(tower) == 1  # pictures a and b: processed once, through the tower once
    assert torch.equal(cached.encode(batch, 3), reference)  # both cached: nothing decoded or processed
    assert len(decodes) == 2 and len(tower) == 1
    # SAM's embeddings not kept: SAM needs every image's pixels, the tower still runs once per picture
    no_sam = load_embedder(str(ckpt), family="virtue", sam_cache_mb=0, **options)
    tower = count_calls(monkeypatch, no_sam, "tower")
    assert torch.equal(no_sam.encode(batch, 3), reference) and len(decodes) == 5 and len(tower) == 1


def test_clip_cached_image_features_give_the_same_embeddings(tmp_path, pictures, monkeypatch):
    from baselines import clip as clip_module

    model = ensure_tiny_models(tmp_path)["tiny-clip"]
    batch = items(pictures)
    reference = load_embedder(str(model), family="clip", image_cache_mb=0).encode(batch, len(batch))
    cached = load_embedder(str(model), family="clip")
    decodes = count_calls(monkeypatch, clip_module, "prepare")
    tower = count_calls(monkeypatch, cached, "_image_features")
    # the tower sees 3 images instead of 6: the same to float rounding (BLAS blocks by batch size)
    assert torch.allclose(cached.encode(batch, len(batch)), reference, atol=1e-6)
    assert len(decodes) == 3 and len(tower) == 1  # pictures a (twice under two paths), b, c
    again = cached.encode(batch, 2)
    assert len(decodes) == 3 and len(tower) == 1
    assert torch.allclose(again, reference, atol=1e-6)


def test_worker_count_is_zero_on_a_cpu_and_sized_to_the_cores_elsewhere(monkeypatch):
    from evaluators.models import preprocess

    assert preprocess.worker_count("auto", "cpu") == 0 and preprocess.worker_count(None, "cpu") == 0
    assert preprocess.worker_count(3, "cpu") == 3 and preprocess.worker_count("0", "cuda") == 0
    monkeypatch.setattr(preprocess, "available_cores", lambda: 2)
    assert preprocess.worker_count("auto", "cuda:0") == 1
    monkeypatch.setattr(preprocess, "available_cores", lambda: 64)
    assert preprocess.worker_count("auto", "cuda") == preprocess.MAX_WORKERS
    with pytest.raises(ValueError):
        preprocess.worker_count(-1, "cpu")


@pytest.mark.slow  # spawns worker processes (each imports torch and transformers)
def test_preprocessing_workers_give_the_same_inputs_and_embeddings(qwen_dir, tmp_path, pictures):
    batch = items(pictures)
    clip_dir = str(ensure_tiny_models(tmp_path)["tiny-clip"])
    for directory, family in ((str(qwen_dir), "vlm2vec"), (clip_dir, "clip")):
        options = TINY if family == "vlm2vec" else {}
        inline = load_embedder(directory, family=family, preprocess_workers=0, **options)
        pooled = load_embedder(directory, family=family, preprocess_workers=2, **options)
        try:
            assert pooled.preprocess_workers == 2
            prepared_inline, prepared_pooled = inline.prepare_batch(batch), pooled.prepare_batch(batch)
            if family == "vlm2vec":
                assert torch.equal(prepared_inline[2]["pixel_values"], prepared_pooled[2]["pixel_values"])
            else:
                assert torch.equal(prepared_inline.pixels, prepared_pooled.pixels)
            assert torch.allclose(pooled.forward_batch(prepared_pooled), inline.forward_batch(prepared_inline), atol=1e-6)
        finally:
            pooled.workers.close()
