"""What the parity tests share: the committed fixtures, their golden data, and the comparison rule."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import pytest
import torch

from tests.parity import cases

DATA = Path(__file__).resolve().parent / "data"
TOLERANCE = cases.TOLERANCE
REGENERATE = "regenerate the golden files (tests/parity/README.md)"


def image_path(name: str) -> str:
    return str(DATA / "images" / f"{name}.png")


@lru_cache(maxsize=None)
def load_golden(model: str, items_key: str | None = None) -> dict:
    """`data/<model>/golden.json`, refused when its recorded inputs are not the committed ones."""
    golden = json.loads((DATA / model / "golden.json").read_text(encoding="utf-8"))
    recorded = golden["inputs"]
    if items_key is not None and recorded["items"] != getattr(cases, items_key):
        pytest.fail(f"{model}: tests/parity/cases.py {items_key} differs from the golden inputs; {REGENERATE}")
    for relative, digest in recorded["images"].items():
        if not (DATA / relative).is_file() or cases.pixel_digest(DATA / relative) != digest:
            pytest.fail(f"{model}: {DATA / relative} is not the image the golden data was made from; {REGENERATE}")
    return golden


def max_abs_diff(got: torch.Tensor, reference: Sequence[Sequence[float]]) -> float:
    expected = torch.tensor(reference, dtype=torch.float32)
    if got.shape != expected.shape:
        return float("inf")
    return float((got.float() - expected).abs().max())


def resized_image_digests(embedder, items) -> list[str]:
    """`cases.qwen_image_digest` of every image the embedder's Qwen2-VL processor makes for `items`
    (the golden files hold the official processor's): equal digests = the very same resized pixels."""
    enc = embedder.process([embedder.prepare(item) for item in items], to_device=False)
    if "pixel_values" not in enc:
        return []
    grids = enc["image_grid_thw"]
    sizes = [int(g.prod()) for g in grids]
    processor = embedder.processor.image_processor
    return [cases.qwen_image_digest(rows.numpy(), grid.numpy(), processor.image_mean, processor.image_std)
            for rows, grid in zip(torch.split(enc["pixel_values"].float(), sizes), grids)]


def torchvision_image_processor(checkpoint: Path):
    """transformers' default Qwen2-VL image processor (torchvision resizing), not the PIL one."""
    from transformers import Qwen2VLImageProcessor

    return Qwen2VLImageProcessor.from_pretrained(str(checkpoint))


def unique_sides(task) -> dict:
    """Item key -> ("qry" | "tgt", item) for every distinct query and candidate of a loaded task, queries first."""
    sides: dict = {}
    for query in task.queries:
        sides.setdefault(query.item.key(), ("qry", query.item))
    for query in task.queries:
        for item in query.candidates:
            sides.setdefault(item.key(), ("tgt", item))
    return sides


def protocol_fixtures(ckpt: Path, family: str):
    """Module fixtures `official` (no protocol given: the default must be official) and `fixed`: the
    committed tiny checkpoint `ckpt` loaded through the registry as `family`."""
    from evaluators.models.registry import load_embedder

    @pytest.fixture(scope="module")
    def official():
        embedder = load_embedder(str(ckpt), family=family)
        assert embedder.info.protocol == "official"
        return embedder

    @pytest.fixture(scope="module")
    def fixed():
        return load_embedder(str(ckpt), family=family, protocol="fixed")

    return official, fixed


def fixed_branch(embedder, monkeypatch, method: str) -> None:
    """One quirk off: the embedder's `method` runs its fixed-protocol branch, everything else stays official."""
    original = getattr(type(embedder), method)

    def patched(self, *args):
        self.protocol = "fixed"
        try:
            return original(self, *args)
        finally:
            self.protocol = "official"

    monkeypatch.setattr(type(embedder), method, patched)
