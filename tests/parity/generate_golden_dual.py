"""Write the SigLIP / OpenCLIP parity fixtures: tiny weights, the MMEB-layout fixture, and the OFFICIAL
code's outputs for them (golden data). The companion of generate_golden.py for these two families.

Runs in the official code's own environment (tests/parity/requirements-dual.txt), one model at a time:

    python tests/parity/generate_golden_dual.py siglip   --official <TIGER-AI-Lab/VLM2Vec v1 tree>
    python tests/parity/generate_golden_dual.py openclip --official <TIGER-AI-Lab/VLM2Vec v1 tree>

The official tree is only read (bytecode writing off); what the official scripts need to run here is
listed in golden_dual.py (hub ids resolved from a scratch hub cache; EvalDataset's model_args; get_pred
and save_results observed). Outputs go to `--out` (default tests/parity/data): `dual/mmeb/` (shared
fixture), `siglip/` or `openclip/` (weights in each library's own layout, golden.json).
Same inputs, same bytes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # never write __pycache__ into the official tree
if os.environ.get("PYTHONHASHSEED") != "0":
    # the official scripts batch a set of items: a fixed hash seed makes the batches, hence the bytes, repeatable
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
for _var, _value in (("HF_HUB_OFFLINE", "1"), ("HF_DATASETS_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                     ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_var, _value)

# a scratch hub cache (golden_dual.fake_hub puts the tiny models there), set before anything imports
# huggingface_hub; never the user's cache. Likewise a fresh datasets cache: no stale fixture is read back.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

SCRATCH = Path(tempfile.mkdtemp(prefix="parity-dual-"))
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)
tempfile.tempdir = str(SCRATCH)  # the official encode folders too
os.environ.update(HF_HOME=str(SCRATCH / "hf-home"), HF_HUB_CACHE=str(SCRATCH / "hub"),
                  HF_DATASETS_CACHE=str(SCRATCH / "datasets-cache"))

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
MODELS = ("siglip", "openclip")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=MODELS)
    parser.add_argument("--official", type=Path, required=True, help="the VLM2Vec v1 source tree (read only)")
    parser.add_argument("--commit", default="", help="the tree's commit, recorded in golden.json (default: the pinned one)")
    parser.add_argument("--out", type=Path, default=HERE / "data")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(min(4, os.cpu_count() or 1))
    module = __import__(f"golden_{args.model}")
    module.generate(args.official.resolve(), args.out.resolve(), args.commit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
