"""Whole offline build: samples/s and peak RSS of `scar build --source coco --generator offline`.

    .venv/bin/python tests/benchmarks/bench_build.py [N ...]      (default: 10000 100000)

Each N runs in a fresh subprocess on a synthetic COCO instances JSON with N polygon annotations
(empty image files, so the existence check stays on). Prints samples/s and peak RSS per N, and the
ratios between the largest and smallest N (target: >= 3,000 samples/s, RSS flat as N grows).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.benchmarks.synthetic_coco import touch_images, write_synthetic_coco  # noqa: E402

CHILD = """
import resource, sys, time
from scar.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
seconds = time.perf_counter() - start
print("RESULT", code, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
"""


def run_one(n: int, workdir: Path) -> tuple[float, int, float]:
    ann = write_synthetic_coco(workdir / f"n{n}" / "instances_train2017.json", n)
    images = workdir / f"n{n}" / "images"
    touch_images(ann, images)
    out = workdir / f"n{n}" / "out"
    cmd = [sys.executable, "-c", CHILD, "build", "--source", "coco", "--generator", "offline",
           "--annotations", str(ann), "--images", str(images), "--out", str(out), "--no-progress"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"build failed for N={n}:\n{proc.stdout}\n{proc.stderr}")
    _, code, seconds, max_rss_kb = line.split()
    stats = json.loads((out / "stats.json").read_text())
    samples = int(stats.get("samples") or stats.get("totals", {}).get("samples") or _count_rows(out))
    return float(seconds), samples, int(max_rss_kb) / 1024.0


def _count_rows(out: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(p).num_rows for p in out.rglob("*.parquet"))


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'N':>8} {'samples':>8} {'seconds':>8} {'samples/s':>10} {'peak RSS MiB':>13}")
        for n in sizes:
            seconds, samples, rss = run_one(n, Path(tmp))
            results.append((n, samples, seconds, rss))
            print(f"{n:>8,} {samples:>8,} {seconds:>8.1f} {samples / seconds:>10,.0f} {rss:>13,.0f}", flush=True)
    if len(results) > 1:
        (n0, s0, t0, r0), (n1, s1, t1, r1) = results[0], results[-1]
        print(f"ratio N {n1 / n0:.0f}x: samples/s {(s1 / t1) / (s0 / t0):.2f}x, peak RSS {r1 / r0:.2f}x")


if __name__ == "__main__":
    main()
