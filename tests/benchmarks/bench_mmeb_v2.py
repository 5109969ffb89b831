"""`scar eval --tasks mmeb-v2/...` against the official VLM2Vec main `eval.py` on the MMEB-V2 fixture:
wall time, its ratio, and whether every task's headline score is the same. Run on demand only.

    .venv/bin/python tests/benchmarks/bench_mmeb_v2.py --official OFF/vlm2vec-main [--work DIR] [--runs 2]
        [--venv ~/.cache/scar-parity/vlm2vec-v2-official]

Both sides: the fixture of evaluators/tasks/mmeb_v2/fixture.py (10 parity tasks), the tiny random Qwen2-VL
of tests/parity/mmeb_v2/make_weights.py, float32, batch 16, 2 threads, each run from an empty output folder
(the project's embedding cache starts empty). The official side is tests/parity/mmeb_v2/run_official.py
(eval.py as __main__, the notes' CPU patches); the project side `scar eval --family vlm2vec` with the V2
eval's settings (`image_resolution=original`, pixel limits 3136 / 1003520). Both wall times include the
process start and the model load. What the project reuses: one model load for every task, every distinct
item encoded once across tasks (an instruction text, a label, a page or frame shared by tasks), the vision
tower once per picture (its per-picture cache), where the official code reloads nothing but re-encodes each
task's items. Videos are fed to both as videos (8 frames behind `<|video_pad|>`), so every score is
expected to match.

Measured (2 shared CPU cores, best of 2): official 20.3 s, project 5.3 s (3.86x); all 10 headline scores
identical (image, video, visdoc).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PARITY = ROOT / "tests" / "parity" / "mmeb_v2"


def run(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"failed: {' '.join(cmd[:3])}...\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--official", required=True, type=Path)
    p.add_argument("--work", type=Path, default=Path("/tmp/mmeb-v2-bench"))
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--venv", type=Path, default=Path(os.environ.get("PARITY_VENV_DIR", Path.home() / ".cache/scar-parity"))
                   / "vlm2vec-v2-official")
    a = p.parse_args()
    sys.path.insert(0, str(ROOT))
    from evaluators.tasks.mmeb_v2.catalog import BY_NAME
    from evaluators.tasks.mmeb_v2.fixture import PARITY_TASKS, write_fixture

    work = a.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "TOKENIZERS_PARALLELISM": "false",
           "PYTHONHASHSEED": "0", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PARITY_PROJECT": str(ROOT)}
    off_py = str(a.venv / "bin" / "python")
    if not (work / "ckpt" / "model.safetensors").is_file():
        run([off_py, str(PARITY / "make_weights.py"), str(a.official), str(work / "ckpt")], env)
    fixture = write_fixture(work / "fixture")
    tasks = ",".join(PARITY_TASKS)
    official_cmd = [off_py, str(PARITY / "run_official.py"), str(a.official), str(work / "official"), str(fixture),
                    str(work / "ckpt"), str(work / "out-official"), tasks]
    project_cmd = [sys.executable, "-m", "scar", "eval", "--model", str(work / "ckpt"), "--family", "vlm2vec",
                   "--tasks", ",".join(f"mmeb-v2/{t}" for t in PARITY_TASKS), "--mmeb-v2-root", str(fixture),
                   "--out", str(work / "out-project"), "--device", "cpu", "--no-progress",
                   "--image-resolution", "original", "--model-option", "min_pixels=3136",
                   "--model-option", "max_pixels=1003520", "--overwrite"]
    times: dict[str, list[float]] = {"official": [], "project": []}
    for _ in range(a.runs):
        for side, cmd, out in (("official", official_cmd, "out-official"), ("project", project_cmd, "out-project")):
            subprocess.run(["rm", "-rf", str(work / out)])
            times[side].append(run(cmd, env))
    official = {t: json.loads((work / "out-official" / f"{t}_score.json").read_text()) for t in PARITY_TASKS}
    run_dir = next((work / "out-project").glob("*/local-*"))
    same = {}
    for t in PARITY_TASKS:
        record = json.loads((run_dir / f"mmeb-v2_{t}.json").read_text())
        metric = BY_NAME[t].metric
        same[t] = (official[t][metric], record[metric], official[t][metric] == record[metric])
    o, q = min(times["official"]), min(times["project"])
    print(f"wall s (best of {a.runs}): official {o:.1f}  project {q:.1f}  ratio official/project {o / q:.2f}")
    print(f"all runs: official {[round(x, 1) for x in times['official']]}  project {[round(x, 1) for x in times['project']]}")
    for t, (ov, pv, eq) in same.items():
        print(f"  {t:<16} {BY_NAME[t].group:<7} official {ov:.4f}  project {pv:.4f}  {'same' if eq else 'DIFF'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
