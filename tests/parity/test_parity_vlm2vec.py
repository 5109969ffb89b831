"""VLM2Vec (Qwen2-VL)'s official protocol reproduces TIGER-AI-Lab/VLM2Vec v1's own embeddings.

The committed tiny merged checkpoint goes through `load_embedder(..., family="vlm2vec")`, `Item`,
`encode`; every case must lie within TOLERANCE of BOTH official references (the first batch of a run,
rope_deltas reset, and every later batch). One quirk off, or the `fixed` protocol, must break that.
"""

from __future__ import annotations

import pytest

from baselines.vlm2vec import V1_MAX_PIXELS, V1_MIN_PIXELS
from evaluators.models.protocol import Item
from tests.parity import cases
from tests.parity.support import (DATA, TOLERANCE, fixed_branch, image_path, load_golden, max_abs_diff, protocol_fixtures,
                                  resized_image_digests, torchvision_image_processor)

CKPT = DATA / "vlm2vec" / "ckpt"
IMAGE_CASES = [case for case, names in cases.VLM2VEC_CASES.items()
               if any(cases.VLM2VEC_ITEMS[n].get("image") for n in names)]


def golden() -> dict:
    return load_golden("vlm2vec", "VLM2VEC_ITEMS")


def items_of(case: str) -> list[Item]:
    specs = [cases.VLM2VEC_ITEMS[n] for n in cases.VLM2VEC_CASES[case]]
    return [Item(text=spec["text"], image=image_path(spec["image"]) if spec.get("image") else None) for spec in specs]


def encode(embedder, case: str):
    items = items_of(case)
    return embedder.encode(items, batch_size=len(items))  # one forward, as one official batch


def diffs_to_official(embedder, case: str) -> dict[str, float]:
    got = encode(embedder, case)
    return {ref: max_abs_diff(got, golden()["cases"][case][ref]) for ref in ("first", "later")}


official, fixed = protocol_fixtures(CKPT, "vlm2vec")


def test_golden_data_is_from_the_pinned_official_code():
    data = golden()
    assert data["official"]["repo"] == "TIGER-AI-Lab/VLM2Vec" and data["official"]["commit"].startswith("28fdbdd")
    assert data["tolerance"] == TOLERANCE and set(data["cases"]) == set(cases.VLM2VEC_CASES)
    # the checkpoint's own pixel limits are not v1's hard-coded ones, so the pixel-limit quirk shows
    assert (data["pixels"]["min"], data["pixels"]["max"]) != (V1_MIN_PIXELS, V1_MAX_PIXELS)


@pytest.mark.parametrize("case", list(cases.VLM2VEC_CASES))
def test_official_protocol_reproduces_the_official_code(official, case):
    diffs = diffs_to_official(official, case)
    assert max(diffs.values()) <= TOLERANCE, f"VLM2Vec case {case}: max|d| {diffs} > {TOLERANCE:g}"


@pytest.mark.parametrize("case", IMAGE_CASES)
def test_fixed_protocol_does_not(fixed, case):
    assert min(diffs_to_official(fixed, case).values()) > TOLERANCE


def test_text_only_rows_are_the_same_under_both_protocols(fixed):
    assert max(diffs_to_official(fixed, "text_only").values()) <= TOLERANCE


# ---- one quirk off at a time -----------------------------------------------------------------------

def mrope_position_ids(embedder, monkeypatch):
    """Qwen2-VL's M-RoPE ids (the fixed branch of `position_ids`) instead of the official 1-D ones."""
    fixed_branch(embedder, monkeypatch, "position_ids")


def v1_pixel_limits(embedder, monkeypatch):
    """The limits v1's load_processor passes (and that never reach the eval's processor)."""
    size = dict(embedder.processor.image_processor.size, shortest_edge=V1_MIN_PIXELS, longest_edge=V1_MAX_PIXELS)
    monkeypatch.setattr(embedder, "size", size)


@pytest.mark.parametrize("quirk, case", [
    (mrope_position_ids, "image_text"),
    (mrope_position_ids, "query_batch"),
    (v1_pixel_limits, "image_text"),
])
def test_switching_one_quirk_off_breaks_parity(official, monkeypatch, quirk, case):
    quirk(official, monkeypatch)
    diffs = diffs_to_official(official, case)
    monkeypatch.undo()
    assert min(diffs.values()) > TOLERANCE, f"{quirk.__name__} on {case}: still within {TOLERANCE:g} ({diffs})"


@pytest.mark.parametrize("case", ["image_text", "query_batch", "mixed_batch"])
def test_official_resizing_gives_the_official_pixels(official, case):
    """PIL resizing within the checkpoint's pixel limits: the resized images are the official ones,
    pixel for pixel. (Checked on pixels: with these tiny weights its effect on an embedding is ~1e-6.)"""
    assert resized_image_digests(official, items_of(case)) == golden()["cases"][case]["images"]


def test_torchvision_resizing_does_not(official, monkeypatch):
    monkeypatch.setattr(official.processor, "image_processor", torchvision_image_processor(CKPT))
    digests = resized_image_digests(official, items_of("query_batch"))
    monkeypatch.undo()
    expected = golden()["cases"]["query_batch"]["images"]
    assert len(digests) == len(expected) and all(a != b for a, b in zip(digests, expected))
