"""VIRTUE's official protocol reproduces sony/virtue's own embeddings (golden data, tests/parity/README.md).

The committed tiny checkpoint goes through the project's real path (`load_embedder(..., family="virtue")`,
`Item`, `official_query_text`, `encode`); every case must lie within TOLERANCE (max abs difference per
embedding component) of the official code's later-call output. Switching one quirk of the official
protocol off, or the whole `fixed` protocol on, must break that: the tests below show each quirk counts.
"""

from __future__ import annotations

import pytest
import torch

from evaluators.models.protocol import Item
from evaluators.models.qwen2vl import first_call_positions
from evaluators.tasks.scar import official_query_text
from tests.parity import cases
from tests.parity.support import (DATA, TOLERANCE, fixed_branch, image_path, load_golden, max_abs_diff, protocol_fixtures,
                                  resized_image_digests, torchvision_image_processor)

CKPT = DATA / "virtue" / "ckpt"


def golden() -> dict:
    return load_golden("virtue", "VIRTUE_ITEMS")


def to_item(spec: dict) -> Item:
    image = image_path(spec["image"]) if spec.get("image") else None
    if spec["kind"] == "scar":
        x, y, w, h = spec["bbox_xywh"]
        return Item(text=official_query_text(spec["text"], spec["bbox_xywh"]), image=image, box_xyxy=(x, y, x + w, y + h))
    if spec["kind"] == "point":
        return Item(text=spec["text"], image=image, point_xy=tuple(spec["point_xy"]))
    return Item(text=spec["text"], image=image)


def diff_to_official(embedder, case: str) -> float:
    items = items_of(case)
    got = embedder.encode(items, batch_size=len(items))  # one forward, as one official batch
    return max_abs_diff(got, golden()["cases"][case][golden()["reference"]])


official, fixed = protocol_fixtures(CKPT, "virtue")


def test_golden_data_is_from_the_pinned_official_code():
    data = golden()
    assert data["official"]["repo"] == "sony/virtue"
    assert data["official"]["commit"] == "36d8a8b9efcc8027f2011c01d3cc17ab851c981c"
    assert data["reference"] == "later" and data["tolerance"] == TOLERANCE
    assert set(data["cases"]) == set(cases.VIRTUE_CASES)


@pytest.mark.parametrize("case", list(cases.VIRTUE_CASES))
def test_official_protocol_reproduces_the_official_code(official, case):
    diff = diff_to_official(official, case)
    assert diff <= TOLERANCE, f"VIRTUE case {case}: max|d| {diff:.2e} > {TOLERANCE:g} against the official code"


@pytest.mark.parametrize("case", ["box", "point", "none"])
def test_fixed_protocol_does_not(fixed, case):
    assert diff_to_official(fixed, case) > TOLERANCE


def test_text_only_candidates_are_the_same_under_both_protocols(fixed):
    assert diff_to_official(fixed, "text") <= TOLERANCE


# ---- one quirk off at a time (the rest of the official protocol kept) -----------------------------

def first_call_position_ids(embedder, monkeypatch):
    """The official FIRST forward call's positions (rope_deltas not yet cached) instead of the later
    calls': segmentation slots at 0, real tokens `cumsum(text mask) - 1` (padding 1). Image rows only."""
    slots = (embedder.stream.size // 64) ** 2  # the connector's tokens per image

    def hook(module, args, kwargs):
        mask = kwargs["attention_mask"]
        positions = torch.zeros(3, *mask.shape, dtype=torch.long, device=mask.device)
        positions[:, :, slots:] = first_call_positions(mask[:, slots:])
        kwargs["position_ids"] = positions
        return args, kwargs

    return embedder.model.model.language_model.register_forward_pre_hook(hook, with_kwargs=True).remove


def sam_normalised_once(embedder, monkeypatch):
    """SAM sees the [0, 1] image normalised once (the fixed branch of `sam_pixels`). The patch changes
    SAM's input behind its image-embedding cache's key, so that cache is off while it holds."""
    from evaluators.models.vision_cache import FeatureCache

    fixed_branch(embedder, monkeypatch, "sam_pixels")
    monkeypatch.setattr(embedder, "sam_cache", FeatureCache(0))
    return lambda: None


def prompts_scaled_to_sam(embedder, monkeypatch):
    """Boxes scaled to SAM's frame, box and point used together (the fixed branch of `build_prompt`)."""
    import evaluators.models.virtue as virtue

    original = virtue.build_prompt
    monkeypatch.setattr(virtue, "build_prompt", lambda item, size, sam_size, protocol, *rest:
                        original(item, size, sam_size, "fixed", *rest))
    return lambda: None


@pytest.mark.parametrize("quirk, case", [  # position ids: test_first_call_positions_give_the_official_first_call
    (sam_normalised_once, "none"),
    (prompts_scaled_to_sam, "box"),
])
def test_switching_one_quirk_off_breaks_parity(official, monkeypatch, quirk, case):
    undo = quirk(official, monkeypatch)
    try:
        diff = diff_to_official(official, case)
    finally:
        undo()
    assert diff > TOLERANCE, f"{quirk.__name__} on {case}: still within {TOLERANCE:g} ({diff:.2e})"


@pytest.mark.parametrize("case", ["box", "query_batch"])
def test_first_call_positions_give_the_official_first_call(official, monkeypatch, case):
    """Cross-check of what the later-call choice leaves out: with the first call's position ids, the
    project reproduces the official first call instead (and then no longer the later calls)."""
    undo = first_call_position_ids(official, monkeypatch)
    try:
        items = items_of(case)
        got = official.encode(items, batch_size=len(items))
    finally:
        undo()
    assert max_abs_diff(got, golden()["cases"][case]["first"]) <= TOLERANCE
    assert max_abs_diff(got, golden()["cases"][case]["later"]) > TOLERANCE


def items_of(case: str) -> list[Item]:
    return [to_item(cases.VIRTUE_ITEMS[n]) for n in cases.VIRTUE_CASES[case]]


@pytest.mark.parametrize("case", ["box", "point", "query_batch"])
def test_official_resizing_gives_the_official_pixels(official, case):
    """PIL resizing: the Qwen2-VL processor's resized images are the official ones, pixel for pixel.
    (Checked on pixels: with these tiny weights its effect on an embedding is ~1e-5, under TOLERANCE.)"""
    assert resized_image_digests(official, items_of(case)) == golden()["cases"][case]["images"]


def test_torchvision_resizing_does_not(official, monkeypatch):
    monkeypatch.setattr(official.processor, "image_processor", torchvision_image_processor(CKPT))
    digests = resized_image_digests(official, items_of("query_batch"))
    monkeypatch.undo()
    expected = golden()["cases"]["query_batch"]["images"]
    assert len(digests) == len(expected) and all(a != b for a, b in zip(digests, expected))


def test_a_row_depends_on_its_batch_as_in_the_official_code(official):
    """Official later-call positions depend on the batch's padding: the shortest query of the batch,
    encoded alone, is not its batch row (this is why the runner encodes the official batches)."""
    names = cases.VIRTUE_CASES["query_batch"]
    alone = official.encode([to_item(cases.VIRTUE_ITEMS[names[0]])], batch_size=1)
    in_batch = torch.tensor(golden()["cases"]["query_batch"]["later"][0])
    assert float((alone[0] - in_batch).abs().max()) > TOLERANCE
