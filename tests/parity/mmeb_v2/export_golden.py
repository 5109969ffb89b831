"""Golden data from an official MMEB-V2 run on the fixture: per task the official score dict, every query's
ranked top 10 (candidate names) and the embeddings the official model produced (query rows in dataset
order; candidates by name), as JSON, with a digest of the checkpoint's files (the tiny weights CI loads
from tests/parity/data/mmeb_v2/ckpt) and the versions of the packages that shape the numbers. Names
holding the fixture's absolute path (moment-retrieval clips) are made relative to the task's media
folder, as the project names them. Official venv (reads its pickles).

usage: export_golden.py OUT FIXTURE TASK[,TASK...] GOLDEN_JSON CKPT
"""
import hashlib
import importlib.metadata
import json
import pickle
import sys
from pathlib import Path

out, fixture = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
tasks = sys.argv[3].split(",")
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from evaluators.tasks.mmeb_v2.catalog import BY_NAME  # noqa: E402


def folder_hash(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


golden = {"source": "TIGER-AI-Lab/VLM2Vec 6e1e1d4 eval.py, tiny random Qwen2-VL (make_weights.py), float32 CPU",
          "fixture_sha256": folder_hash(fixture), "ckpt_sha256": folder_hash(Path(sys.argv[5])),
          "packages": {n: importlib.metadata.version(n) for n in ("pillow", "torch", "transformers", "numpy")},
          "tasks": {}}
for task in tasks:
    prefix = f"{fixture}/{BY_NAME[task].media}/"

    def rel(name):
        return name[len(prefix):] if isinstance(name, str) and name.startswith(prefix) else str(name)

    qry = pickle.load(open(out / f"{task}_qry", "rb"))
    tgt = pickle.load(open(out / f"{task}_tgt", "rb"))
    preds = [json.loads(line) for line in open(out / f"{task}_pred.jsonl")]
    golden["tasks"][task] = {
        "score": json.load(open(out / f"{task}_score.json")),
        "top10": [[rel(n) for n in p["prediction"][:10]] for p in preds],
        "labels": [[rel(n) for n in p["label"]] for p in preds],
        "query_vectors": [[float(x) for x in row] for row in qry],
        "candidate_vectors": {rel(name): [float(x) for x in vec] for name, vec in tgt.items()},
    }
Path(sys.argv[4]).write_text(json.dumps(golden) + "\n")
print({t: v["score"]["hit@1"] for t, v in golden["tasks"].items()})
