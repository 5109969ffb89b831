"""The same seed gives the same rows in every process: other PYTHONHASHSEED, workers, worker arrays,
kills and resumes, on a realistic COCO-format source (not the demo), and concurrent builds with other
settings are refused, never mixed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from scar.build.manifests import MANIFEST_NAME, check_manifest
from scar.core.errors import ScarError
from tests.realistic import writers

REPO = Path(__file__).resolve().parents[1]
SHARD_SIZE = "60"


@pytest.fixture(scope="module")
def coco_inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A realistic COCO-format set (people-only and few-category pictures included: weak scene cues)."""
    root = tmp_path_factory.mktemp("raw")
    files, images = writers.write_coco(root, 70, 40, seed=3)
    return [*(a for f in files for a in ("--annotations", str(f))), "--images", str(images)]


def _build(
    inputs: list[str], out: Path, *extra: str, hash_seed: str = "0", check: bool = True, source: str = "coco"
) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    cmd = [sys.executable, "-m", "scar", "build", "--source", source, *inputs, "--out", str(out), "--no-progress",
           "--shard-size", SHARD_SIZE, "--audit-rows", "400", *extra]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr[-2000:]
    return done


def _rows(out: Path) -> dict[str, list[dict[str, Any]]]:
    return {p.relative_to(out).as_posix(): pq.read_table(p).to_pylist() for p in sorted(out.glob("*/*.parquet"))}


def _texts(out: Path) -> dict[str, str]:
    """stats.json, the dataset card and the hub README, with the build folder's own path neutralised."""
    names = ("stats.json", "dataset_card.md", "README.md", "audit.json")
    return {n: (out / n).read_text("utf-8").replace(str(out), "<out>") for n in names if (out / n).exists()}


def _same_build(a: Path, b: Path) -> None:
    rows_a, rows_b = _rows(a), _rows(b)
    assert list(rows_a) == list(rows_b)
    for name in rows_a:
        assert rows_a[name] == rows_b[name], f"{name} differs"
    assert _texts(a) == _texts(b)


