"""No network or no GPU: one line with the remedy, in seconds, before any weights are touched."""

from __future__ import annotations

import time

import pytest

from evaluators.models import hub
from evaluators.models.registry import load_embedder
from scar.core.errors import ScarError


def test_unreachable_hub_and_uncached_model_fails_fast(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=hub.PROBE_SECONDS: False)
    started = time.perf_counter()
    with pytest.raises(ScarError, match="hub cannot be reached.*pass --model-path DIR.*HF_HUB_OFFLINE=1") as err:
        load_embedder("virtue-2b")
    assert time.perf_counter() - started < 5 and "\n" not in str(err.value) and "Sony/VIRTUE-2B-SCaR" in str(err.value)


def test_offline_mode_without_a_cached_copy(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ScarError, match="not in the local Hugging Face cache and HF_HUB_OFFLINE is set"):
        load_embedder("clip-vit-l-14")


def test_a_local_directory_never_probes_the_hub(monkeypatch, tmp_path):
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=0: pytest.fail("probed the hub"))
    hub.require_hub_model(str(tmp_path), None)


def test_cuda_without_a_gpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ScarError, match="--device cuda: no CUDA GPU is available here.*use --device cpu"):
        hub.check_device("cuda")
    hub.check_device("cpu")
