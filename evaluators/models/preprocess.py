"""Image preprocessing (decode, region drawing, resize, image processor) in worker processes.

At 1344x1344 the CPU side of a Qwen2-VL image is ~0.1-0.2 s (PIL resize, normalisation and patching
of 9216 patches), longer than a GPU's forward of it: one Python process cannot keep an accelerator
fed. An embedder hands its per-picture work, a picklable `pipeline(item)` built from its current
settings, to `ImageWorkers`, which maps it over a pool of spawned processes (tensors come back
through shared memory); the runner's
prefetch thread calls the embedder's `prepare_batch` for the next batch while the model runs the
current one, so the pool works ahead of the model.

Sizing (`preprocess_workers`, a model option): "auto" = the cores this process may use, minus one
for the main process, at most `MAX_WORKERS`, on an accelerator; 0 on a CPU, where the model's own
threads already use every core (measured on 2 cores: workers there only take cores from the model,
see tests/benchmarks/bench_vs_official.py). 0 runs the pipeline inline, in the calling thread.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Sequence

MAX_WORKERS = 8


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(option: Any, device: str) -> int:
    """Workers for `option` ("auto", None or an int >= 0) on `device`."""
    if option in (None, "auto"):
        return 0 if str(device).startswith("cpu") else max(0, min(MAX_WORKERS, available_cores() - 1))
    count = int(option)
    if count < 0:
        raise ValueError(f"preprocess_workers must be >= 0 or 'auto', got {option!r}")
    return count


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)  # a worker is one core's worth of preprocessing


def _run(job: tuple[Callable[[Any], Any], Any]) -> Any:
    pipeline, item = job
    return pipeline(item)


class ImageWorkers:
    """`map(pipeline, items)` = `[pipeline(item) for item in items]`, over `count` spawned processes
    (inline at 0). The pipeline travels with each item: a settings change takes effect at once."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._pool: ProcessPoolExecutor | None = None

    def map(self, pipeline: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if self.count <= 0 or len(items) <= 1:
            return [pipeline(item) for item in items]
        if self._pool is None:
            import torch.multiprocessing  # noqa: F401  (tensors cross processes through shared memory)

            self._pool = ProcessPoolExecutor(self.count, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_init_worker)
        return list(self._pool.map(_run, [(pipeline, item) for item in items]))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __del__(self) -> None:  # a forgotten pool must not keep the interpreter from exiting
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


class UsesImageWorkers:
    """For an embedder holding `self.workers` (an ImageWorkers): how many, and stopping them."""

    workers: ImageWorkers

    @property
    def preprocess_workers(self) -> int:
        return self.workers.count

    def close(self) -> None:
        """Stop the preprocessing workers (started again if the embedder is used once more)."""
        self.workers.close()
