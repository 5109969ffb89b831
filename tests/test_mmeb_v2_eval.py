"""`scar eval --tasks mmeb-v2` end to end, offline, on a 78-task fixture in the official layouts (tiny CLIP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baselines.tiny import ensure_tiny_models
from evaluators.tasks.mmeb_v2.fixture import write_fixture


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from scar.cli import main

    base = tmp_path_factory.mktemp("mmeb2-eval")
    models = ensure_tiny_models(base / "models")
    data = write_fixture(base / "data", tasks="all", n=2)
    code = main(["eval", "--model", str(models["tiny-clip"]), "--family", "clip", "--tasks", "mmeb-v2",
                 "--mmeb-v2-root", str(data), "--out", str(base / "out"), "--device", "cpu", "--no-progress"])
    assert code in (0, None)
    return next((base / "out" / "tiny-clip").glob("local-*"))


def test_summary_has_every_group(run: Path) -> None:
    block = json.loads((run / "summary.json").read_text())["mmeb-v2"]
    assert block["complete"] and len(block["tasks"]) == 78 and block["overall"] is not None
    assert [block["groups"][g]["found"] for g in ("image", "video", "visdoc")] == [36, 18, 24]
    assert block["groups"]["visdoc"]["metric"] == "ndcg_linear@5"
    values = [block["tasks"][n] for n in block["tasks"]]
    assert block["overall"] == pytest.approx(sum(values) / 78)


def test_result_record_and_predictions(run: Path) -> None:
    record = json.loads((run / "mmeb-v2_ViDoRe_arxivqa.json").read_text())
    assert record["main_metric"] == "ndcg_linear@5" and record["main_score"] == record["ndcg_linear@5"]
    assert record["eval_type"] == "global" and record["data_provenance"]["kind"] == "synthetic"
    for key in ("hit@1", "ndcg_linear@10", "ndcg_exponential@5", "precision@5", "recall@10", "f1@1", "map@5", "mrr@10"):
        assert key in record
    lines = (run / "mmeb-v2_ViDoRe_arxivqa.predictions.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert len(lines) == 2 and first["label"] and len(first["prediction"]) == 5  # a pool of 5 pages (n + 3)
    video = json.loads((run / "mmeb-v2_Breakfast.json").read_text())
    assert video["main_metric"] == "hit@1" and video["candidate_pool"] == 10


def test_leaderboard_shows_the_fixture_run_apart_and_averages_as_the_official_report(run: Path, tmp_path: Path) -> None:
    from evaluators.leaderboard import build_leaderboard

    build_leaderboard([run.parent.parent], tmp_path, include_reported=True)
    main, synthetic = (tmp_path / "mmeb_v2.md").read_text(encoding="utf-8").split("## Synthetic fixture: not comparable")
    assert "tiny-clip" not in main and "| VLM2Vec-V2.0-Qwen2VL-2B | reported[^" in main  # never beside published rows
    line = next(l for l in synthetic.splitlines() if l.startswith("| tiny-clip |"))
    assert "measured, synthetic data[^" in line and "partial" not in line and "**" not in line and "–" not in line
    assert "MMEB-V2 fixture (`evaluators/tasks/mmeb_v2/fixture.py`" in synthetic
    # report_score_v2.py: each group the plain mean of its tasks' headline; the paper's Overall the mean of all 78
    records = [json.loads(p.read_text()) for p in run.glob("mmeb-v2_*.json")]
    by_group: dict[str, list[float]] = {}
    for r in records:
        by_group.setdefault(r["meta_task"].split("/")[0], []).append(r["main_score"])
    expected = [100 * sum(v) / len(v) for v in (by_group["image"], by_group["video"], by_group["visdoc"])]
    overall = 100 * sum(r["main_score"] for r in records) / len(records)
    cells = [c.strip() for c in line.strip("| ").split(" | ")]
    assert len(records) == 78 and [cells[6], cells[11], cells[16]] == [f"{v:.1f}" for v in expected]
    assert cells[17] == f"{overall:.1f}"


def test_the_eval_warning_names_the_fixture(run: Path) -> None:
    from evaluators.tasks.provenance import describe

    record = json.loads((run / "mmeb-v2_Breakfast.json").read_text())
    assert describe(record["data_provenance"]) == "synthetic data (the MMEB-V2 fixture), a smoke test only"
