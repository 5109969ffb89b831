"""Compare the project with an official MMEB-V2 run on the fixture (project venv). Two verdicts:

pipeline  the project's loaders + scoring, given the official embeddings: every query's top 10 and every
          metric of `_score.json` identical (bit for bit);
model     the project's Qwen2-VL embedder (`--family vlm2vec`, the V2 eval's settings: no pre-resize,
          pixel limits 3136 / 1003520, PIL resizing, 1-D position ids) on every query and candidate
          whose input it supports (text, image, page; video frames are not yet fed as a video): max |d|
          per task against the official vectors, <= --tol; picks recomputed from the project's vectors.

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
from evaluators.tasks.mmeb_v2.scoring import score_v2_task  # noqa: E402
from tests.parity.golden_mmeb_v2 import VectorCache, official_cache  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("golden")
    p.add_argument("fixture", type=Path)
    p.add_argument("ckpt")
    p.add_argument("--tol", type=float, default=1e-4)
    a = p.parse_args()
    import json

    from evaluators.registry import load_embedder

    golden = json.loads(Path(a.golden).read_text())["tasks"]
    emb = load_embedder(a.ckpt, family="vlm2vec", device="cpu", image_resolution="original", min_pixels=3136,
                        max_pixels=1003520)
    ok = True
    print(f"{'task':<16} {'pipeline':<9} {'model max|d|':>13} {'items':>6} {'video':>6}  picks(project vectors)")
    for name, expected in golden.items():
        task = load_v2_task(task_info(BY_NAME[name]), a.fixture)
        score = score_v2_task(task, official_cache(task, expected), {})
        official = {k: v for k, v in expected["score"].items() if k not in ("num_pred", "num_data")}
        same = [p["prediction"] for p in score.predictions] == expected["top10"] and score.summary.metrics == official
        items = {}
        reference = {}
        for query, vec in zip(task.queries, expected["query_vectors"]):
            items[query.item.key()], reference[query.item.key()] = query.item, vec
            for cname, item in zip(query.names, query.candidates):
                items[item.key()], reference[item.key()] = item, expected["candidate_vectors"][cname]
        still = [k for k, it in items.items() if not it.frames]
        video = len(items) - len(still)
        diff = 0.0
        mine = VectorCache()
        if still:
            vectors = emb.encode([items[k] for k in still], 16).numpy()
            diff = float(np.abs(vectors - np.asarray([reference[k] for k in still], np.float32)).max())
            for k, v in zip(still, vectors):
                mine.rows[k] = v
        for k in items:
            mine.rows.setdefault(k, np.asarray(reference[k], np.float32))  # video items: the official vectors
        picks = score_v2_task(task, mine, {})
        agree = sum(p["prediction"][0] == t[0] for p, t in zip(picks.predictions, expected["top10"]))
        model_ok = diff <= a.tol
        ok &= same and model_ok
        print(f"{name:<16} {'same' if same else 'DIFF':<9} {diff:13.2e} {len(still):6d} {video:6d}  "
              f"{agree}/{len(expected['top10'])}{'' if model_ok else '  > tol'}")
    print("verdict:", "project matches the official code" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
