"""Derive the video-classification label sets of MMEB-V2 (data, not code) from an official VLM2Vec tree.

    python tests/parity/mmeb_v2/extract_labels.py OFFICIAL_TREE evaluators/tasks/mmeb_v2/data/video_labels.json

Reads `src/data/eval_dataset/video_classification_utils.py` with `ast` (nothing is imported or run) and
writes {dataset name: [label, ...]} in the official order: the order sets the global corpus's order,
which decides exact score ties. The source of the file it read is recorded beside the labels.
"""

from __future__ import annotations

import ast
import hashlib
import json
import sys
from pathlib import Path

RELATIVE = "src/data/eval_dataset/video_classification_utils.py"


def main(tree: str, out: str) -> None:
    path = Path(tree) / RELATIVE
    source = path.read_text(encoding="utf-8")
    lists: dict[str, list[str]] = {}
    mapping: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if isinstance(node.value, ast.List):
                lists[name] = [ast.literal_eval(e) for e in node.value.elts]
            elif name == "VIDEOCLS_LABEL_MAPPING" and isinstance(node.value, ast.Dict):
                for k, v in zip(node.value.keys, node.value.values):
                    assert isinstance(v, ast.Name)
                    mapping[ast.literal_eval(k)] = v.id
    labels = {dataset: lists[var] for dataset, var in mapping.items()}
    record = {"source": f"TIGER-AI-Lab/VLM2Vec 6e1e1d4 {RELATIVE}",
              "sha256": hashlib.sha256(source.encode()).hexdigest(), "labels": labels}
    Path(out).write_text(json.dumps(record, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print({k: len(v) for k, v in labels.items()})


if __name__ == "__main__":
    main(*sys.argv[1:3])
