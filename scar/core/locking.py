"""An exclusive lock between the build workers that share one output directory.

Workers started with `--num-shards K` finish in any order and each rewrites stats.json from all shard
sidecars. Without a lock, a worker that summed the sidecars early could write its (older) sum after
another worker wrote a newer one. Under the lock, summing and writing happen together, so the last
writer has seen every shard committed before it: stats.json always describes all finished shards.
The lock is `flock` on a dot file (POSIX; on other systems the lock is a no-op).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if needed) for the `with` block."""
    if fcntl is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
