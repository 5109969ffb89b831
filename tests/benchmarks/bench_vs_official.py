"""`scar eval` against the official VLM2Vec v1 evaluation, side by side: wall time, items/s, same picks.

    .venv/bin/python tests/benchmarks/bench_vs_official.py --official OFF/vlm2vec-v1 [--model clip|qwen2vl|both]
        [--runs 3] [--work DIR] [--venvs DIR] [--threads N]

`--official` is an exported TIGER-AI-Lab/VLM2Vec tree at branch v1 (28fdbdd), copied into the work
folder and never modified. The official code runs in its own environments (`--venvs`, default
`$PARITY_VENV_DIR` or ~/.cache/scar-parity): `vlm2vec-official/` for CLIP and `vlm2vec-qwen2vl-official/`
for Qwen2-VL, each a venv with the v1 pins (transformers 4.46.3, peft 0.11.1, datasets, torch).

For each model, on one MMEB-shaped fixture (`mmeb_fixture.py`) and one small random checkpoint written
by the official environment (`official_driver.py`):
  clip     a tiny CLIP (64-d, 2 layers, 64 px) against `evaluation/eval_clip.py`, profile `clip`;
  qwen2vl  a small Qwen2-VL (LM 512-d x 4 layers, vision tower 2 x 128-d at the eval resolution: every
           image resized to 1344x1344, 9216 patches, 2304 image tokens) against `eval.py`, profile `qwen2vl`.
Both sides run `--device cpu` in float32, batch 16, the official protocol, with the same thread count;
the official side with the in-memory patches `official_driver.py` lists. Runs alternate (official,
project, official, ...) `--runs` times each, each from a fresh output folder (the project's embedding
cache starts empty); an untimed run of each side on one task first fills the bytecode caches, and the
`datasets` cache of every task is built before (the official side reads its tasks through `datasets`).
Printed: wall seconds of every run, the official/project ratio of each pair (and their range), items/s
(items = what the official code encodes: each task's distinct query and candidate items), CPU seconds,
the machine load (1-minute load average before each run), and whether every query's top-1 pick is the
same, recomputed from both sides' own vectors (official pickles; the project's `<out>/.embed-cache`).
Exit 0 when every pick matched, 1 otherwise. Run on demand only.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from evaluators.cache import EmbeddingCache  # noqa: E402
from evaluators.tasks.catalog import ALL_TASKS  # noqa: E402
from evaluators.tasks.mmeb import load_mmeb_task  # noqa: E402
import mmeb_fixture  # noqa: E402

DRIVER = Path(__file__).resolve().parent / "official_driver.py"


@dataclass(frozen=True)
class Setup:
    name: str
    venv: str
    profile: str
    make: list[str]
    family: str
    official_cmd: str  # official_driver.py subcommand


SETUPS = {
    "clip": Setup("clip", "vlm2vec-official", "clip", ["make-clip"], "clip", "eval-clip"),
    "qwen2vl": Setup("qwen2vl", "vlm2vec-qwen2vl-official", "qwen2vl",
                     ["make-qwen2vl", "--hidden", "512", "--layers", "4", "--vision-depth", "2", "--vision-dim", "128"],
                     "vlm2vec", "eval-qwen2vl"),
}


def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0]) if Path("/proc/loadavg").exists() else float("nan")


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return f"load average {load1()}"


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def environment(work: Path, threads: int | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # both sides keep their bytecode caches, as a user's install does
    env.update(TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               HF_HOME=str(work / "hf"), HF_DATASETS_CACHE=str(work / "hf-datasets"), PYTHONHASHSEED="0",
               CUDA_VISIBLE_DEVICES="")
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


def run(cmd: list[str], log: Path, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one command; a failure stops the benchmark with the log's tail."""
    cpu0, t0 = child_cpu(), time.perf_counter()
    with open(log, "w") as out:
        rc = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    wall, cpu = time.perf_counter() - t0, child_cpu() - cpu0
    if rc != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        sys.exit(f"command failed (exit {rc}): {' '.join(cmd)}\n--- {log} ---\n{tail}")
    return wall, cpu


# ---------------------------------------------------------------- picks


