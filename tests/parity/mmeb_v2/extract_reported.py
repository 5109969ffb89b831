"""Published MMEB-V2 per-task scores (data) from the official repository's score files.

    python tests/parity/mmeb_v2/extract_reported.py OFFICIAL_TREE evaluators/tasks/mmeb_v2/data/reported.json

Reads `experiments/public/all_scores/v2.0.0/*.json` (the release the VLM2Vec-V2 paper, arXiv 2507.04590,
reports: VLM2Vec-V2.0-2B averages 64.9 / 34.6 / 65.4 and 58.0 overall) and keeps each task's headline
(hit@1 image and video, ndcg_linear@5 visual documents) per model. The later `v2.0.1` and
`v2.1-baselines-visdoc-page-fixed` folders (ViDoSeek / MMLongBench page labels fixed, VLM2Vec issue 167)
are kept as well, each row naming its folder.
"""
import json
import sys
from pathlib import Path

HEADLINE = {"image": "hit@1", "video": "hit@1", "visdoc": "ndcg_linear@5"}
FIXED = {"ViDoSeek-page-fixed": "ViDoSeek-page", "MMLongBench-page-fixed": "MMLongBench-page"}


def main(tree: str, out: str) -> None:
    rows = []
    for release in ("v2.0.0", "v2.0.1", "v2.1-baselines-visdoc-page-fixed"):
        for path in sorted((Path(tree) / "experiments/public/all_scores" / release).glob("*.json")):
            data = json.loads(path.read_text())
            scores = {}
            for group, metric in HEADLINE.items():
                for task, value in data["metrics"][group].items():
                    if isinstance(value, dict) and metric in value:
                        scores[FIXED.get(task, task)] = value[metric]
            rows.append({"model": data["metadata"]["model_name"], "release": release,
                         "source": f"TIGER-AI-Lab/VLM2Vec 6e1e1d4 experiments/public/all_scores/{release}/{path.name}",
                         "paper": "arXiv 2507.04590 (VLM2Vec-V2)" if release == "v2.0.0" else None, "scores": scores})
    Path(out).write_text(json.dumps({"kind": "reported", "rows": rows}, indent=0) + "\n")
    print(len(rows), "rows")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
