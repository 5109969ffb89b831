"""End to end through the CLI functions with the deterministic test embedder (tests/eval_fixtures.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evaluators.cli import run_eval
from evaluators.results import RESULT_KEYS, slug
from scar.core.errors import InputFileError
from tests.eval_fixtures import TEST_MODEL, eval_args, mmeb_fixture, scar_fixture, write_image

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("test_model_registered")


def _run(tmp_path, *extra):
    out = tmp_path / "out"
    argv = ["--model", TEST_MODEL, "--device", "cpu", "--out", str(out), "--no-progress", *extra]
    assert run_eval(eval_args(argv)) == 0
    return out / TEST_MODEL


def _read(model_dir, task):
    return json.loads((model_dir / f"{slug(task)}.json").read_text())


@pytest.mark.parametrize("rule", ["official", "strict"])
def test_scar_scores_equal_hand_computation(tmp_path, rule):
    expected = scar_fixture(tmp_path / "scar")[rule]
    extra = ["--strict-ties"] if rule == "strict" else []
    d = _run(tmp_path, "--tasks", "RefCOCO+", "--scar-root", str(tmp_path / "scar"), *extra)
    r = _read(d, "RefCOCO+")
    assert set(RESULT_KEYS) <= set(r)
    assert r["schema"] == "scar-result/1" and r["benchmark"] == "scar" and r["task"] == "RefCOCO+"
    assert r["tie_rule"] == rule and r["num_pred"] == 4 and r["limit"] is None
    assert r["num_correct"] == expected["num_correct"]
    for key in ("precision@1", "recall@5", "mrr"):
        assert r[key] == pytest.approx(expected[key]), key
    assert r["acc"] == r["precision@1"]
    assert r["model"] == TEST_MODEL and r["model_id"] == "tests/hash" and r["toolkit_version"]
    s = json.loads((d / r["run_id"] / "summary.json").read_text())
    assert r["run_id"] == ("main" if rule == "official" else "main-strict-ties")
    assert s["schema"] == "scar-summary/1" and s["scar"]["tasks"] == {"RefCOCO+": r["precision@1"]}
    assert s["scar"]["overall"] is None and not s["scar"]["complete"] and len(s["scar"]["missing"]) == 4
    assert s["mmeb"]["overall"] is None and len(s["mmeb"]["missing"]) == 36


def test_mmeb_scores_dedup_and_accumulating_summary(tmp_path, capsys):
    expected = mmeb_fixture(tmp_path / "mmeb")
    scar_fixture(tmp_path / "scar")
    d = _run(tmp_path, "--tasks", "N24News,MSCOCO_t2i", "--mmeb-root", str(tmp_path / "mmeb"))
    for name in ("N24News", "MSCOCO_t2i"):
        r = _read(d, name)
        assert r["precision@1"] == pytest.approx(expected[name]) and r["benchmark"] == "mmeb"
        assert r["run"]["unique_items"] == expected["unique"] and r["run"]["item_references"] == expected["references"]
    assert _read(d, "N24News")["meta_task"] == "Classification" and _read(d, "N24News")["ind"] is True
    assert "1.82x" in capsys.readouterr().out  # 20 references / 11 unique
    # A later SCaR run into the same folder: the summary covers both, nothing re-encoded for MMEB.
    _run(tmp_path, "--tasks", "RefCOCO+", "--scar-root", str(tmp_path / "scar"))
    s = json.loads((d / "main" / "summary.json").read_text())
    assert set(s["mmeb"]["tasks"]) == {"N24News", "MSCOCO_t2i"} and set(s["scar"]["tasks"]) == {"RefCOCO+"}
    # Rerun: everything comes from the cache.
    _run(tmp_path, "--tasks", "N24News,MSCOCO_t2i", "--mmeb-root", str(tmp_path / "mmeb"))
    r = _read(d, "N24News")
    assert r["run"]["encoded_items"] == 0 and r["run"]["cached_items"] == 11
    assert r["precision@1"] == pytest.approx(expected["N24News"])


def test_resume_after_interrupt_recomputes_only_unfinished(tmp_path):
    from tests.eval_fixtures import SimulatedKill

    scar_fixture(tmp_path / "scar")
    log1, log2 = tmp_path / "first.log", tmp_path / "second.log"
    args = ["--tasks", "RefCOCO+", "--scar-root", str(tmp_path / "scar"), "--batch-size", "1"]
    with pytest.raises(SimulatedKill):
        _run(tmp_path, *args, "--model-option", f"log={log1}", "--model-option", "raise_after_calls=3")
    first = log1.read_text().split()
    assert len(first) == 3  # three of the four image items (batches of 1; the texts come later, 8 a batch)
    d = _run(tmp_path, *args, "--model-option", f"log={log2}")
    second = log2.read_text().split()
    r = _read(d, "RefCOCO+")
    assert not set(first) & set(second) and len(first) + len(second) == r["run"]["unique_items"]
    assert r["run"]["cached_items"] == 3 and r["precision@1"] == pytest.approx(0.75)


@pytest.mark.slow
def test_resume_after_kill_recomputes_only_unfinished(tmp_path):
    scar_fixture(tmp_path / "scar")
    out, log1, log2 = tmp_path / "out", tmp_path / "first.log", tmp_path / "second.log"
    common = ["--model", "test-hash", "--device", "cpu", "--tasks", "RefCOCO+", "--scar-root", str(tmp_path / "scar"),
              "--out", str(out), "--batch-size", "3", "--no-progress"]  # fmt: skip
    code = (
        "import sys; from tests.eval_fixtures import register_test_model; register_test_model();"
        "from evaluators.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    killed = subprocess.run(
        [sys.executable, "-c", code, "eval", *common, "--model-option", f"log={log1}", "--model-option", "exit_after_calls=2"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert killed.returncode == 137, killed.stderr
    first = log1.read_text().split()
    assert len(first) == 6  # two batches of 3 finished before the kill
    assert not (out / TEST_MODEL / "RefCOCO+.json").exists()
    _run(tmp_path, "--tasks", "RefCOCO+", "--scar-root", str(tmp_path / "scar"), "--batch-size", "3",
         "--model-option", f"log={log2}")  # fmt: skip
    second = log2.read_text().split()
    r = _read(out / TEST_MODEL, "RefCOCO+")
    unique = r["run"]["unique_items"]
    assert not set(first) & set(second) and len(first) + len(second) == unique
    assert r["run"]["cached_items"] == 6 and r["run"]["encoded_items"] == unique - 6
    assert r["precision@1"] == pytest.approx(0.75)


def test_two_process_gloo_run_equals_one_process(tmp_path):
    import socket

    import torch.multiprocessing as mp

    from tests.eval_fixtures import distributed_worker

    expected = mmeb_fixture(tmp_path / "mmeb")
    scar_fixture(tmp_path / "scar")
    tasks = ["--tasks", "RefCOCO+,N24News,MSCOCO_t2i", "--scar-root", str(tmp_path / "scar"), "--mmeb-root", str(tmp_path / "mmeb")]
    one = _run(tmp_path / "one", *tasks, "--batch-size", "2")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out2 = tmp_path / "two" / "out"
    argv = ["--model", TEST_MODEL, "--device", "cpu", "--out", str(out2), "--no-progress", "--batch-size", "2", *tasks]
    # fork: the children reuse the parent's imports (spawn would import torch twice more, ~20 s here)
    mp.start_processes(distributed_worker, args=(2, port, argv), nprocs=2, join=True, start_method="fork")
    two = out2 / TEST_MODEL
    for name in ("RefCOCO+", "N24News", "MSCOCO_t2i"):
        a, b = _read(one, name), _read(two, name)
        assert b["world_size"] == 2
        for key in ("precision@1", "recall@5", "mrr", "num_correct", "num_pred", "dataset_fingerprint"):
            assert a[key] == b[key], (name, key)
        assert b["run"]["encoded_items"] == a["run"]["unique_items"]
    assert _read(two, "N24News")["precision@1"] == pytest.approx(expected["N24News"])


def test_broken_image_names_the_file(tmp_path):
    scar_fixture(tmp_path / "scar")
    (tmp_path / "scar" / "images" / "coco" / "img2.png").write_bytes(b"not an image")
    with pytest.raises(InputFileError, match=r"img2.png \[.*eval-00000.parquet \[row 1\]\]: image failed to decode") as e:
        _run(tmp_path, "--tasks", "RefCOCO+", "--scar-root", str(tmp_path / "scar"))
    assert "\n" not in str(e.value)
    r = _read(_run(tmp_path, "--tasks", "RefCOCO+", "--scar-root", str(tmp_path / "scar"), "--skip-bad"), "RefCOCO+")
    assert r["skipped"] == {"image failed to decode": 1} and r["num_pred"] == 3 and r["num_correct"] == 3


def test_truncated_image_fails_in_the_model_and_is_blamed_or_skipped(tmp_path):
    scar_fixture(tmp_path / "scar")
    path = tmp_path / "scar" / "images" / "coco" / "img3.png"
    write_image(path, size=(64, 64))
    path.write_bytes(path.read_bytes()[:60])  # header intact, pixel data cut
    with pytest.raises(InputFileError, match=r"img3.png .*image failed to decode"):
        _run(tmp_path, "--tasks", "RefCOCO+", "--scar-root", str(tmp_path / "scar"))
    d = _run(tmp_path, "--tasks", "RefCOCO+", "--scar-root", str(tmp_path / "scar"), "--skip-bad")
    r = _read(d, "RefCOCO+")
    assert r["num_pred"] == 3 and r["num_skipped"] == 1  # q2 dropped: q0, q3 right, q1 wrong
    assert r["num_correct"] == 2 and r["skipped"] == {"image failed to decode": 1}


def test_scar_cli_wiring(tmp_path, capsys):
    from scar.cli import main

    scar_fixture(tmp_path / "scar")
    out = tmp_path / "out"
    argv = ["eval", "--model", TEST_MODEL, "--device", "cpu", "--tasks", "refcoco+", "--scar-root", str(tmp_path / "scar"),
            "--out", str(out), "--no-progress", "--limit", "2"]  # fmt: skip
    assert main(argv) == 0
    assert not (out / TEST_MODEL / "RefCOCO+.json").exists()  # a subsample is never the model's latest result
    r = _read(out / TEST_MODEL / "main-limit2", "RefCOCO+")
    assert r["limit"] == 2 and r["num_pred"] == 2 and r["num_correct"] == 1  # q0 right, q1 wrong
    assert main(["eval", "--model", TEST_MODEL, "--tasks", "ADE20K", "--scar-root", str(tmp_path / "scar"), "--out", str(out), "--no-progress"]) != 0
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("warning:")]
    assert len(err) == 1 and "SCAR_ADE20K_val_filtered.parquet" in err[0]


def test_staged_embedder_prepares_ahead_with_identical_scores(tmp_path):
    from evaluators.runner import evaluate
    from evaluators.task_selection import load_tasks, select_tasks
    from tests.eval_fixtures import HashEmbedder, StagedHashEmbedder

    scar_fixture(tmp_path / "scar")
    tasks = load_tasks(select_tasks("RefCOCO+"), scar_root=tmp_path / "scar", progress=False)
    plain, _ = evaluate(HashEmbedder("plain"), tasks, tmp_path / "c1", batch_size=2, progress=False)
    staged_model = StagedHashEmbedder("staged", device="cuda")  # prefetching is for accelerator runs
    staged, stats = evaluate(staged_model, tasks, tmp_path / "c2", batch_size=2, progress=False)
    assert [s.summary.as_dict() for s in staged] == [s.summary.as_dict() for s in plain]
    assert staged_model.calls == len(staged_model.prepare_threads) >= 3
    assert all(name.startswith("prepare") for name in staged_model.prepare_threads)


def test_staged_embedder_failure_is_still_blamed_on_the_image(tmp_path):
    from evaluators.runner import evaluate
    from evaluators.task_selection import load_tasks, select_tasks
    from tests.eval_fixtures import StagedHashEmbedder

    scar_fixture(tmp_path / "scar")
    path = tmp_path / "scar" / "images" / "coco" / "img3.png"
    write_image(path, size=(64, 64))
    path.write_bytes(path.read_bytes()[:60])  # fails inside prepare_batch, in the prefetch thread
    tasks = load_tasks(select_tasks("RefCOCO+"), scar_root=tmp_path / "scar", progress=False)
    model = StagedHashEmbedder("staged", device="cuda")
    with pytest.raises(InputFileError, match=r"img3.png .*image failed to decode"):
        evaluate(model, tasks, tmp_path / "cache", batch_size=2, progress=False)
    assert model.prepare_threads and all(t.startswith("prepare") for t in model.prepare_threads)


def test_batch_dependent_models_get_the_reference_batches(tmp_path):
    """A batch-dependent embedder gets, per task, its queries in dataset order, then its distinct candidates
    in first-seen order, `reference_batch_size` at a time, never mixed; a rerun finds every batch cached."""
    from evaluators.models.registry import load_embedder
    from evaluators.runner import evaluate
    from evaluators.task_selection import load_tasks, select_tasks

    expected = mmeb_fixture(tmp_path / "mmeb")
    tasks = load_tasks(select_tasks("N24News,MSCOCO_t2i"), mmeb_root=tmp_path / "mmeb", progress=False)
    embedder = load_embedder(TEST_MODEL, batch_dependent=True)
    scores, stats = evaluate(embedder, tasks, tmp_path / "cache", batch_size=16, progress=False)
    q = "<|image_1|> Represent the given news image with the following caption for domain classification: "
    t = "<|image_1|> Represent the given image."
    assert embedder.batches == [
        [q + "a", q + "b"], [q + "c"], ["#1 label", "#2 label"], ["#3 label"],  # N24News: queries, then candidates
        ["Find me an everyday image that matches the given caption: #2",
         "Find me an everyday image that matches the given caption: #1"],
        [t, t], [t],  # MSCOCO_t2i: the three distinct (text, image) candidates
    ]
    assert [s.summary.precision_at_1 for s in scores] == pytest.approx([expected["N24News"], expected["MSCOCO_t2i"]])
    assert stats.encoded == 11 and "reference" in stats.batching
    assert (stats.text_encoded, stats.text_cached) == (5, 0)  # N24News' candidates, MSCOCO_t2i's queries
    again = load_embedder(TEST_MODEL, batch_dependent=True)
    rescored, restats = evaluate(again, tasks, tmp_path / "cache", batch_size=16, progress=False)
    assert again.batches == [] and restats.encoded == 0 and restats.cached == 11
    assert (restats.text_encoded, restats.text_cached) == (0, 5)
    assert [s.summary.precision_at_1 for s in rescored] == [s.summary.precision_at_1 for s in scores]


def test_reference_batches_of_tasks_on_the_same_data_take_turns(tmp_path):
    """The robustness suite's levels of one task (same name and data) run batch 0 of each, then batch 1
    of each, ...: the batches showing the same pictures close together. Other tasks keep their order,
    and every batch's contents and cache keys stay what they were."""
    from dataclasses import replace

    from evaluators.batching import reference_batches
    from evaluators.task_selection import load_tasks, select_tasks

    mmeb_fixture(tmp_path / "mmeb")
    news, coco = load_tasks(select_tasks("N24News,MSCOCO_t2i"), mmeb_root=tmp_path / "mmeb", progress=False)
    level = replace(news, queries=[replace(q, item=replace(q.item, text=q.item.text + " (again)"))
                                   for q in news.queries])  # the same data under other prompts
    alone = {id(t): reference_batches([t], 2)[0] for t in (news, level, coco)}
    batches, keys = reference_batches([news, coco, level], 2)
    a, b, c = alone[id(news)], alone[id(level)], alone[id(coco)]
    assert len(a) == len(b) == 4
    assert batches == [a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], *c]
    assert keys == [reference_batches([t], 2)[1][0] for t in (news, coco, level)]
    assert reference_batches([news, coco], 2)[0] == [*a, *c]  # plain scar eval: as listed


