"""MMEB without the network: the offline sample runs end to end with a tiny model, and a run that needs the
hub and cannot have it fails at once, in one line naming the remedy."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from baselines.tiny import ensure_tiny_models
from evaluators.leaderboard import build_leaderboard
from evaluators.models import hub
from evaluators.task_selection import load_tasks, preflight, select_tasks
from evaluators.tasks.catalog import MMEB_SAMPLE_TASKS
from evaluators.tasks.mmeb_sample import MARKER, ensure_sample
from scar.cli import main
from scar.core.errors import ScarError
from tests.eval_fixtures import mmeb_fixture


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """An empty Hugging Face cache and a hub that never answers; any attempt to reach it fails the test."""
    import datasets

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_CACHE", raising=False)
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=hub.PROBE_SECONDS: False)
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("went to the hub"))
    monkeypatch.setenv("SCAR_MMEB_SAMPLE", str(tmp_path / "sample"))


def _one_line(error: BaseException) -> bool:
    return "\n" not in str(error)


@pytest.mark.parametrize("offline_env", [False, True])
def test_a_hub_task_without_network_fails_fast_in_one_line(no_network, monkeypatch, offline_env):
    if offline_env:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    with pytest.raises(ScarError) as err:
        load_tasks(select_tasks("N24News"), progress=False)
    assert time.perf_counter() - started < 5
    assert _one_line(err.value) and "--mmeb-root DIR" in str(err.value) and "--tasks mmeb-sample" in str(err.value)
    with pytest.raises(ScarError, match="--mmeb-root DIR"):
        preflight("scar,mmeb", Path("."))  # what `scar eval` can check before loading any model


def test_a_partial_copy_names_what_is_missing_at_once(tmp_path):
    mmeb_fixture(tmp_path)  # N24News and MSCOCO_t2i only
    with pytest.raises(ScarError) as err:
        load_tasks(select_tasks("mmeb"), mmeb_root=tmp_path, progress=False)
    text = str(err.value)
    assert _one_line(err.value) and text.startswith("MMEB task ImageNet-1K: no data; expected")
    assert "nor for 33 more of the 36 MMEB tasks asked for" in text and "--tasks mmeb-sample" in text


def test_the_sample_is_written_once_and_deterministic(tmp_path):
    a, b = ensure_sample(tmp_path / "a"), ensure_sample(tmp_path / "b")
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    stamp = (a / MARKER).stat().st_mtime_ns
    assert ensure_sample(tmp_path / "a") == a and (a / MARKER).stat().st_mtime_ns == stamp  # reused as is
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "stray.txt").write_text("x")
    with pytest.raises(ScarError, match="not an MMEB sample"):
        ensure_sample(tmp_path / "c")


def test_the_sample_runs_offline_with_a_tiny_model(no_network, tmp_path, capsys):
    clip = ensure_tiny_models(tmp_path / "models")["tiny-clip"]
    out = tmp_path / "results"
    argv = ["eval", "--model", str(clip), "--family", "clip", "--tasks", "mmeb-sample", "--device", "cpu",
            "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    records = [json.loads(p.read_text()) for p in sorted(out.glob("tiny-clip/*/*.json")) if p.name != "summary.json"]
    assert sorted(r["task"] for r in records) == sorted(t.name for t in MMEB_SAMPLE_TASKS)
    for record in records:
        assert record["benchmark"] == "mmeb" and record["num_pred"] == 8
        assert record["data_provenance"]["kind"] == "synthetic"
    build_leaderboard([out], tmp_path / "board")
    mmeb_md = (tmp_path / "board" / "mmeb.md").read_text()
    assert "synthetic data[^" in mmeb_md and "mmeb-sample/N24News" in mmeb_md.split("## Not in any average")[1]
    assert "**" not in mmeb_md.split("## Not in any average")[1]


def test_a_cached_copy_is_read_offline_without_retries(no_network, monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "")  # restored after the test, though the check sets it
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", constants.HF_HUB_OFFLINE)
    (tmp_path / "hf" / "datasets" / "TIGER-Lab___mmeb-eval").mkdir(parents=True)
    hub.require_hub_dataset("TIGER-Lab/MMEB-eval", "--mmeb-root DIR")  # no error: datasets will read its cache
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["HF_DATASETS_OFFLINE"] == "1"
