"""`scar leaderboard`: published rows, measured result files, Markdown/CSV/JSON/PNG outputs.

Golden files live in tests/golden/leaderboard/; regenerate them after an intended change with
SCAR_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_leaderboard.py -q
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from PIL import Image

from evaluators.leaderboard import build_leaderboard, load_measured, load_reported
from evaluators.leaderboard.measured import display_name
from evaluators.tasks.catalog import MMEB_TASKS, SCAR_TASKS
from scar.cli import main
from scar.core.errors import ScarError

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "leaderboard"
SHIPPED = REPO / "leaderboards"
TEXT_OUTPUTS = ("scar.md", "mmeb.md", "mmeb_tasks.md", "mmeb_v2.md", "leaderboard.csv", "leaderboard.json")
SCAR_NAMES = [t.name for t in SCAR_TASKS]


def write_result(root: Path, model: str, task: str, p1: float, *, limit: int | None = None, tie_rule: str = "official",
                 protocol: str | None = "official", data: str | None = "official", **override) -> Path:
    benchmark = "scar" if task in SCAR_NAMES or task == "Demo" else "mmeb"
    record = {
        "schema": "scar-result/1",
        "benchmark": benchmark,
        "task": task,
        "meta_task": None,
        "ind": None,
        "model": model,
        "model_id": model,
        "revision": "main",
        "family": "clip",
        "precision@1": p1,
        "acc": p1,
        "num_correct": round(p1 * 200),
        "num_pred": 200,
        "recall@5": min(1.0, p1 + 0.3),
        "mrr": p1,
        "tie_rule": tie_rule,
        "dataset_fingerprint": "f" * 16,
        "toolkit_version": "0.1.0",
        "device": "cpu",
        "dtype": "float32",
        "wall_seconds": 1.5,
        "limit": limit,
        **({} if protocol is None else {"protocol": protocol}),
        **({} if data is None else {"data_provenance": {"kind": data}}),
        **override,
    }
    slug = "".join(c if c.isalnum() or c in "._+-" else "_" for c in model) + ("-strict" if tie_rule == "strict" else "")
    slug += "" if protocol == "official" else f"-{protocol or 'unrecorded'}"
    path = root / slug / f"{task.replace('/', '_')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


# Meta-task means 50/20/60/80: the mean of 36 (48.33) differs from the mean of the four (52.5).
MMEB_SCORE = {"Classification": 0.5, "VQA": 0.2, "Retrieval": 0.6, "Grounding": 0.8}


def fixed_results(root: Path) -> Path:
    """A small, varied results set: complete, partial, subsampled, strict-tie, fixed-protocol, protocol-less,
    local-dir and extra-task rows."""
    for name, p1 in zip(SCAR_NAMES, (0.30, 0.42, 0.25, 0.33, 0.20)):
        write_result(root, "clip-vit-l-14", name, p1)
    write_result(root, "clip-vit-l-14", "Demo", 0.5)
    for name, p1 in zip(SCAR_NAMES[:3], (0.35, 0.40, 0.21)):
        write_result(root, "clip-vit-l-14+crop", name, p1)
    for name, p1 in zip(SCAR_NAMES, (0.9, 0.8, 0.7, 0.6, 0.5)):
        write_result(root, "virtue-2b", name, p1, limit=50)
    write_result(root, "/home/someone/demo-out/models/tiny-clip+crop", "Demo", 0.1, tie_rule="strict")
    for name, p1 in zip(SCAR_NAMES, (0.95, 0.95, 0.95, 0.95, 0.95)):  # best everywhere, yet never bold
        write_result(root, "virtue-2b", name, p1, protocol="fixed")
    for name, p1 in zip(SCAR_NAMES, (0.96, 0.96, 0.96, 0.96, 0.96)):  # written before the protocol was recorded
        write_result(root, "virtue-7b", name, p1, protocol=None)
    for name, p1 in zip(SCAR_NAMES, (0.97, 0.97, 0.97, 0.97, 0.97)):  # on a self-built RefCOCO+ etc.
        write_result(root, "vlm2vec-qwen2vl-7b", name, p1, data="self-built")
    for t in MMEB_TASKS:
        write_result(root, "vlm2vec-qwen2vl-2b", t.name, MMEB_SCORE[t.meta_task])
    write_result(root, "vlm2vec-qwen2vl-2b", "CIFAR-100", 0.77)
    for t in MMEB_TASKS[:3]:
        write_result(root, "clip-vit-l-14", t.name, 0.4)
    (root / "vlm2vec-qwen2vl-2b" / "summary.json").write_text('{"schema": "scar-summary/1"}', encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def measured_out(tmp_path_factory) -> Path:
    """The fixed results set rendered once (measured rows only); tests only read it."""
    root = tmp_path_factory.mktemp("measured")
    build_leaderboard([fixed_results(root / "results")], root / "out")
    return root / "out"


@pytest.fixture(scope="module")
def combined_out(tmp_path_factory) -> Path:
    """The fixed results set beside the published rows."""
    root = tmp_path_factory.mktemp("combined")
    build_leaderboard([fixed_results(root / "results")], root / "out", include_reported=True)
    return root / "out"


def _compare_or_update(produced: Path, expected_dir: Path, names: tuple[str, ...]) -> None:
    for name in names:
        got = (produced / name).read_text(encoding="utf-8")
        if os.environ.get("SCAR_UPDATE_GOLDEN"):
            expected_dir.mkdir(parents=True, exist_ok=True)
            (expected_dir / name).write_text(got, encoding="utf-8")
        assert got == (expected_dir / name).read_text(encoding="utf-8"), f"{name} differs from {expected_dir / name}"


# ------------------------------------------------------------------ published rows


def test_reported_has_every_published_row_with_source_and_rule():
    rows = load_reported()
    mmeb = [r for r in rows if r.benchmark == "mmeb"]
    scar = [r for r in rows if r.benchmark == "scar"]
    assert len(mmeb) == 24 and len(scar) == 27
    labels = {(r.benchmark, r.label) for r in rows}
    assert len(labels) == len(rows), "duplicate rows"
    for model in ("VLM2Vec-2B", "VIRTUE-2B", "VLM2Vec-7B", "VIRTUE-7B"):
        for variant in ("", " +Crop", " +SCaR-train"):
            assert ("scar", model + variant) in labels
    for r in rows:
        assert r.source and r.source["paper"] == "VIRTUE (arXiv 2510.00523)" and r.source["table"]
        assert r.averaging in ("mean-of-36-tasks", "mean-of-4-meta-tasks", "mean-of-5-datasets")
    by_label = {(r.benchmark, r.label): r.values for r in rows}
    assert by_label[("mmeb", "CLIP-L/14")] == {
        "Classification": 42.8, "VQA": 9.1, "Retrieval": 53.0, "Grounding": 51.8, "IND": 37.1, "OOD": 38.7, "Overall": 37.8
    }  # fmt: skip
    assert list(by_label[("scar", "VIRTUE-2B +SCaR-train")].values()) == [64.2, 65.3, 41.4, 54.2, 56.0, 56.2]
    assert list(by_label[("scar", "VLM2Vec-7B +Crop")].values()) == [17.6, 25.7, 15.2, 13.8, 21.3, 18.7]


def test_published_overalls_match_recomputation_except_the_flagged_rows():
    flagged = set()
    for r in load_reported():
        v = r.values
        if r.benchmark == "scar":
            recomputed = sum(v[n] for n in SCAR_NAMES) / 5
            ok = abs(recomputed - v["Overall"]) <= 0.1 + 1e-9
        else:  # hand-written task counts: 10 classification, 10 VQA, 12 retrieval, 4 grounding; 20 IND, 16 OOD
            of_36 = (10 * v["Classification"] + 10 * v["VQA"] + 12 * v["Retrieval"] + 4 * v["Grounding"]) / 36
            ind_ood = (20 * v["IND"] + 16 * v["OOD"]) / 36
            ok = abs(of_36 - v["Overall"]) <= 0.1 + 1e-9 and abs(ind_ood - v["Overall"]) <= 0.1 + 1e-9
        assert ok == (not r.flags), (r.label, r.flags)
        if r.flags:
            flagged.add((r.benchmark, r.label, tuple(r.flags)))
            assert r.notes, r.label
    assert flagged == {
        ("scar", "VIRTUE-2B", ("overall-mismatch",)),
        ("mmeb", "SigLIP-so400m-14-384", ("overall-mismatch",)),
        ("mmeb", "UniME-7B", ("averaged-differently",)),
        ("mmeb", "VIRTUE-7B +SCaR-train", ("overall-mismatch",)),
        ("mmeb", "MMRet-7B +SCaR-train", ("overall-mismatch",)),
        ("mmeb", "VLM2Vec-2B +SCaR-train", ("ind-ood-mismatch",)),
    }


def test_uniME_overall_is_the_mean_of_its_four_meta_tasks():
    uni = next(r for r in load_reported() if r.benchmark == "mmeb" and r.label == "UniME-7B")
    assert (60.6 + 52.9 + 67.9 + 85.1) / 4 == pytest.approx(66.625)
    assert uni.averaging == "mean-of-4-meta-tasks"
    assert uni.recomputed_overall == pytest.approx((10 * 60.6 + 10 * 52.9 + 12 * 67.9 + 4 * 85.1) / 36)


def test_published_mismatch_shows_published_value_with_recomputed_footnote():
    scar_md = (SHIPPED / "scar.md").read_text(encoding="utf-8")  # kept current by the test below
    line = next(l for l in scar_md.splitlines() if l.startswith("| VIRTUE-2B |"))
    ref = line.split("30.4")[1].split(" ")[0]
    assert ref.startswith("[^")
    assert f"{ref}: VIRTUE-2B: published Overall 30.4; the mean of its five published dataset scores is 30.60." in scar_md
    mmeb_md = (SHIPPED / "mmeb.md").read_text(encoding="utf-8")
    uni = next(l for l in mmeb_md.splitlines() if l.startswith("| UniME-7B |"))
    assert "| 66.6[^" in uni and "**66.6**" not in uni
    assert "mean of all 36 tasks" in mmeb_md


def test_shipped_leaderboards_are_up_to_date(tmp_path):
    build_leaderboard([], tmp_path, include_reported=True)
    _compare_or_update(tmp_path, SHIPPED, TEXT_OUTPUTS)
    assert (SHIPPED / "scar.png").stat().st_size > 10_000


# ------------------------------------------------------------------ measured results


def test_golden_markdown_for_a_fixed_results_set(measured_out):
    _compare_or_update(measured_out, GOLDEN, TEXT_OUTPUTS)


def test_measured_aggregates_by_hand(tmp_path):
    rows = {(r.benchmark, r.label, r.limit, r.tie_rule): r for r in load_measured([fixed_results(tmp_path)])}
    vlm = rows[("mmeb", "vlm2vec-qwen2vl-2b", None, "official")].values
    # 10x50 + 10x20 + 12x60 + 4x80 over 36 tasks; IND 5x50+6x20+8x60+1x80 over 20; OOD 5x50+4x20+4x60+3x80 over 16
    assert vlm["Overall"] == pytest.approx(1740 / 36)
    assert vlm["IND"] == pytest.approx(930 / 20) and vlm["OOD"] == pytest.approx(810 / 16)
    assert vlm["Retrieval"] == pytest.approx(60.0) and vlm["CIFAR-100"] == pytest.approx(77.0)
    clip = rows[("scar", "clip-vit-l-14", None, "official")].values
    assert clip["Overall"] == pytest.approx((30 + 42 + 25 + 33 + 20) / 5)
    assert clip["Demo"] == pytest.approx(50.0)
    tiny = rows[("scar", "tiny-clip+crop", None, "strict")]
    assert tiny.group == "tiny-clip" and tiny.variant == "+crop" and tiny.tasks_done == 0


def test_fixed_protocol_and_unrecorded_rows_are_marked_and_never_bold(measured_out):
    scar_md = (measured_out / "scar.md").read_text(encoding="utf-8")
    fixed = next(l for l in scar_md.splitlines() if l.startswith("| virtue-2b") and "fixed protocol" in l)
    unrecorded = next(l for l in scar_md.splitlines() if l.startswith("| virtue-7b"))
    assert "95.0" in fixed and "**" not in fixed
    assert "protocol unrecorded" in unrecorded and "96.0" in unrecorded and "**" not in unrecorded
    assert "`--protocol fixed`" in scar_md
    rows = {(r.label, r.protocol) for r in load_measured([measured_out.parent / "results"])}
    assert ("virtue-2b", "fixed") in rows and ("virtue-7b", "unrecorded") in rows


def test_self_built_data_is_marked_and_never_bold(measured_out):
    scar_md = (measured_out / "scar.md").read_text(encoding="utf-8")
    line = next(l for l in scar_md.splitlines() if l.startswith("| vlm2vec-qwen2vl-7b"))
    assert "self-built data[^" in line and "97.0" in line and "**" not in line
    assert "not the official release" in scar_md


def test_partial_results_have_no_overall(measured_out):
    out = measured_out
    scar_md = (out / "scar.md").read_text(encoding="utf-8")
    crop = next(l for l in scar_md.splitlines() if "↳ +crop" in l)
    assert crop.endswith("| **35.0** | 40.0 | 21.0 | – | – | – (3/5) |")  # 35 beats the full row's 30
    mmeb_md = (out / "mmeb.md").read_text(encoding="utf-8")
    clip = next(l for l in mmeb_md.splitlines() if l.startswith("| clip-vit-l-14 |"))
    assert clip.endswith("| – | – | – | – | – | – | – (3/36) |")
    records = {(r["benchmark"], r["label"]): r for r in json.loads((out / "leaderboard.json").read_text())["rows"]}
    partial = records[("scar", "clip-vit-l-14+crop")]
    assert "Overall" not in partial["values"] and partial["tasks_done"] == 3 and partial["tasks_total"] == 5
    assert "Overall" not in records[("mmeb", "clip-vit-l-14")]["values"]


def test_subsample_and_strict_rows_are_marked_and_never_bold(measured_out):
    out = measured_out
    scar_md = (out / "scar.md").read_text(encoding="utf-8")
    sub = next(l for l in scar_md.splitlines() if l.startswith("| virtue-2b |") and "90.0" in l)
    assert "subsample[^" in sub and "**" not in sub  # 90.0 beats every full row, but is a subsample
    assert "at most 50 queries per task" in scar_md
    clip = next(l for l in scar_md.splitlines() if l.startswith("| clip-vit-l-14 |"))
    assert "| **42.0** |" in clip and clip.endswith("| 30.0 |")  # the only full Overall: nothing to beat
    extras = scar_md.split("## Not in any average")[1]
    assert "| tiny-clip+crop | measured, strict ties[^" in extras and "| clip-vit-l-14 | measured | **50.0** |" in extras


def test_measured_and_reported_rows_side_by_side(combined_out):
    out = combined_out
    lines = (out / "mmeb.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("| VLM2Vec-2B |"))
    assert lines[start + 1].startswith("| vlm2vec-qwen2vl-2b | measured | 50.0 | 20.0 | 60.0 | 80.0 | 46.5 | 50.6 | 48.3 |")
    assert "reported[^" in lines[start]
    rows = list(csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text(encoding="utf-8"))))
    assert {r["kind"] for r in rows} == {"measured", "reported"}
    assert len(rows) == len(json.loads((out / "leaderboard.json").read_text())["rows"])


def test_png_is_written_and_valid_and_deterministic(tmp_path, combined_out):
    build_leaderboard([fixed_results(tmp_path / "results")], tmp_path / "b", include_reported=True)
    png = combined_out / "scar.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    with Image.open(png) as im:
        im.verify()
    with Image.open(png) as im:
        assert im.size[0] > 800 and im.size[1] > 400
    for name in (*TEXT_OUTPUTS, "scar.png"):
        assert (combined_out / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_display_name_shortens_local_directories_only():
    assert display_name("clip-vit-l-14+crop") == "clip-vit-l-14+crop"
    assert display_name("openai/clip-vit-large-patch14") == "openai/clip-vit-large-patch14"
    assert display_name("/data/models/tiny-clip+crop") == "tiny-clip+crop"
    assert display_name("./models/tiny") == "tiny"


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"schema": "scar-result/9", "task": "RefCOCO+"}', "expected schema 'scar-result/1'"),
        ("{not json", "not a readable JSON results file"),
        ('["a list"]', "expected a JSON object"),
        ('{"schema": "scar-result/1", "benchmark": "scar", "task": "RefCOCO+", "model": "m"}', "missing key(s) precision@1"),
        ('{"schema": "scar-result/1", "benchmark": "scar", "task": "NoSuchTask", "model": "m", "precision@1": 0.5}', "unknown task 'NoSuchTask'"),
        ('{"schema": "scar-result/1", "benchmark": "mmeb", "task": "RefCOCO+", "model": "m", "precision@1": 0.5}', "belongs to 'scar'"),
        ('{"schema": "scar-result/1", "benchmark": "scar", "task": "RefCOCO+", "model": "m", "precision@1": 42}', "fraction in [0, 1]"),
    ],
)
def test_bad_result_file_is_one_line_error_naming_the_file(tmp_path, content, message):
    bad = tmp_path / "results" / "m" / "RefCOCO+.json"
    bad.parent.mkdir(parents=True)
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ScarError) as info:
        load_measured([tmp_path / "results"])
    text = str(info.value)
    assert str(bad) in text and message in text and "\n" not in text


def test_cli_reports_a_bad_file_in_one_line(tmp_path, capsys):
    results = fixed_results(tmp_path / "results")
    bad = results / "clip-vit-l-14" / "Oops.json"
    bad.write_text('{"schema": "scar-result/1"}', encoding="utf-8")
    rc = main(["leaderboard", "--results", str(results), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and str(bad) in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out" / "scar.md").exists()


def test_cli_writes_everything_and_says_where(tmp_path, capsys):
    out = tmp_path / "boards"
    rc = main(["leaderboard", "--results", str(fixed_results(tmp_path / "r")), "--out", str(out), "--include-reported"])
    assert rc == 0
    assert str(out) in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted([*TEXT_OUTPUTS, "scar.png"])


def test_conflicting_duplicates_across_directories_are_refused(tmp_path):
    write_result(tmp_path / "a", "m", "RefCOCO+", 0.5)
    write_result(tmp_path / "b", "m", "RefCOCO+", 0.5)
    assert len(load_measured([tmp_path / "a", tmp_path / "b"])) == 1  # the same result twice is harmless
    write_result(tmp_path / "c", "m", "RefCOCO+", 0.6)
    with pytest.raises(ScarError, match="different score"):
        load_measured([tmp_path / "a", tmp_path / "c"])


def test_nothing_to_tabulate_and_missing_directory(tmp_path):
    with pytest.raises(ScarError, match="no results to tabulate"):
        build_leaderboard([], tmp_path / "out")
    with pytest.raises(ScarError, match="results directory not found"):
        build_leaderboard([tmp_path / "nope"], tmp_path / "out")


def test_bad_reported_file_names_the_row(tmp_path):
    doc = json.loads((REPO / "evaluators" / "leaderboard" / "reported.json").read_text(encoding="utf-8"))
    doc["rows"][3]["values"]["Overall"] = "high"
    path = tmp_path / "reported.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ScarError) as info:
        load_reported(path)
    assert str(path) in str(info.value) and "row 3" in str(info.value)


def test_unwritable_output_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(ScarError, match="cannot write the leaderboards"):
        build_leaderboard([], blocker / "out", include_reported=True)
