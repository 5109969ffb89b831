"""Results never overwrite each other: run folders per model version and settings, the overwrite guard,
per-query predictions, and the model's latest-run mirror."""

from __future__ import annotations

import json
import shutil

import pytest

from baselines.tiny import ensure_tiny_models
from evaluators.cli import run_eval
from scar.core.errors import ScarError
from tests.eval_fixtures import eval_args, scar_fixture


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("layout")
    models = ensure_tiny_models(root / "models")
    scar_fixture(root / "scar")
    a, b = root / "a" / "tiny-clip", root / "b" / "tiny-clip"  # two different models, one folder name
    shutil.copytree(models["tiny-clip"], a)
    shutil.copytree(models["tiny-siglip"], b)
    return root, a, b


def _eval(root, model, family, out, *extra):
    argv = ["--model", str(model), "--family", family, "--tasks", "RefCOCO+", "--scar-root", str(root / "scar"),
            "--out", str(out), "--device", "cpu", "--no-progress", *extra]
    return run_eval(eval_args(argv))


def _runs(out):
    return sorted(p.parent.name for p in (out / "tiny-clip").glob("*/RefCOCO+.json"))


def test_same_name_limit_and_protocol_runs_keep_their_own_folders(setup, tmp_path):
    root, a, b = setup
    out = tmp_path / "results"
    assert _eval(root, a, "clip", out) == 0
    full = json.loads((out / "tiny-clip" / _runs(out)[0] / "RefCOCO+.json").read_text())
    assert _eval(root, b, "siglip", out) == 0
    assert _eval(root, a, "clip", out, "--limit", "2") == 0
    assert _eval(root, a, "clip", out, "--protocol", "fixed") == 0
    runs = _runs(out)
    assert len(runs) == 4 and len({r.split("-")[1] for r in runs}) == 2  # two content hashes
    assert sum(r.endswith("-limit2") for r in runs) == 1 and sum(r.endswith("-fixed") for r in runs) == 1
    again = json.loads((out / "tiny-clip" / full["run_id"] / "RefCOCO+.json").read_text())
    assert again == full  # the full run of the first model is intact
    latest = json.loads((out / "tiny-clip" / "RefCOCO+.json").read_text())
    assert latest["latest_of"].endswith("-fixed")  # the mirror follows the latest full run


def test_predictions_per_query(setup, tmp_path):
    root, a, _ = setup
    out = tmp_path / "results"
    assert _eval(root, a, "clip", out) == 0
    (run,) = _runs(out)
    rows = [json.loads(line) for line in (out / "tiny-clip" / run / "RefCOCO+.predictions.jsonl").read_text().splitlines()]
    result = json.loads((out / "tiny-clip" / run / "RefCOCO+.json").read_text())
    assert len(rows) == result["num_pred"] == 4
    assert all(sorted(r["ranking"]) == list(range(10)) and len(r["scores"]) == 10 for r in rows)
    assert all(r["scores"] == sorted(r["scores"], reverse=True) for r in rows)
    assert sum(r["gold_rank"] == 1 for r in rows) == result["num_correct"]
    assert rows[0]["query"] == "eval-00000:0" and rows[0]["gold"] == 0


def test_another_run_in_the_same_folder_is_refused_without_overwrite(setup, tmp_path):
    root, a, _ = setup
    out = tmp_path / "results"
    assert _eval(root, a, "clip", out) == 0
    assert _eval(root, a, "clip", out) == 0  # the same run again is fine
    with pytest.raises(ScarError, match="another model fingerprint; pass --overwrite"):
        _eval(root, a, "clip", out, "--model-option", "fusion=mean")
    assert _eval(root, a, "clip", out, "--model-option", "fusion=mean", "--overwrite") == 0