def test_batches_group_each_picture_and_sort_texts_by_length(tmp_path):
    import shutil

    from evaluators.batching import TEXT_BATCH_FACTOR, plan_batches
    from evaluators.models.protocol import Item

    a, b = write_image(tmp_path / "t1" / "a.png", color=(1, 2, 3)), write_image(tmp_path / "t1" / "b.png", color=(9, 9, 9))
    a_copy = tmp_path / "t2" / "a.png"
    a_copy.parent.mkdir()
    shutil.copyfile(a, a_copy)  # the same picture in another task's folder
    items = [Item(text="q1", image=str(a)), Item(text="q2", image=str(b)), Item(text="long question", image=str(a_copy)),
             *(Item(text="x" * n) for n in range(1, 40)), Item(text="q3", image=str(a))]
    keyed = {it.key(): it for it in items}
    batches = plan_batches(keyed, list(keyed), batch_size=2)
    shown = [[keyed[k] for k in batch] for batch in batches]
    images = [it for batch in shown for it in batch if it.image]
    assert len(images) == 4 and all(it.image is not None for batch in shown[:2] for it in batch)
    a_rows = [i for i, it in enumerate(images) if it.image != str(b)]
    assert a_rows in ([0, 1, 2], [1, 2, 3])  # the three items showing picture a (two paths) one after the other
    texts = [it for batch in shown[2:] for it in batch]
    assert [len(t.text) for t in texts] == list(range(39, 0, -1))  # longest first
    assert [len(batch) for batch in shown[2:]] == [2 * TEXT_BATCH_FACTOR, 2 * TEXT_BATCH_FACTOR, 39 - 4 * TEXT_BATCH_FACTOR]


