"""Write the parity fixtures: tiny weights, images, and the OFFICIAL code's embeddings for them (golden data).

Runs in the official code's own environment (never the project's), one model at a time:

    python tests/parity/generate_golden.py virtue  --official <sony/virtue tree>           # transformers 4.52.3
    python tests/parity/generate_golden.py vlm2vec --official <TIGER-AI-Lab/VLM2Vec v1 tree>  # transformers 4.46.3
    python tests/parity/generate_golden.py clip    --official <TIGER-AI-Lab/VLM2Vec v1 tree>  # transformers 4.46.3

Exact venv pins: tests/parity/requirements-*.txt; see tests/parity/README.md. The official tree is only
read (imports run with bytecode writing off); every patch it needs to run on a CPU is applied in memory
and listed in the model's module (golden_virtue.py, golden_vlm2vec.py, golden_clip.py). Outputs go to
`--out` (default tests/parity/data): `images/`, `<model>/` (weights in the official checkpoint layout)
and `<model>/golden.json` (the official embeddings; data, not code). Same inputs, same bytes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # never write __pycache__ into the official tree
if os.environ.get("PYTHONHASHSEED") != "0":
    # eval_clip.py batches a set of items: a fixed hash seed makes its batches, hence the bytes, repeatable
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
for _var, _value in (("HF_HUB_OFFLINE", "1"), ("HF_DATASETS_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                     ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_var, _value)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from golden_common import PINNED  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=sorted(PINNED))
    parser.add_argument("--official", type=Path, required=True, help="the official source tree (read only)")
    parser.add_argument("--commit", default="", help="the tree's commit, recorded in golden.json (default: the pinned one)")
    parser.add_argument("--out", type=Path, default=HERE / "data")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(min(4, os.cpu_count() or 1))
    out = args.out.resolve()
    module = __import__(f"golden_{args.model}")
    module.generate(args.official.resolve(), out, args.commit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
