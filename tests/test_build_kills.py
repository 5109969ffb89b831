"""Kills and parallel workers: no orphan worker, no stale temporary, stats.json always equals the shards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import scar.sources
import scar.build.stats as build_stats
from scar.build.config import BuildConfig
from scar.build.pipeline import build
from scar.check.validate import stats_mismatches, validate
from scar.cli import main
from scar.core.tempfiles import remove_stale_temporaries, temp_path
from scar.sources import resolve_source
from scar.sources.base import SourceOptions
from tests.benchmarks.synthetic_coco import write_images, write_synthetic_coco
from tests.pipeline_fixtures import SeededGenerator

REPO = Path(__file__).resolve().parents[1]
scar.sources.register("synthetic", "tests.pipeline_fixtures:SyntheticSource", "test fixture")


def _coco_inputs(root: Path, n: int) -> tuple[Path, Path]:
    ann = write_synthetic_coco(root / "instances_train2017.json", n)
    write_images(ann, root / "images")
    return ann, root / "images"


def _build_cmd(ann: Path, images: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "scar", "build", "--source", "coco", "--annotations", str(ann), "--images", str(images),
            "--out", str(out), "--no-progress", *extra]  # fmt: skip


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited and only waits for its (new) parent to reap it


def _temporaries(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if ".tmp-" in p.name]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_the_main_process_alone_leaves_no_worker(tmp_path: Path) -> None:
    ann, images = _coco_inputs(tmp_path / "data", 3_000)
    out = tmp_path / "out"
    proc = subprocess.Popen(_build_cmd(ann, images, out, "--workers", "3", "--shard-size", "300"), cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        time.sleep(0.02)
    assert len(workers) >= 2, "the build never started its workers"
    os.kill(proc.pid, signal.SIGKILL)  # the main process alone, as an OOM killer or a scheduler would
    proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [w for w in workers if _alive(w)]
    for w in survivors:
        os.kill(w, signal.SIGKILL)
    assert survivors == []
    # the rerun finishes the build: no temporary left behind, stats.json equals the shards
    rerun = subprocess.run(_build_cmd(ann, images, out, "--workers", "3", "--shard-size", "300"), cwd=REPO,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert _temporaries(out) == [] and stats_mismatches(out) == []


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporaries_of_dead_writers_are_removed_on_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    source_dir = out / "synthetic"
    source_dir.mkdir(parents=True)
    dead = _dead_pid()
    this_host = temp_path(source_dir / "train-00001.stats.json").name.rsplit("-", 1)[0]  # .NAME.tmp-HOST
    stale = [source_dir / f".train-00000.parquet.tmp-{dead}", out / f"..build-manifest.json.tmp-{dead}",
             source_dir / f"{this_host}-{dead}"]  # fmt: skip
    live = [source_dir / f".eval-00000.parquet.tmp-{os.getpid()}", source_dir / f".eval-00001.parquet.tmp-otherhost-{dead}"]
    for p in stale + live:
        p.write_bytes(b"partial")
    opts = SourceOptions(images=out / "images", extra={"images": 4})
    build(BuildConfig(source=resolve_source("synthetic"), out=out, source_options=opts, progress=False, shard_size=8), SeededGenerator(0))
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in live)  # a live writer's, and another host's (its processes are not visible here)
    assert remove_stale_temporaries([source_dir]) == []


def test_stats_json_is_never_overwritten_by_an_older_sum(tmp_path: Path, monkeypatch) -> None:
    """Worker A sums the sidecars, then is slow to write; worker B commits more shards and writes.
    Without a lock A's older sum would land last; with it, the last writer has summed everything."""
    out = tmp_path / "out"
    opts = SourceOptions(images=out / "images", extra={"images": 20})
    config = lambda index: BuildConfig(source=resolve_source("synthetic"), out=out, source_options=opts, progress=False,  # noqa: E731
                                       shard_size=6, num_shards=2, shard_index=index)  # fmt: skip
    build(config(0), SeededGenerator(0))  # images written once, so the two threads below only read them
    for p in (out / "synthetic").glob("*-0000[13579]*"):
        p.unlink()  # worker 1's chunks: not built yet
    real_collect = build_stats.collect_stats
    b_done = threading.Event()

    def slow_collect(root, images_root=None):
        stats = real_collect(root, images_root)
        if threading.current_thread().name == "A":
            b_done.wait(timeout=1.5)  # B writes meanwhile, unless the lock makes it wait for A
        return stats

    monkeypatch.setattr(build_stats, "collect_stats", slow_collect)
    a = threading.Thread(target=build, args=(config(0), SeededGenerator(0)), name="A")
    a.start()
    time.sleep(0.3)  # A holds its (older) sum
    build(config(1), SeededGenerator(0))
    b_done.set()
    a.join()
    assert stats_mismatches(out) == []
    stats = json.loads((out / "stats.json").read_text())["sources"]["synthetic"]["splits"]
    shards = sorted(p.name for p in (out / "synthetic").glob("*.parquet"))
    assert sum(s["shards"] for s in stats.values()) == len(shards) == 20


def test_parallel_workers_leave_stats_equal_to_the_shards(tmp_path: Path) -> None:
    ann, images = _coco_inputs(tmp_path / "data", 900)
    out = tmp_path / "out"
    procs = [subprocess.Popen(_build_cmd(ann, images, out, "--num-shards", "3", "--shard-index", str(i),
                                         "--shard-size", "90", "--workers", "1"),
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for i in range(3)]  # fmt: skip
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-400:]
    shards = sorted((out / "coco").glob("*.parquet"))
    stats = json.loads((out / "stats.json").read_text())["sources"]["coco"]["splits"]["train"]
    assert stats["shards"] == len(shards) >= 6
    assert stats["samples"] == sum(pq.read_metadata(p).num_rows for p in shards)
    assert validate(out).ok and _temporaries(out) == []


def test_finalize_recomputes_stats_and_card(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    opts = SourceOptions(images=out / "images", extra={"images": 4})
    build(BuildConfig(source=resolve_source("synthetic"), out=out, source_options=opts, progress=False, shard_size=8), SeededGenerator(0))
    good = json.loads((out / "stats.json").read_text())
    (out / "stats.json").write_text(json.dumps({"sources": {}}))
    (out / "dataset_card.md").unlink()
    assert main(["build", "--finalize", "--out", str(out)]) == 0
    assert json.loads((out / "stats.json").read_text())["sources"] == good["sources"]
    assert (out / "dataset_card.md").exists() and "recomputed stats.json" in capsys.readouterr().err
    assert main(["build", "--finalize", "--out", str(tmp_path / "empty")]) == 2
