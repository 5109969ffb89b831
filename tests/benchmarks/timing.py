"""Wall time of encoding a list of items, the device synchronised around it (shared by the model benchmarks)."""

from __future__ import annotations

import time
from typing import Any, Sequence

import torch


def time_encode(embedder: Any, items: Sequence[Any], batch_size: int, device: str, warm: bool = True) -> float:
    """Seconds `embedder.encode(items, batch_size)` takes; `warm`: one batch first, untimed."""
    if warm:
        embedder.encode(items[:batch_size], batch_size)  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    embedder.encode(items, batch_size)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start
