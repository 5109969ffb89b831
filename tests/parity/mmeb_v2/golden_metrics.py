"""Golden MMEB-V2 metric values: the official `RankingMetrics.evaluate` run on seeded random rankings.

Run in the official venv (numpy 1.26, pytrec-eval-terrier), from anywhere:

    python tests/parity/mmeb_v2/golden_metrics.py OFFICIAL_TREE tests/parity/data/mmeb_v2/metrics_golden.json

Writes the cases and the official score dicts (data, compared by tests/test_mmeb_v2_metrics.py). Sets:
  single     one relevant name per query, given as a string (image and video tasks)
  multi      0-4 relevant names, duplicates and names absent from the ranking included (qrels)
  graded_eq  graded relevance, equal grades within a query (ViDoRe v1, VisRAG)
  graded     graded relevance with different grades (ViDoRe v2): the official code pairs
             `list(set(label))` with the grades in their first order; each case's grades are given to
             it in the order that set yields in this process, so every label keeps its own grade
  graded_raw the `graded` cases as given, under PYTHONHASHSEED 0..3 (each a subprocess): the official
             values change with the hash seed
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

ALL = ["hit", "ndcg", "precision", "recall", "f1", "map", "mrr"]


def make_cases(seed: int, n: int, kind: str) -> list[dict]:
    rng = random.Random(seed)
    pool = [f"doc{i}" for i in range(40)]
    cases = []
    for _ in range(n):
        prediction = rng.sample(pool, rng.randint(10, 40))
        if kind == "single":
            cases.append({"prediction": prediction, "label": rng.choice(pool[:30]), "rel_scores": None})
            continue
        m = rng.randint(0 if kind == "multi" else 1, 4)
        labels = [rng.choice(pool) for _ in range(m)]
        if kind == "multi":
            if labels and rng.random() < 0.2:
                labels.append(labels[0])  # a duplicate
            cases.append({"prediction": prediction, "label": labels, "rel_scores": None})
            continue
        labels = list(dict.fromkeys(labels))
        if kind == "graded_eq":
            grade = rng.choice([1, 2])
            cases.append({"prediction": prediction, "label": labels, "rel_scores": [grade] * len(labels)})
        else:
            cases.append({"prediction": prediction, "label": labels, "rel_scores": [rng.choice([1, 2]) for _ in labels]})
    return cases


def official(tree: str):
    sys.path.insert(0, tree)
    from src.utils.eval_utils.metrics import RankingMetrics

    return RankingMetrics(ALL)


def aligned(case: dict) -> dict:
    """The case with its grades reordered to the order the official `list(set(label))` yields (in this
    process, from the same list), so that its zip gives every label its own grade."""
    grade = dict(zip(case["label"], case["rel_scores"]))
    return {"prediction": case["prediction"], "label": case["label"],
            "rel_scores": [grade[x] for x in list(set(case["label"]))]}


def main(tree: str, out: str) -> None:
    if len(sys.argv) > 3 and sys.argv[3] == "--raw":  # child: the raw graded set under this hash seed
        print(json.dumps(official(tree).evaluate(make_cases(4, 150, "graded"))))
        return
    metrics = official(tree)
    sets = {}
    for seed, (kind, n) in enumerate([("single", 300), ("multi", 300), ("graded_eq", 150), ("graded", 150)], start=1):
        cases = make_cases(seed, n, kind)
        scored = [aligned(c) for c in cases] if kind == "graded" else cases
        sets[kind] = {"cases": cases, "scores": metrics.evaluate(scored)}
    raw = {}
    for hash_seed in range(4):
        env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
        done = subprocess.run([sys.executable, __file__, tree, out, "--raw"], env=env, check=True,
                              capture_output=True, text=True)
        raw[str(hash_seed)] = json.loads(done.stdout.strip().splitlines()[-1])
    sets["graded_raw"] = {"cases_from": "graded", "scores_by_hashseed": raw}
    import numpy

    Path(out).write_text(json.dumps({"source": "TIGER-AI-Lab/VLM2Vec 6e1e1d4 src/utils/eval_utils/metrics.py",
                                     "numpy": numpy.__version__, "sets": sets}, indent=0) + "\n")
    print({k: v.get("scores", {}).get("ndcg_linear@5") for k, v in sets.items()})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