def test_mmeb_candidates_repeated_across_rows_are_one_item(tmp_path):
    from evaluators.tasks.catalog import ALL_TASKS
    from evaluators.tasks.mmeb import load_mmeb_task

    mmeb_fixture(tmp_path / "mmeb")
    task = load_mmeb_task(ALL_TASKS["N24News"], tmp_path / "mmeb")
    first, second = task.queries[0].candidates, task.queries[1].candidates
    shared = {c.key() for c in first} & {c.key() for c in second}
    assert shared
    by_key = {c.key(): c for c in first}
    assert all(c is by_key[c.key()] for c in second if c.key() in shared)  # the very same object: keyed once


def test_eval_rerun_repairs_the_cache_and_scores_equal_a_clean_run(tmp_path, capsys):
    scar_fixture(tmp_path / "scar")
    common = ["--model", TEST_MODEL, "--device", "cpu", "--tasks", "RefCOCO+", "--scar-root", str(tmp_path / "scar"),
              "--no-progress"]  # fmt: skip
    assert run_eval(eval_args([*common, "--out", str(tmp_path / "clean")])) == 0
    out = tmp_path / "out"
    assert run_eval(eval_args([*common, "--out", str(out)])) == 0
    capsys.readouterr()
    for data in (out / ".embed-cache").rglob("*.bin"):
        raw = bytearray(data.read_bytes())
        for offset in range(3, len(raw), 997):  # a few records, here and there
            raw[offset] ^= 0x5A
        data.write_bytes(bytes(raw))
    assert run_eval(eval_args([*common, "--out", str(out)])) == 0
    assert "corrupt cache records encoded again" in capsys.readouterr().out
    result = json.loads((out / TEST_MODEL / "RefCOCO+.json").read_text())
    clean = json.loads((tmp_path / "clean" / TEST_MODEL / "RefCOCO+.json").read_text())
    assert result["run"]["encoded_items"] > 0
    for key in ("precision@1", "recall@5", "mrr", "num_correct", "num_pred"):
        assert result[key] == clean[key], key
