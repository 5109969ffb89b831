"""Whole offline build: samples/s and peak RSS of `scar build --source coco --generator offline`.

    .venv/bin/python tests/benchmarks/bench_build.py [N ...] [--workers=K] [--empty-images]
    (default: 10000 100000, all cores)

Each N runs in a fresh subprocess on a synthetic COCO instances JSON with N polygon annotations and
a real JPEG of the declared size per image, so the build reads every image header as on a real
dataset (`--empty-images`: zero-byte files instead, which only builds that predate the header checks
accept; kept to compare against them). Prints samples/s, CPU seconds (steadier than wall time on a
shared machine) and peak RSS per N, and the ratios between the largest and smallest N (target:
>= 3,000 samples/s, RSS flat as N grows).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.benchmarks.synthetic_coco import touch_images, write_images, write_synthetic_coco  # noqa: E402

CHILD = """
import resource, sys, time
from scar.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
seconds = time.perf_counter() - start
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
# RSS: the largest generation worker; CPU seconds are steadier than wall time on a shared machine
print("RESULT", code, seconds, me.ru_maxrss, kids.ru_maxrss, me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime,
      flush=True)
"""

# What parsing the annotation file alone costs: the COCO format needs the whole JSON in memory.
JSON_ONLY = """
import json, resource, sys
with open(sys.argv[1], encoding="utf-8") as f:
    data = json.load(f)
print("RESULT", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
"""


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure like an installed package, with cached bytecode
    return env


def json_only_rss(ann: Path) -> float:
    proc = subprocess.run([sys.executable, "-c", JSON_ONLY, str(ann)], capture_output=True, text=True, check=True)
    return int(proc.stdout.split()[1]) / 1024.0


def run_one(n: int, workdir: Path, workers: int, empty_images: bool = False) -> tuple[float, ...]:
    ann = write_synthetic_coco(workdir / f"n{n}" / "instances_train2017.json", n)
    images = workdir / f"n{n}" / "images"
    (touch_images if empty_images else write_images)(ann, images)
    out = workdir / f"n{n}" / "out"
    cmd = [sys.executable, "-c", CHILD, "build", "--source", "coco", "--generator", "offline",
           "--annotations", str(ann), "--images", str(images), "--out", str(out), "--no-progress",
           "--workers", str(workers)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=_child_env())
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"build failed for N={n}:\n{proc.stdout}\n{proc.stderr}")
    _, code, seconds, max_rss_kb, worker_rss_kb, cpu_main, cpu_workers = line.split()
    return (float(seconds), _count_rows(out), int(max_rss_kb) / 1024.0, int(worker_rss_kb) / 1024.0, json_only_rss(ann),
            float(cpu_main), float(cpu_workers))  # fmt: skip


def _count_rows(out: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(p).num_rows for p in out.rglob("*.parquet"))


def main() -> None:
    empty_images = "--empty-images" in sys.argv[1:]
    args = [a for a in sys.argv[1:] if not a.startswith("--workers=") and a != "--empty-images"]
    workers = next((int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--workers=")), os.cpu_count() or 1)
    sizes = [int(a) for a in args] or [10_000, 100_000]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        print(f"--workers {workers} (main process loads, the others generate); "
              f"{'empty image files' if empty_images else 'real JPEG files'}")
        print(f"{'N':>8} {'samples':>8} {'seconds':>8} {'samples/s':>10} {'CPU main':>9} {'workers':>8} "
              f"{'RSS main':>9} {'worker':>7} {'JSON only':>10}  (CPU s, MiB)")
        for n in sizes:
            seconds, samples, rss, worker_rss, json_rss, cpu_main, cpu_workers = run_one(n, Path(tmp), workers, empty_images)
            results.append((n, samples, seconds, rss, worker_rss, json_rss))
            print(f"{n:>8,} {samples:>8,} {seconds:>8.1f} {samples / seconds:>10,.0f} {cpu_main:>9.1f} {cpu_workers:>8.1f} "
                  f"{rss:>9,.0f} {worker_rss:>7,.0f} {json_rss:>10,.0f}", flush=True)
    if len(results) > 1:
        (n0, s0, t0, r0, w0, j0), (n1, s1, t1, r1, w1, j1) = results[0], results[-1]
        print(f"ratio N {n1 / n0:.0f}x: samples/s {(s1 / t1) / (s0 / t0):.2f}x, main RSS {r1 / r0:.2f}x, "
              f"worker RSS {w1 / max(w0, 1e-9):.2f}x, main RSS beyond the parsed JSON {(r1 - j1) / (r0 - j0):.2f}x")


if __name__ == "__main__":
    main()
