"""`scar leaderboard` on MMEB-V2: the published rows (cited, re-averaged), measured runs (full, partial, on the
fixture), coverage marks, and the rows in leaderboard.csv / .json."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from evaluators.leaderboard import build_leaderboard, load_measured
from evaluators.tasks.mmeb_v2.board import COLUMN_TASKS
from evaluators.tasks.mmeb_v2.catalog import BY_TASK
from scar.core.errors import ScarError

ALL = COLUMN_TASKS["Overall"]


def write_v2(root: Path, model: str, task: str, score: float, *, hit1: float | None = None, data: str = "official",
             **override) -> Path:
    """A result file as `scar eval` writes one for an MMEB-V2 task (the fields the leaderboard reads)."""
    spec = BY_TASK[task]
    p1 = score if hit1 is None else hit1
    record = {
        "schema": "scar-result/1", "benchmark": "mmeb-v2", "task": task, "meta_task": f"{spec.group}/{spec.meta_task}",
        "ind": None, "model": model, "precision@1": p1, "hit@1": p1, "main_metric": spec.metric, "main_score": score,
        spec.metric: score, "num_correct": round(p1 * 10), "num_pred": 10, "tie_rule": "official", "limit": None,
        "protocol": "official", "dataset_fingerprint": "e" * 16, "data_provenance": {"kind": data}, **override,
    }
    path = root / model / "run" / f"{task.replace('/', '_')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def table_line(md: str, start: str) -> list[str]:
    line = next(l for l in md.splitlines() if l.startswith(start))
    return [c.strip() for c in line.strip().strip("|").split(" | ")]


@pytest.fixture(scope="module")
def reported_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("v2-reported")
    build_leaderboard([], out, include_reported=True)
    return out


def test_reported_rows_cite_each_source_and_match_the_paper(reported_only: Path) -> None:
    md = (reported_only / "mmeb_v2.md").read_text(encoding="utf-8")
    head = [c.strip() for c in md.split("\n| Model |")[1].splitlines()[0].strip(" |").split(" | ")]
    assert head == ["Source", "Image-CLS", "Image-QA", "Image-RET", "Image-GD", "Image", "Video-CLS", "Video-QA",
                    "Video-RET", "Video-MRET", "Video", "VisDoc-VDRv1", "VisDoc-VDRv2", "VisDoc-VR", "VisDoc-OOD",
                    "VisDoc", "Overall"]
    v2 = table_line(md, "| VLM2Vec-V2.0-Qwen2VL-2B |")
    assert v2[1].startswith("reported[^") and [v2[6], v2[11], v2[16], v2[17]] == ["64.9", "34.6", "65.4", "**58.0**"]
    assert md.count("| reported[^") == 8 and "measured" not in md.split("| Model |")[1].split("[^1]:")[0]
    for model in ("VLM2Vec-V2.0-Qwen2VL-2B", "gme-Qwen2-VL-7B-Instruct", "colpali-v1.3", "LamRA-Ret"):
        url = f"blob/6e1e1d42d4cba85ae4db4d3f7a25cba2465d1e16/experiments/public/all_scores/v2.0.0/{model}.json>"
        assert url in md and "arXiv 2507.04590" in md
    assert "**Overall is the mean of all 78 tasks**" in md and "VLM2Vec issue 167" in md
    assert "80.3 on ViDoSeek-page and 44.7 on MMLongBench-page, where v2.0.0 has 21.9 and 11.9" in md


def test_reported_rows_in_csv_and_json(reported_only: Path) -> None:
    rows = [r for r in json.loads((reported_only / "leaderboard.json").read_text())["rows"] if r["benchmark"] == "mmeb-v2"]
    assert len(rows) == 8 and {r["kind"] for r in rows} == {"reported"}
    v2 = next(r for r in rows if r["model"] == "VLM2Vec-V2.0-Qwen2VL-2B")
    assert v2["values"]["Overall"] == pytest.approx(58.0, abs=0.05) and len([k for k in v2["values"] if "/" in k]) == 78
    assert v2["averaging"] == "mean-of-78-tasks" and "arXiv 2507.04590" in v2["source"]["paper"]
    table = list(csv.DictReader(io.StringIO((reported_only / "leaderboard.csv").read_text(encoding="utf-8"))))
    v2_csv = next(r for r in table if r["benchmark"] == "mmeb-v2" and r["model"] == "VLM2Vec-V2.0-Qwen2VL-2B")
    assert float(v2_csv["VisDoc"]) == pytest.approx(65.4, abs=0.05) and float(v2_csv["mmeb-v2/K700"]) == pytest.approx(38.0)
    assert v2_csv["ImageNet-1K"] == ""  # the V1 column stays V1's: V2 tasks are `mmeb-v2/<name>`


def test_a_full_measured_run_sits_beside_the_published_rows(tmp_path: Path) -> None:
    for i, task in enumerate(ALL):
        write_v2(tmp_path / "results", "vlm2vec-v2-qwen2vl-2b", task, 0.5 + (i % 3) * 0.1)
    build_leaderboard([tmp_path / "results"], tmp_path / "out", include_reported=True)
    md = (tmp_path / "out" / "mmeb_v2.md").read_text(encoding="utf-8")
    cells = table_line(md, "| vlm2vec-v2-qwen2vl-2b |")
    assert cells[1] == "measured" and "–" not in cells and "Synthetic fixture" not in md
    scores = [0.5 + (i % 3) * 0.1 for i in range(78)]
    assert cells[17] == f"**{100 * sum(scores) / 78:.1f}**"  # 60.0 beats the published 58.0
    image = [s for s, t in zip(scores, ALL) if t in COLUMN_TASKS["Image"]]
    assert cells[6] == f"{100 * sum(image) / 36:.1f}"


def test_visual_documents_are_scored_by_their_headline(tmp_path: Path) -> None:
    write_v2(tmp_path, "m", "mmeb-v2/ViDoRe_arxivqa", 0.8, hit1=0.5)
    (row,) = load_measured([tmp_path])
    assert row.values["mmeb-v2/ViDoRe_arxivqa"] == pytest.approx(80.0) and row.counts == {}


def test_a_partial_run_shows_the_groups_it_covers(tmp_path: Path) -> None:
    for task in COLUMN_TASKS["Image"]:
        write_v2(tmp_path / "results", "part", task, 0.4)
    for task in ("mmeb-v2/K700", "mmeb-v2/MSR-VTT"):
        write_v2(tmp_path / "results", "part", task, 0.2)
    build_leaderboard([tmp_path / "results"], tmp_path / "out", include_reported=True)
    md = (tmp_path / "out" / "mmeb_v2.md").read_text(encoding="utf-8")
    cells = table_line(md, "| part |")
    assert cells[1] == "measured, partial (38/78 tasks)"
    assert cells[2:7] == ["40.0"] * 5  # every image column: all its tasks are there
    assert cells[7:12] == ["– (1/5)", "–", "– (1/5)", "–", "– (2/18)"]
    assert cells[12:17] == ["–"] * 5 and cells[17] == "– (38/78)"
    assert "– (k/n): only k of the column's n tasks were evaluated" in md
    lines = md.splitlines()
    assert lines.index(next(l for l in lines if l.startswith("| part |"))) > lines.index(
        next(l for l in lines if l.startswith("| LamRA-Ret |")))  # no Overall: below every ranked row
    record = next(r for r in json.loads((tmp_path / "out" / "leaderboard.json").read_text())["rows"] if r["model"] == "part")
    assert record["tasks_done"] == 38 and record["tasks_total"] == 78
    assert "Overall" not in record["values"] and "Video" not in record["values"]
    assert record["values"]["Image"] == pytest.approx(40.0)


def test_only_the_fixture_run_is_marked_synthetic_and_kept_apart(tmp_path: Path) -> None:
    for task in ALL:
        write_v2(tmp_path / "results", "tiny", task, 0.9, data="synthetic")
    build_leaderboard([tmp_path / "results"], tmp_path / "out")
    md = (tmp_path / "out" / "mmeb_v2.md").read_text(encoding="utf-8")
    main, apart = md.split("## Synthetic fixture: not comparable")
    assert "No MMEB-V2 results yet." in main
    cells = table_line(apart, "| tiny |")
    assert cells[1].startswith("measured, synthetic data[^") and cells[17] == "90.0"  # full, and never bold
    assert "not comparable with any published number" in apart


def test_unscored_tasks_and_ties_and_no_intervals(tmp_path: Path) -> None:
    write_v2(tmp_path / "r", "m", "mmeb-v2/ViDoRe_esg_reports_v2", 0.3)  # in visdoc.yaml, not in the 78
    write_v2(tmp_path / "r", "m", "mmeb-v2/K700", 0.5, ties_flagged=True, tie_rate_top=0.4, **{"expected_precision@1": 0.3})
    build_leaderboard([tmp_path / "r"], tmp_path / "out", ci=True)
    md = (tmp_path / "out" / "mmeb_v2.md").read_text(encoding="utf-8")
    extras = md.split("## Not in any average")[1]
    assert "mmeb-v2/ViDoRe\\_esg\\_reports\\_v2" in extras and "| 30.0 |" in extras
    ties = md.split("## Ties at the top")[1]
    assert "- m on mmeb-v2/K700: ties at the top in 40.0% of queries; hit@1 with ties broken at random 30.0" in ties
    assert "numpy's argsort" in ties
    record = next(r for r in json.loads((tmp_path / "out" / "leaderboard.json").read_text())["rows"])
    assert record["benchmark"] == "mmeb-v2" and "ci95" not in record


def test_a_v2_result_without_its_headline_is_refused_in_one_line(tmp_path: Path) -> None:
    path = write_v2(tmp_path, "m", "mmeb-v2/K700", 0.5)
    doc = json.loads(path.read_text())
    del doc["main_score"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ScarError) as info:
        load_measured([tmp_path])
    assert str(path) in str(info.value) and "main_score" in str(info.value) and "\n" not in str(info.value)
