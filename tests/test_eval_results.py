import json

import pytest

from evaluators.results import aggregate, read_task_results, slug, summarize, write_summary, write_task_result
from evaluators.tasks.catalog import MMEB_TASKS, SCAR_TASKS

# CLIP-L/14 meta-task scores from REFERENCE.md (VIRTUE paper table), as fractions.
CLIP_META = {"Classification": 0.428, "VQA": 0.091, "Retrieval": 0.530, "Grounding": 0.518}


def clip_like_scores():
    return {t.name: CLIP_META[t.meta_task] for t in MMEB_TASKS}


def test_mmeb_overall_is_the_mean_of_36_tasks():
    agg = aggregate(clip_like_scores())["mmeb"]
    assert agg["overall"] == pytest.approx((10 * 0.428 + 10 * 0.091 + 12 * 0.530 + 4 * 0.518) / 36)
    assert round(100 * agg["overall"], 1) == 37.8  # the published CLIP overall
    # ... and not the mean of the four meta-tasks (which would be 39.2)
    assert round(100 * sum(CLIP_META.values()) / 4, 1) == 39.2
    assert agg["meta"] == pytest.approx(CLIP_META)
    ind = [t for t in MMEB_TASKS if t.ind]
    assert len(ind) == 20
    assert agg["IND"] == pytest.approx(sum(CLIP_META[t.meta_task] for t in ind) / 20)
    assert agg["OOD"] == pytest.approx(sum(CLIP_META[t.meta_task] for t in MMEB_TASKS if not t.ind) / 16)
    assert agg["complete"] and agg["missing"] == [] and len(agg["tasks"]) == 36


def test_partial_run_lists_missing_instead_of_averaging_fewer():
    scores = clip_like_scores()
    del scores["RefCOCO"]  # a Grounding, OOD task
    scores["CIFAR-100"] = 0.9
    scores["Demo"] = 0.5
    agg = aggregate(scores)
    m = agg["mmeb"]
    assert m["overall"] is None and m["OOD"] is None and m["meta"]["Grounding"] is None
    assert m["IND"] is not None and m["meta"]["VQA"] == pytest.approx(0.091)
    assert m["missing"] == ["RefCOCO"] and not m["complete"]
    assert agg["extra"] == {"CIFAR-100": 0.9, "Demo": 0.5}  # never averaged
    assert "CIFAR-100" not in m["tasks"]
    s = agg["scar"]
    assert s["overall"] is None and s["missing"] == [t.name for t in SCAR_TASKS]


def test_scar_overall_is_the_mean_of_5():
    vals = [0.288, 0.424, 0.244, 0.299, 0.275]  # VIRTUE-2B plain row
    agg = aggregate({t.name: v for t, v in zip(SCAR_TASKS, vals)})["scar"]
    assert agg["complete"] and agg["overall"] == pytest.approx(sum(vals) / 5)
    assert round(100 * agg["overall"], 1) == 30.6  # the paper prints 30.4 here, though its CLIP row (19.6) is the plain mean


def _record(task, p1, model="m/x+crop"):
    keys = dict(schema="scar-result/1", benchmark="mmeb", task=task, meta_task=None, ind=None, model=model,
                model_id="id", revision="r", family="f", num_correct=1, num_pred=2, mrr=0.5, tie_rule="official",
                dataset_fingerprint="d", toolkit_version="0", device="cpu", dtype="float32", wall_seconds=1.0,
                limit=None, protocol="official", run_id="main")  # fmt: skip
    keys.update({"precision@1": p1, "acc": p1, "recall@5": 1.0})
    return keys


def test_files_and_summary_roundtrip(tmp_path):
    path = write_task_result(tmp_path, _record("Wiki-SS-NQ", 0.25), [{"query": "0", "ranking": [1, 0]}])
    assert path == tmp_path / "m_x+crop" / "main" / "Wiki-SS-NQ.json" and slug("a b/c") == "a_b_c"
    assert json.loads((path.parent / "Wiki-SS-NQ.predictions.jsonl").read_text()) == {"query": "0", "ranking": [1, 0]}
    latest = json.loads((tmp_path / "m_x+crop" / "Wiki-SS-NQ.json").read_text())
    assert latest["latest_of"] == "main" and latest["num_correct"] == 1
    write_task_result(tmp_path, _record("CIFAR-100", 0.5))
    assert len(read_task_results(tmp_path / "m_x+crop" / "main")) == 2
    assert read_task_results(tmp_path / "m_x+crop") == []  # the latest mirrors are not a run
    summary = json.loads(write_summary(tmp_path, "m/x+crop", "main").read_text())
    assert summary["schema"] == "scar-summary/1" and summary["model"] == "m/x+crop" and summary["run_id"] == "main"
    assert summary["mmeb"]["tasks"] == {"Wiki-SS-NQ": 0.25} and summary["extra"] == {"CIFAR-100": 0.5}
    assert summary["protocol"] == "official"
    assert {k: v for k, v in summary.items() if k != "run_id"} == summarize("m/x+crop", read_task_results(path.parent))
    with pytest.raises(ValueError, match="lacks"):
        write_task_result(tmp_path, {"task": "x"})
