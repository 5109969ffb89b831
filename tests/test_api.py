"""The documented Python API: evaluate() returns the results; a user's own embedder registers by name."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import scar
from evaluators.models.protocol import Item
from scar.core.errors import ScarError
from tests.eval_fixtures import mmeb_fixture, scar_fixture


class BagOfHashes:
    """A user's embedder, written against evaluators/models/protocol.py only: no `info`, no package edits."""

    name = "bag-of-hashes"

    def __init__(self, dim: int = 32, device: str = "cpu", dtype: str = "float32") -> None:
        self.dim = dim

    def encode(self, items: list[Item], batch_size: int) -> torch.Tensor:
        rows = []
        for item in items:
            v = np.zeros(self.dim)
            for word in (item.text or "").split():
                v[sum(map(ord, word)) % self.dim] += 1
            v[0] += 1e-3
            rows.append(v / np.linalg.norm(v))
        return torch.tensor(np.stack(rows), dtype=torch.float32)


def test_evaluate_an_embedder_object_returns_and_writes_results(tmp_path):
    scar_fixture(tmp_path / "scar")
    mmeb_fixture(tmp_path / "mmeb")
    out = scar.evaluate(BagOfHashes(), tasks=["RefCOCO+", "N24News"], scar_root=tmp_path / "scar",
                        mmeb_root=tmp_path / "mmeb", out=tmp_path / "results", progress=False, device="cpu")
    assert set(out.records) == {"RefCOCO+", "N24News"}
    record = out.records["RefCOCO+"]
    assert record["model"] == "bag-of-hashes" and record["num_pred"] == 4 and record["protocol"] == "official"
    assert json.loads((out.run_dir / "RefCOCO+.json").read_text()) == record
    assert out.summary["scar"]["tasks"]["RefCOCO+"] == record["precision@1"]


def test_register_a_class_and_evaluate_it_by_name(tmp_path):
    from evaluators.models import registry

    scar.register_embedder("bag-of-hashes", BagOfHashes, family="bag")
    try:
        scar_fixture(tmp_path / "scar")
        out = scar.evaluate("bag-of-hashes+boxtext", tasks="RefCOCO+", scar_root=tmp_path / "scar",
                            out=tmp_path / "results", progress=False, device="cpu", dim=16)
        record = out.records["RefCOCO+"]
        assert record["model"] == "bag-of-hashes+boxtext" and record["family"] == "bag"
        assert "bag-of-hashes" in registry.models()
    finally:
        registry.unregister("bag-of-hashes", family="bag")


def test_not_an_embedder_is_one_line(tmp_path):
    scar_fixture(tmp_path / "scar")
    with pytest.raises(ScarError, match="has no encode"):
        scar.evaluate(object(), tasks="RefCOCO+", scar_root=tmp_path / "scar", out=tmp_path / "r", progress=False,
                      device="cpu")
