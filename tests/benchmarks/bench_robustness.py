"""Cost of the default robustness suite relative to one clean run, on the same model and data.

A demo build (`--limit` entities per split) and the tiny random-weight CLIP in three region modes:
`+crop` and `+circle` (the prompt is drawn into the pixels: the image tower runs per prompt) and
`+boxtext` (the pixels do not depend on the prompt: the tower runs once per picture). For each, one
`scar eval` into a fresh folder times the clean run, then `scar eval --robustness` into another fresh
folder gives the suite's own time (its clean run is timed too and reported beside it). Printed per
model: clean seconds, suite seconds, suite / clean (target: well under the number of levels, 16, the
cost of running each level as a separate clean run), the prompt drawing time, and the reuse counts of
`summary.json`: query references vs distinct query items, candidate references vs distinct candidate
texts (all from the cache), items encoded by the suite, tower outputs reused.

    .venv/bin/python tests/benchmarks/bench_robustness.py [--limit 60] [--models crop,boxtext,circle]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=60, help="entities per split of the demo build")
    parser.add_argument("--models", default="crop,boxtext,circle", help="region variants of the tiny CLIP")
    args = parser.parse_args()

    from baselines.tiny import ensure_tiny_models
    from scar.cli import main as scar

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        assert scar(["build", "--source", "demo", "--out", str(root / "scar"), "--limit", str(args.limit),
                     "--no-progress"]) == 0
        clip = ensure_tiny_models(root / "models")["tiny-clip"]
        print(f"\n{'model':<16} {'queries':>7} {'clean s':>8} {'suite s':>8} {'suite/clean':>11} {'levels':>6} "
              f"{'prompts s':>9} {'query refs/distinct':>19} {'cand refs/distinct':>18} {'encoded':>7} "
              f"{'tower reused':>12}")
        for variant in args.models.split(","):
            model = f"{clip}+{variant}"
            common = ["--model", model, "--family", "clip", "--tasks", "Demo", "--scar-root", str(root / "scar"),
                      "--no-progress"]
            started = time.perf_counter()
            assert scar(["eval", *common, "--out", str(root / f"plain-{variant}")]) == 0
            clean = time.perf_counter() - started
            assert scar(["eval", *common, "--out", str(root / f"robust-{variant}"), "--robustness"]) == 0
            summary = json.loads(next((root / f"robust-{variant}").glob("*/*/robustness/*/summary.json")).read_text())
            cost, reuse = summary["cost"], summary["reuse"]
            queries = reuse["query_references"] // max(1, cost["levels"])
            print(f"tiny-clip+{variant:<6} {queries:>7} {clean:8.2f} {cost['suite_seconds']:8.2f} "
                  f"{cost['suite_seconds'] / clean:10.2f}x {cost['levels']:>6} {cost['prompt_seconds']:9.2f} "
                  f"{reuse['query_references']:>9}/{reuse['distinct_query_items']:<9} "
                  f"{reuse['candidate_references']:>8}/{reuse['distinct_candidate_items']:<9} "
                  f"{reuse['encoded_items']:>7} {reuse.get('tower_reused', 0):>12}")
            print(f"{'':16} (the --robustness run's own clean run: {cost['clean_seconds']:.2f}s, suite/clean "
                  f"{cost['suite_over_clean']:.2f}x; clean run encoded {reuse['clean_encoded_items']} items, "
                  f"{reuse['cached_items']} of the suite's items came from its cache)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