def official_picks(out: Path, fixture: Path, task: str) -> list[int]:
    vectors = {}
    for side in ("qry", "tgt"):
        with open(out / f"{task}_{side}", "rb") as f:
            array, paired = pickle.load(f)
        vectors[side] = {(p["text"], p["img_path"]): v for p, v in zip(paired, array)}
    picks = []
    for row in pq.read_table(next((fixture / task).glob("test-*.parquet"))).to_pylist():
        q = vectors["qry"][(row["qry_text"], row["qry_img_path"])]
        cands = np.stack([vectors["tgt"][pair] for pair in zip(row["tgt_text"], row["tgt_img_path"])])
        scores = cands @ q / (np.linalg.norm(cands, axis=1) * np.linalg.norm(q))  # the official get_pred
        picks.append(int(np.argmax(scores)))
    return picks


def project_picks(out: Path, fixture: Path, task: str) -> tuple[list[int], list[float]]:
    """Top-1 per query from the project's cached vectors, and each query's top-1 margin."""
    fingerprints = [d for d in (out / ".embed-cache").iterdir() if d.is_dir()]
    cache = EmbeddingCache(out / ".embed-cache", fingerprints[0].name)
    loaded = load_mmeb_task(ALL_TASKS[task], fixture, fixture / "images")
    picks, margins = [], []
    for query in loaded.queries:
        emb = cache.get([query.item.key(), *(c.key() for c in query.candidates)])
        scores = emb[1:] @ emb[0]
        top = int(np.argmax(scores))
        picks.append(top)
        rest = np.delete(scores, np.flatnonzero(scores == scores[top]))
        margins.append(float(scores[top] - rest.max()) if len(rest) else float("inf"))
    cache.close()
    return picks, margins


def official_items(fixture: Path) -> int:
    """What the official code encodes: each task's distinct query items plus its distinct candidate items."""
    stats = json.loads((fixture / "fixture_stats.json").read_text())
    return sum(s["unique_qry"] + s["unique_tgt"] for s in stats.values())


# ---------------------------------------------------------------- one model


