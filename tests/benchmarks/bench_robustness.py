"""Cost of the default robustness suite relative to one clean run, on the same model and data.

A demo build (`--limit` entities per split) and tiny random-weight models: the tiny CLIP in three
region modes, `+crop` and `+circle` (the prompt is drawn into the pixels: the image tower runs per
prompt, only the file's decode is reused) and `+boxtext` (the pixels do not depend on the prompt: the
tower runs once per picture), and the tiny VIRTUE (`virtue`: the official protocol, the reference
code's batches; `virtue-fixed`), whose Qwen2-VL tower and SAM image encoder run once per picture
while SAM's prompt encoder and mask decoder take each prompt. For each, one `scar eval` into a fresh
folder times the clean run, then `scar eval --robustness` into another fresh folder gives the suite's
own time (its clean run is timed too and reported beside it). The process's decoded-picture cache is
emptied before each run, so no run profits from an earlier one's decodes. With `--repeat N` both runs
are done N times (fresh folders each time) and the fastest of each is reported: on shared cores the
spread between runs is large.

Printed per model: clean seconds, suite seconds, suite / clean (target: well under the number of
levels, 16, the cost of running each level as a separate clean run), and the reuse counts of
`summary.json`: query references vs distinct query items, text-only items (candidates) from the
embedding cache vs encoded, items the suite encoded, image-tower outputs reused vs computed, SAM image
embeddings reused vs computed, file decodes reused vs files decoded ("-": the model has no such cache,
or the code measured predates the count).

    .venv/bin/python tests/benchmarks/bench_robustness.py [--limit 60] [--models crop,boxtext,circle,virtue] [--repeat 1]
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

CLIP_VARIANTS = ("crop", "boxtext", "circle")
VIRTUE_MODELS = {"virtue": "official", "virtue-fixed": "fixed"}


def clear_decoded() -> None:
    try:
        from evaluators.models.decoded import PICTURES
    except ImportError:  # the code measured has no decoded-picture cache
        return
    PICTURES.clear()


def pair(reuse: dict, first: str, second: str) -> str:
    if first not in reuse and second not in reuse:
        return "-"
    return f"{reuse.get(first, '-')}/{reuse.get(second, '-')}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=60, help="entities per split of the demo build")
    parser.add_argument("--models", default="crop,boxtext,circle,virtue",
                        help=f"tiny CLIP variants ({', '.join(CLIP_VARIANTS)}) and tiny VIRTUE ({', '.join(VIRTUE_MODELS)})")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest is reported")
    args = parser.parse_args()

    from baselines.tiny import ensure_tiny_models
    from baselines.tiny.qwen2vl import TINY_PIXELS, write_tiny_virtue
    from scar.cli import main as scar

    with tempfile.TemporaryDirectory(prefix="bench-robustness-") as tmp:
        root = Path(tmp)
        assert scar(["build", "--source", "demo", "--out", str(root / "scar"), "--limit", str(args.limit),
                     "--no-progress"]) == 0
        clip = ensure_tiny_models(root / "models")["tiny-clip"]
        virtue = None
        header = (f"\n{'model':<17} {'queries':>7} {'clean s':>8} {'suite s':>8} {'suite/clean':>11} {'levels':>6} "
                  f"{'query refs/distinct':>19} {'text cached/enc':>15} {'encoded':>7} {'tower reused/run':>16} "
                  f"{'SAM reused/run':>14} {'decodes reused/run':>18}")
        lines = [header]
        print(header)
        for name in args.models.split(","):
            if name in CLIP_VARIANTS:
                label, model, extra = f"tiny-clip+{name}", f"{clip}+{name}", ["--family", "clip"]
            elif name in VIRTUE_MODELS:
                virtue = virtue or write_tiny_virtue(root / "virtue")
                label, model = f"tiny-{name}", str(virtue)
                extra = ["--family", "virtue", "--protocol", VIRTUE_MODELS[name],
                         "--model-option", f"min_pixels={TINY_PIXELS}", "--model-option", f"max_pixels={TINY_PIXELS}"]
            else:
                parser.error(f"unknown model {name!r}")
            common = ["--model", model, *extra, "--tasks", "Demo", "--scar-root", str(root / "scar"), "--no-progress"]
            cleans, summaries = [], []
            for run in range(max(1, args.repeat)):
                clear_decoded()
                started = time.perf_counter()
                assert scar(["eval", *common, "--out", str(root / f"plain-{name}-{run}")]) == 0
                cleans.append(time.perf_counter() - started)
                clear_decoded()
                assert scar(["eval", *common, "--out", str(root / f"robust-{name}-{run}"), "--robustness"]) == 0
                found = next((root / f"robust-{name}-{run}").glob("*/*/robustness/*/summary.json"))
                summaries.append(json.loads(found.read_text()))
            clean = min(cleans)
            summary = min(summaries, key=lambda s: s["cost"]["suite_seconds"])
            cost, reuse = summary["cost"], summary["reuse"]
            queries = reuse["query_references"] // max(1, cost["levels"])
            line = (f"{label:<17} {queries:>7} {clean:8.2f} {cost['suite_seconds']:8.2f} "
                    f"{cost['suite_seconds'] / clean:10.2f}x {cost['levels']:>6} "
                    f"{reuse['query_references']:>9}/{reuse['distinct_query_items']:<9} "
                    f"{pair(reuse, 'text_cached', 'text_encoded'):>15} {reuse['encoded_items']:>7} "
                    f"{pair(reuse, 'tower_reused', 'tower_computed'):>16} {pair(reuse, 'sam_reused', 'sam_computed'):>14} "
                    f"{pair(reuse, 'decodes_reused', 'decoded'):>18}")
            note = (f"{'':17} (the --robustness run's own clean run: {cost['clean_seconds']:.2f}s, suite/clean "
                    f"{cost['suite_over_clean']:.2f}x; clean run encoded {reuse['clean_encoded_items']} items, "
                    f"{reuse['cached_items']} of the suite's items came from its cache; prompts drawn in "
                    f"{cost['prompt_seconds']:.2f}s)")
            print(line, note, sep="\n", flush=True)
            lines += [line, note]
        print("\n".join(["", "all models:", *lines]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
