"""The GPU benchmark (tests/benchmarks/bench_models_gpu.py) still runs, so the first task lent a GPU can use
it as is: its `--tiny` mode builds both embedders at tiny dims on the CPU, times every item kind and prints
the projection of a full 5 SCaR + 36 MMEB evaluation."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "benchmarks" / "bench_models_gpu.py"


@pytest.mark.parametrize("model", ["vlm2vec", "virtue"])
def test_gpu_benchmark_runs_in_tiny_mode(model):
    done = subprocess.run([sys.executable, str(SCRIPT), "--tiny", "--items", "4", "--model", model],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for kind in ("scar_query", "image", "text"):
        assert re.search(rf"^\s+{kind}\s+[\d.]+ items/s", out, re.M), (kind, out)
    total = re.search(r"^\s+total\s+([\d,]+) items\s+([\d.]+) h", out, re.M)
    assert total and int(total.group(1).replace(",", "")) > 0, out
