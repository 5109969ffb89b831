"""`scar report RESULTS_DIR`: the error analysis as Markdown and a PNG, from the per-query predictions."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from scar.cli import main
from tests.test_error_analysis import FAKE


def _write(root: Path, model: str, task: str, benchmark: str, predictions: list[dict]) -> Path:
    correct = sum(p["gold_rank"] == 1 for p in predictions)
    record = {"schema": "scar-result/1", "benchmark": benchmark, "task": task, "model": model, "run_id": "main",
              "precision@1": correct / len(predictions), "num_correct": correct, "num_pred": len(predictions),
              "tie_rule": "official"}
    path = root / model / "main" / f"{task}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    path.with_name(f"{task}.predictions.jsonl").write_text("".join(json.dumps(p) + "\n" for p in predictions))
    return path


def _results(root: Path) -> Path:
    _write(root, "m1", "RefCOCO+", "scar", FAKE)
    _write(root, "m1", "N24News", "mmeb", [{k: v for k, v in p.items() if k != "neg_types"} for p in FAKE])
    latest = root / "m1" / "RefCOCO+.json"  # the latest-run mirror is not a second result
    latest.write_text(json.dumps({**json.loads((root / "m1" / "main" / "RefCOCO+.json").read_text()), "latest_of": "main"}))
    return root


def test_report_writes_markdown_and_png(tmp_path, capsys):
    results = _results(tmp_path / "results")
    assert main(["report", str(results)]) == 0
    out = results / "report"
    assert str(out) in capsys.readouterr().out
    md = (out / "report.md").read_text()
    with Image.open(out / "report.png") as im:
        assert im.format == "PNG" and im.size[0] > 800
    assert md.count("| m1 | `main` | RefCOCO+ |") == 1 + 1 + 2 + 2  # P@1, types, 2 sources, 2 categories
    types_line = next(l for l in md.split("## What beat the gold")[1].splitlines() if l.startswith("| m1"))
    assert types_line == "| m1 | `main` | RefCOCO+ | 4 | 1 (25.0%) | 1 (25.0%) | 2 (50.0%) |"
    dog = next(l for l in md.split("## By category")[1].splitlines() if "| dog |" in l)
    assert dog == "| m1 | `main` | RefCOCO+ | dog | 4 | 25.0 | 0 (0.0%) | 1 (33.3%) | 2 (66.7%) |"
    p1_line = next(l for l in md.split("## Precision@1")[1].splitlines() if "| N24News |" in l)
    assert "| 6 | 33.3 |" in p1_line and "–" in p1_line  # an interval, no types for MMEB

    again = tmp_path / "again"
    assert main(["report", str(results), "--out", str(again)]) == 0
    for name in ("report.md", "report.png"):
        assert (out / name).read_bytes() == (again / name).read_bytes()


def test_report_without_predictions_and_bad_input(tmp_path, capsys):
    results = _results(tmp_path / "results")
    (results / "m1" / "main" / "N24News.predictions.jsonl").unlink()
    assert main(["report", str(results), "--out", str(tmp_path / "o"), "--no-plot", "--max-categories", "1"]) == 0
    md = (tmp_path / "o" / "report.md").read_text()
    assert "1 task result(s) have no predictions file" in md and "1 smaller ones left out" in md
    assert not (tmp_path / "o" / "report.png").exists()

    bad = results / "m1" / "main" / "RefCOCO+.predictions.jsonl"
    bad.write_text('{"gold_rank": 0, "ranking": []}\n')
    assert main(["report", str(results), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0] and "line 1" in err[0]
    assert main(["report", str(tmp_path / "nothing-here")]) == 2