@pytest.fixture(scope="module")
def reference(coco_inputs: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "out"
    _build(coco_inputs, out, "--workers", "1", hash_seed="1")
    stats = json.loads((out / "stats.json").read_text())
    splits = stats["sources"]["coco"]["splits"]
    assert sum(s["samples"] for s in splits.values()) > 300
    assert len(list(out.glob("coco/*.parquet"))) >= 4
    return out


def test_other_hash_seed_and_workers_give_the_same_build(coco_inputs: list[str], reference: Path, tmp_path: Path) -> None:
    _build(coco_inputs, tmp_path / "h2", "--workers", "1", hash_seed="2")
    _same_build(reference, tmp_path / "h2")
    _build(coco_inputs, tmp_path / "w2", "--workers", "2", hash_seed="3")
    _same_build(reference, tmp_path / "w2")


def test_worker_array_gives_the_same_build(coco_inputs: list[str], reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "array"
    for index, seed in (("1", "11"), ("0", "12")):  # the last worker to finish recomputes stats and card
        _build(coco_inputs, out, "--num-shards", "2", "--shard-index", index, "--workers", "1", hash_seed=seed)
    _same_build(reference, out)


def test_kill_and_resume_gives_the_same_build(coco_inputs: list[str], reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONHASHSEED": "21"}
    cmd = [sys.executable, "-m", "scar", "build", "--source", "coco", *coco_inputs, "--out", str(out), "--no-progress",
           "--shard-size", SHARD_SIZE, "--audit-rows", "400", "--workers", "1"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(out.glob("coco/*.parquet")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    total = len(list(reference.glob("coco/*.parquet")))
    assert len(list(out.glob("coco/*.parquet"))) < total, "the build finished before the kill"
    _build(coco_inputs, out, "--workers", "1", hash_seed="22")
    _same_build(reference, out)


def _claim(args: tuple[str, int, Any]) -> str:
    folder, seed, barrier = args
    barrier.wait()
    try:
        return "claimed" if check_manifest(Path(folder), {"source": "coco", "seed": seed}) else "joined"
    except ScarError:
        return "refused"


def test_concurrent_claims_with_other_settings_are_refused_never_mixed(tmp_path: Path) -> None:
    ctx = get_context("fork")
    with ctx.Manager() as manager, ctx.Pool(4) as pool:
        for attempt in range(30):
            folder = tmp_path / f"try{attempt}"
            folder.mkdir()
            barrier = manager.Barrier(4)
            outcomes = pool.map(_claim, [(str(folder), s, barrier) for s in (1, 2, 1, 2)])
            manifest = json.loads((folder / MANIFEST_NAME).read_text())
            winner = manifest["seed"]
            assert outcomes.count("claimed") == 1
            for seed, outcome in zip((1, 2, 1, 2), outcomes):
                assert outcome in (("claimed", "joined") if seed == winner else ("refused",))
            assert not [p for p in folder.iterdir() if p.name != MANIFEST_NAME], "temporaries left behind"


def test_two_builds_with_other_seeds_started_together(coco_inputs: list[str], tmp_path: Path) -> None:
    for attempt in range(2):
        out = tmp_path / f"race{attempt}"
        procs = []
        for seed in ("1", "2"):
            cmd = [sys.executable, "-m", "scar", "build", "--source", "coco", *coco_inputs, "--out", str(out),
                   "--no-progress", "--no-audit", "--limit", "40", "--seed", seed, "--workers", "1"]  # fmt: skip
            procs.append(subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
        assert sorted(rc == 0 for rc, _ in results) == [False, True], results
        refused = next(err for rc, err in results if rc != 0)
        assert "other settings" in refused and "seed" in refused
        seeds = {json.loads((out / "coco" / MANIFEST_NAME).read_text())["seed"]}
        rows = [r for p in out.glob("coco/*.parquet") for r in pq.read_table(p).to_pylist()]
        assert rows and seeds == {int(next(s for (rc, _), s in zip(results, ("1", "2")) if rc == 0))}


def _failed_build(tmp_path: Path) -> tuple[list[str], Path, Path, Path]:
    """A small COCO set built against an empty images folder: (annotation args, real images, the empty folder, --out)."""
    files, images = writers.write_coco(tmp_path / "raw", 6, 3, seed=5)
    args = [a for f in files for a in ("--annotations", str(f))]
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    failed = _build(args + ["--images", str(empty)], out, check=False)
    assert failed.returncode != 0
    assert "missing image file" in failed.stderr and "rerun with corrected inputs" in failed.stderr
    assert not list(out.glob("coco/*.parquet"))
    return args, images, empty, out


def test_a_failed_build_does_not_poison_its_folder(tmp_path: Path) -> None:
    args, images, empty, out = _failed_build(tmp_path)
    # the images arrive in the folder first named, then a rerun of the same command builds
    for path in sorted(images.rglob("*.jpg")):
        (empty / path.relative_to(images)).parent.mkdir(parents=True, exist_ok=True)
        (empty / path.relative_to(images)).write_bytes(path.read_bytes())
    _build(args + ["--images", str(empty)], out)
    assert list(out.glob("coco/*.parquet"))


def test_a_rerun_with_corrected_images_after_a_failure_works(tmp_path: Path) -> None:
    args, images, _, out = _failed_build(tmp_path)
    _build(args + ["--images", str(images)], out)
    assert list(out.glob("coco/*.parquet"))


def test_fixable_reasons_name_the_loaders_reasons() -> None:
    from scar.sources import images

    named = {images.MISSING, images.EMPTY, images.UNREADABLE, images.SIZE_MISMATCH, images.AMBIGUOUS, images.MISSING_FOLDER}
    assert named == images.FIXABLE_REASONS


@pytest.fixture(scope="module")
def ade_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """ADE20K's challenge layout (nearly all stuff): where `--thin-stuff` thins."""
    from tests.realistic import label_maps

    return str(label_maps.write_ade_challenge(tmp_path_factory.mktemp("ade"), 60, 24, seed=4))


def _ade_build(root: str, out: Path, *extra: str, hash_seed: str, check: bool = True) -> subprocess.CompletedProcess:
    return _build(["--root", root], out, *extra, hash_seed=hash_seed, check=check, source="ade20k")


def test_thin_stuff_gives_the_same_build_in_every_process(ade_root: str, tmp_path: Path) -> None:
    reference = tmp_path / "ref"
    _ade_build(ade_root, reference, "--thin-stuff", "--workers", "1", hash_seed="1")
    stats = json.loads((reference / "stats.json").read_text())["sources"]["ade20k"]["splits"]
    reasons = {r for s in stats.values() for r in s["rejections"]["counts"]}
    assert any("names stuff no swap can be as often" in r for r in reasons), reasons  # the thinning ran
    _ade_build(ade_root, tmp_path / "w2", "--thin-stuff", "--workers", "2", hash_seed="2")
    _same_build(reference, tmp_path / "w2")
    array = tmp_path / "array"
    for index, seed in (("1", "3"), ("0", "4")):
        _ade_build(ade_root, array, "--thin-stuff", "--num-shards", "2", "--shard-index", index, "--workers", "1",
                   hash_seed=seed)  # fmt: skip
    _same_build(reference, array)
    # the default mode is another build: its rows differ, and it never resumes into a --thin-stuff folder
    _ade_build(ade_root, tmp_path / "default", "--workers", "1", hash_seed="5")
    assert _rows(tmp_path / "default") != _rows(reference)
    mixed = _ade_build(ade_root, reference, "--workers", "1", hash_seed="6", check=False)
    assert mixed.returncode != 0 and "other settings" in mixed.stderr, mixed.stderr[-500:]
