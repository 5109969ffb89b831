"""`scar eval --robustness` end to end on a small demo build: the clean level is plain `scar eval`
pick for pick, every level is scored and written with its prompts, a model that cannot take a kind is
skipped with the reason, a constant model's ties are flagged, and the leaderboard draws the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from evaluators.models import registry
from evaluators.models.protocol import EmbedderInfo
from evaluators.robustness.suite import DEFAULT_SUITE, REFERENCE
from scar.cli import main


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from baselines.tiny import ensure_tiny_models

    root = tmp_path_factory.mktemp("robust")
    assert main(["build", "--source", "demo", "--out", str(root / "scar"), "--limit", "8", "--no-progress"]) == 0
    return {"root": root, "scar": root / "scar", "clip": ensure_tiny_models(root / "models")["tiny-clip"]}


def _eval(demo: dict[str, Path], model: str, out: Path, *extra: str, family: str | None = "clip") -> int:
    fam = ["--family", family] if family else []
    return main(["eval", "--model", model, *fam, "--tasks", "Demo", "--scar-root", str(demo["scar"]), "--out", str(out),
                 "--no-progress", *extra])


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _suite_dir(out: Path) -> Path:
    found = sorted(out.glob("*/*/robustness/default-seed0"))
    assert len(found) == 1, found
    return found[0]


def test_clean_level_is_plain_scar_eval_pick_for_pick_and_every_level_is_written(demo, tmp_path: Path) -> None:
    model = f"{demo['clip']}+crop"
    assert _eval(demo, model, tmp_path / "plain") == 0
    assert _eval(demo, model, tmp_path / "robust", "--robustness") == 0
    plain = _jsonl(next((tmp_path / "plain").glob("*/*/Demo.predictions.jsonl")))
    folder = _suite_dir(tmp_path / "robust")
    rows = _jsonl(folder / "Demo.predictions.jsonl")
    clean = [r for r in rows if r["level"] == REFERENCE]
    assert [r["query"] for r in clean] == [p["query"] for p in plain]
    assert [r["ranking"] for r in clean] == [p["ranking"] for p in plain]
    assert [r["gold_rank"] for r in clean] == [p["gold_rank"] for p in plain]
    # the run's own result files are plain scar eval's
    same = next((tmp_path / "robust").glob("*/*/Demo.predictions.jsonl"))
    assert [p["ranking"] for p in _jsonl(same)] == [p["ranking"] for p in plain]

    record = json.loads((folder / "Demo.json").read_text())
    assert record["schema"] == "scar-robustness/1" and record["reference"] == REFERENCE
    assert [r["level"] for r in record["levels"]] == [lvl.id for lvl in DEFAULT_SUITE]
    n = len(plain)
    for level in record["levels"]:
        mine = [r for r in rows if r["level"] == level["level"]]
        assert len(mine) == n  # one line per query, a skipped prompt included with its reason
        scored = [r for r in mine if "gold_rank" in r]
        assert level["num_pred"] == len(scored) and level["num_pred"] + level["num_skipped"] == n
        assert level["precision@1"] == pytest.approx(sum(r["gold_rank"] == 1 for r in scored) / max(1, len(scored)))
        assert all(r["prompt"]["kind"] == level["kind"] for r in mine)
    summary = json.loads((folder / "summary.json").read_text())
    reuse = summary["reuse"]
    assert reuse["distinct_candidate_items"] <= reuse["cached_items"]  # no candidate text encoded twice
    assert reuse["text_cached"] == reuse["distinct_candidate_items"] and reuse["text_encoded"] == 0
    assert reuse["encoded_items"] <= reuse["distinct_query_items"]
    # a crop is a new picture per prompt (the tower runs per prompt), but each file is decoded once
    assert reuse["tower_reused"] == 0 and reuse["tower_computed"] == reuse["encoded_items"]
    assert reuse["decoded"] <= reuse["pictures"] and reuse["decodes_reused"] >= reuse["encoded_items"] - reuse["pictures"]
    assert summary["cost"]["levels"] == len(DEFAULT_SUITE) and "definition" in summary
    assert summary["robustness"] == pytest.approx(record["robustness"])

    boards = tmp_path / "boards"
    assert main(["leaderboard", "--results", str(tmp_path / "robust"), "--out", str(boards)]) == 0
    table = (boards / "robustness.md").read_text()
    assert "tiny-clip+crop" in table and "box: IoU 0.5-0.75" in table
    assert (boards / "robustness.png").read_bytes()[:4] == b"\x89PNG"


def test_a_region_blind_model_is_skipped_with_the_reason(demo, tmp_path: Path, capsys) -> None:
    assert _eval(demo, str(demo["clip"]), tmp_path, "--robustness") == 0
    summary = json.loads((_suite_dir(tmp_path) / "summary.json").read_text())
    assert summary["levels"] == [] and summary["robustness"] is None
    assert all(not v["takes"] for v in summary["kinds"].values())
    assert "takes no box prompt" in summary["kinds"]["box"]["how"]
    assert "skipped kinds: box, point, mask, none" in capsys.readouterr().out


class ConstantEmbedder:
    """Garbage: every item the same vector. Takes every prompt kind natively (it says so)."""

    native_regions = ("box", "point", "mask")

    def __init__(self, device: str = "cpu", dtype: str = "float32") -> None:
        self.name = "constant"
        self.info = EmbedderInfo(name="constant", model_id="tests/constant", revision="v1", family="test",
                                 device=device, dtype=dtype)

    def encode(self, items, batch_size: int) -> torch.Tensor:
        return torch.nn.functional.normalize(torch.ones(len(items), 4), dim=-1)


def test_a_constant_model_ties_everywhere_and_is_flagged(demo, tmp_path: Path, capsys) -> None:
    from evaluators.api import register_embedder

    register_embedder("constant", ConstantEmbedder, family="test", revision="v1", native_regions=("box", "point", "mask"))
    try:
        assert _eval(demo, "constant", tmp_path, "--robustness", family=None) == 0
    finally:
        registry.unregister("constant")
    folder = _suite_dir(tmp_path)
    record = json.loads((folder / "Demo.json").read_text())
    assert all(r["ties_flagged"] and r["precision@1"] == 1.0 for r in record["levels"])
    assert all(r["expected_precision@1"] == pytest.approx(0.1) for r in record["levels"])
    assert all(r["how"].startswith("native") for r in record["levels"] if r["kind"] != "none")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["ties_flagged"] is True and summary["robustness"] == pytest.approx(100.0)
    assert "ties" in capsys.readouterr().err


def test_robustness_with_another_prompt_is_refused(demo, tmp_path: Path, capsys) -> None:
    assert _eval(demo, f"{demo['clip']}+crop", tmp_path, "--robustness", "--scar-prompt", "point") != 0
    assert "drop --scar-prompt" in capsys.readouterr().err


def test_the_readme_picture_regenerates_from_a_demo_build(demo, tmp_path: Path) -> None:
    from evaluators.robustness.figure import draw_figure, pick_query

    image, region = pick_query(demo["scar"])
    out = draw_figure(image, region, tmp_path / "robustness.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
    again = draw_figure(image, region, tmp_path / "again.png")
    assert again.read_bytes() == out.read_bytes()  # same seed, same picture


def test_browse_draws_the_perturbed_prompts_of_a_run(demo, tmp_path: Path, capsys) -> None:
    assert _eval(demo, f"{demo['clip']}+boxtext", tmp_path / "res", "--robustness") == 0
    folder = _suite_dir(tmp_path / "res")
    site = tmp_path / "site"
    assert main(["browse", str(demo["scar"]), "--out", str(site), "--robustness", str(folder), "--no-progress"]) == 0
    assert "perturbed prompts from" in capsys.readouterr().err
    data = "".join(p.read_text() for p in sorted((site / "data").glob("chunk-*.js")))
    assert '"rb":' in data and '"l":"box:iou50"' in data and '"l":"mask:dilate60"' in data
    bad = tmp_path / "bad.predictions.jsonl"
    bad.write_text('{"query": "x", "level": "box:clean", "prompt": {"box": [1, 2]}}\n')
    assert main(["browse", str(demo["scar"]), "--out", str(tmp_path / "site2"), "--robustness", str(bad),
                 "--no-progress"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0] and "line 1" in err[0]


def _embeddings(out: Path) -> dict[str, bytes]:
    """Every embedding a run's cache holds, by cache key, as raw float32 bytes."""
    from evaluators.cache import EmbeddingCache

    (folder,) = [p for p in (out / ".embed-cache").iterdir() if p.is_dir()]
    cache = EmbeddingCache(folder.parent, folder.name)
    keys = cache.keys()
    return dict(zip(keys, (row.tobytes() for row in cache.get(keys))))


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["official", "fixed"])
def test_tiny_virtue_takes_box_and_point_through_sam_and_reuses_each_picture_exactly(demo, tmp_path: Path,
                                                                                    protocol: str) -> None:
    from baselines.tiny.qwen2vl import write_tiny_virtue

    model = str(write_tiny_virtue(tmp_path / "virtue"))
    common = ("--limit", "2", "--protocol", protocol)
    uncached = ("--model-option", "sam_cache_mb=0", "--model-option", "vision_cache_mb=0")
    assert _eval(demo, model, tmp_path / "plain", *common, family="virtue") == 0
    assert _eval(demo, model, tmp_path / "robust", *common, "--robustness", family="virtue") == 0
    assert _eval(demo, model, tmp_path / "uncached", *common, *uncached, "--robustness", family="virtue") == 0
    plain = _jsonl(next((tmp_path / "plain").glob("*/*/Demo.predictions.jsonl")))
    folder = _suite_dir(tmp_path / "robust")
    rows = _jsonl(folder / "Demo.predictions.jsonl")
    clean = [r for r in rows if r["level"] == REFERENCE]
    assert [r["ranking"] for r in clean] == [p["ranking"] for p in plain]
    # every level's every embedding is the one computed with no picture reused, bit for bit
    cached, reference = _embeddings(tmp_path / "robust"), _embeddings(tmp_path / "uncached")
    assert cached.keys() == reference.keys() and cached == reference
    assert rows == _jsonl(_suite_dir(tmp_path / "uncached") / "Demo.predictions.jsonl")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["kinds"]["box"]["how"] == summary["kinds"]["point"]["how"] == "native prompt (SAM)"
    if protocol == "official":
        assert "does not pass masks to SAM" in summary["kinds"]["mask"]["how"]
    reuse = summary["reuse"]
    # the clean run saw every picture: across all levels, the Qwen2-VL tower and SAM's image encoder
    # never ran again, and no picture was decoded (nor processed) again
    assert reuse["tower_reused"] > 0 and reuse["tower_computed"] == 0
    assert reuse["sam_reused"] > 0 and reuse["sam_computed"] == 0
    assert reuse["decoded"] == 0 and reuse["decodes_reused"] == 0
    off = json.loads((_suite_dir(tmp_path / "uncached") / "summary.json").read_text())["reuse"]
    assert "sam_reused" not in off or off["sam_reused"] == 0