def bench(setup: Setup, args: argparse.Namespace, work: Path) -> bool:
    off_py = Path(args.venvs) / setup.venv / "bin" / "python"
    if not off_py.exists():
        sys.exit(f"no official environment at {off_py.parent.parent} (see --venvs)")
    env = environment(work, args.threads)
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    fixture = work / f"fixture-{setup.profile}"
    if not (fixture / "fixture_stats.json").exists():
        shutil.rmtree(fixture, ignore_errors=True)
        mmeb_fixture.build(fixture, mmeb_fixture.PROFILES[setup.profile])
    tasks = list(json.loads((fixture / "fixture_stats.json").read_text()))
    model = work / "models" / setup.name
    if not (model / "config.json").exists():
        run([str(off_py), str(DRIVER), setup.make[0], str(model), "--corpus", str(fixture / "corpus.txt"),
             *setup.make[1:]], logs / f"make-{setup.name}.log", env, work)
    tree = work / "official"
    if not tree.exists():
        shutil.copytree(args.official, tree)
    common = ["--encode_output_path", "{out}", "--dataset_name", str(fixture), "--subset_name", "{tasks}",
              "--dataset_split", "test", "--per_device_eval_batch_size", "16", "--image_dir", str(fixture / "images"),
              "--normalize", "True", "--output_dir", "{out}/tr"]
    extra = (["--embedding_type", "multimodal", "--max_len", "77"] if setup.name == "clip"
             else ["--image_resolution", "high", "--pooling", "eos"])

    def official(out: Path, subset: list[str] = tasks) -> list[str]:
        out.mkdir(parents=True, exist_ok=True)  # eval_clip.py does not create it
        rest = [part for a in common for part in (subset if a == "{tasks}" else [a.replace("{out}", str(out))])]
        return [str(off_py), str(DRIVER), setup.official_cmd, str(tree), "--", "--model_name", str(model), *rest, *extra]

    def project(out: Path, subset: list[str] = tasks) -> list[str]:
        return [sys.executable, "-m", "scar", "eval", "--model", str(model), "--family", setup.family,
                "--tasks", ",".join(subset), "--mmeb-root", str(fixture), "--mmeb-images", str(fixture / "images"),
                "--out", str(out), "--batch-size", "16", "--device", "cpu", "--no-progress"]

    n_items = official_items(fixture)
    print(f"\n== {setup.name}: {len(tasks)} tasks, {n_items:,} items as the official code encodes them "
          f"(fixture {fixture}); {uptime()}", flush=True)
    warm = work / f"warm-{setup.name}"
    shutil.rmtree(warm, ignore_errors=True)
    run([str(off_py), "-c", "import sys; from datasets import load_dataset\n"
         "for t in sys.argv[2:]: load_dataset(sys.argv[1], t, split='test')", str(fixture), *tasks],
        logs / "warm-datasets.log", env, work)
    run(official(warm / "official", tasks[2:3]), logs / f"{setup.name}-warm-official.log", env, work)
    run(project(warm / "project", tasks[2:3]), logs / f"{setup.name}-warm-project.log", env, ROOT)
    rows = []
    for i in range(args.runs):
        out_off, out_proj = work / f"{setup.name}-official-{i}", work / f"{setup.name}-project-{i}"
        for out in (out_off, out_proj):
            shutil.rmtree(out, ignore_errors=True)
        load_off = load1()
        t_off, c_off = run(official(out_off), logs / f"{setup.name}-official-{i}.log", env, work)
        load_proj = load1()
        t_proj, c_proj = run(project(out_proj), logs / f"{setup.name}-project-{i}.log", env, ROOT)
        rows.append((t_off, c_off, load_off, t_proj, c_proj, load_proj))
        print(f"  run {i + 1}: official {t_off:7.1f} s (cpu {c_off:6.1f}, load {load_off:4.1f})   "
              f"project {t_proj:7.1f} s (cpu {c_proj:6.1f}, load {load_proj:4.1f})   ratio {t_off / t_proj:5.2f}x",
              flush=True)
    same = total = 0
    worst: list[str] = []
    for i in range(args.runs):
        for task in tasks:
            off = official_picks(work / f"{setup.name}-official-{i}", fixture, task)
            proj, margins = project_picks(work / f"{setup.name}-project-{i}", fixture, task)
            agree = [a == b for a, b in zip(off, proj)]
            same, total = same + sum(agree), total + len(agree)
            worst += [f"{task} row {r} (official {off[r]}, project {proj[r]}, project margin {margins[r]:.2e})"
                      for r, ok in enumerate(agree) if not ok][:3]
    summary = re.search(r"(\d+) unique items for (\d+) references", (logs / f"{setup.name}-project-0.log").read_text())
    ratios = [r[0] / r[3] for r in rows]
    cpu_ratios = [r[1] / r[4] for r in rows]
    off_best, proj_best = min(r[0] for r in rows), min(r[3] for r in rows)
    print(f"  {setup.name}: wall ratio official/project {min(ratios):.2f}x .. {max(ratios):.2f}x "
          f"(median {float(np.median(ratios)):.2f}x); CPU-time ratio {min(cpu_ratios):.2f}x .. {max(cpu_ratios):.2f}x")
    print(f"  items/s (best run): official {n_items / off_best:8.1f}   project {n_items / proj_best:8.1f}"
          + (f"   (the project encoded {summary.group(1)} unique items for {summary.group(2)} references)"
             if summary else ""))
    print(f"  top-1 picks identical: {same}/{total} queries over {args.runs} run pairs"
          + ("" if same == total else "; first differences: " + "; ".join(worst[:5])))
    print(f"  {uptime()}", flush=True)
    return same == total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", type=Path, required=True, help="VLM2Vec v1 tree (eval.py, evaluation/eval_clip.py)")
    parser.add_argument("--model", choices=("clip", "qwen2vl", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each side, alternating (default 3)")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a fresh temporary one)")
    parser.add_argument("--venvs", default=os.environ.get("PARITY_VENV_DIR", str(Path.home() / ".cache/scar-parity")),
                        help="folder holding the official venvs vlm2vec-official/ and vlm2vec-qwen2vl-official/")
    parser.add_argument("--threads", type=int, default=None, help="OMP/MKL threads for both sides (default: torch's)")
    args = parser.parse_args()
    if not (args.official / "eval.py").exists() or not (args.official / "evaluation" / "eval_clip.py").exists():
        sys.exit(f"{args.official}: not a VLM2Vec v1 tree (needs eval.py and evaluation/eval_clip.py)")
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-vs-official-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work folder {work}; threads {args.threads or 'torch default'}; cores {len(os.sched_getaffinity(0))}")
    names = ("clip", "qwen2vl") if args.model == "both" else (args.model,)
    ok = all([bench(SETUPS[name], args, work) for name in names])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
