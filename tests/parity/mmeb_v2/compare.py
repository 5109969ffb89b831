"""Compare the project with an official MMEB-V2 run on the fixture (project venv). Two verdicts:

pipeline  the project's loaders + scoring, given the official embeddings: every query's top 10 and every
          metric of `_score.json` identical (bit for bit);
model     the project's Qwen2-VL embedder (`--family vlm2vec`, the V2 eval's settings: no pre-resize,
          pixel limits 3136 / 1003520, PIL resizing, 1-D position ids, videos as videos) on every query
          and candidate (text, image, page, video frames): max |d| per task and per input kind against
          the official vectors, <= --tol; every top-1 pick recomputed from the project's vectors must be
          the official one.

usage: compare.py GOLDEN_JSON FIXTURE CKPT [--tol 1e-4]      exit 0 both pass, 1 a mismatch
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from evaluators.tasks.mmeb_v2.catalog import BY_NAME, task_info  # noqa: E402
from evaluators.tasks.mmeb_v2.loaders import load_v2_task  # noqa: E402
from evaluators.scoring_v2 import score_v2_task  # noqa: E402
from tests.parity.golden_mmeb_v2 import VectorCache, official_cache  # noqa: E402


def input_kind(item, group: str) -> str:
    if item.frames:
        return "video"
    if item.image:
        return "page" if group == "visdoc" else "image"
    return "text"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("golden")
    p.add_argument("fixture", type=Path)
    p.add_argument("ckpt")
    p.add_argument("--tol", type=float, default=1e-4)
    a = p.parse_args()
    import json

    from evaluators.models.registry import load_embedder

    golden = json.loads(Path(a.golden).read_text())["tasks"]
    emb = load_embedder(a.ckpt, family="vlm2vec", device="cpu", image_resolution="original", min_pixels=3136,
                        max_pixels=1003520)
    ok = True
    worst: dict[str, float] = {}
    print(f"{'task':<16} {'pipeline':<9} {'model max|d|':>13} {'items':>6} {'video':>6}  picks(project vectors)")
    for name, expected in golden.items():
        task = load_v2_task(task_info(BY_NAME[name]), a.fixture)
        score = score_v2_task(task, official_cache(task, expected), {})
        official = {k: v for k, v in expected["score"].items() if k not in ("num_pred", "num_data")}
        same = [p["prediction"] for p in score.predictions] == expected["top10"] and score.summary.metrics == official
        items: dict = {}
        reference = {}
        for query, vec in zip(task.queries, expected["query_vectors"]):
            items[query.item.key()], reference[query.item.key()] = query.item, vec
            for cname, item in zip(query.names, query.candidates):
                items[item.key()], reference[item.key()] = item, expected["candidate_vectors"][cname]
        keys = list(items)
        vectors = emb.encode([items[k] for k in keys], 16).numpy()
        mine = VectorCache()
        diff = 0.0
        for k, v in zip(keys, vectors):
            mine.rows[k] = v
            d = float(np.abs(v - np.asarray(reference[k], np.float32)).max())
            kind = input_kind(items[k], BY_NAME[name].group)
            worst[kind] = max(worst.get(kind, 0.0), d)
            diff = max(diff, d)
        picks = score_v2_task(task, mine, {})
        agree = sum(p["prediction"][0] == t[0] for p, t in zip(picks.predictions, expected["top10"]))
        model_ok = diff <= a.tol and agree == len(expected["top10"])
        ok &= same and model_ok
        video = sum(bool(it.frames) for it in items.values())
        print(f"{name:<16} {'same' if same else 'DIFF':<9} {diff:13.2e} {len(keys):6d} {video:6d}  "
              f"{agree}/{len(expected['top10'])}{'' if model_ok else '  MISMATCH'}")
    print("max |d| per input kind:", ", ".join(f"{k} {v:.2e}" for k, v in sorted(worst.items())))
    print("verdict:", "project matches the official code" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
