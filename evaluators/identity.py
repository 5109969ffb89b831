"""Which run a result belongs to: the model's version (hub revision, or a content hash of a local
folder) and the settings that change what is measured (protocol, tie rule, subsample).

Results live at `<out>/<model>/<run id>/<task>.json`, so two models shown under the same name (two
local folders both called `tiny-clip`), a `--limit` smoke test and a full run never share a file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from evaluators.metrics import OFFICIAL
from evaluators.protocol import OFFICIAL_PROTOCOL, EmbedderInfo

WHOLE_FILE_LIMIT = 8 << 20  # bigger files are hashed by size, head and tail (weights: GBs)
EDGE_BYTES = 1 << 20


def directory_hash(root: Path) -> str:
    """A content hash of a model folder: every file's relative path and bytes (large files: size,
    first and last MiB), hidden entries skipped. Stable across copies and machines."""
    h = hashlib.blake2b(digest_size=6)
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(f for f in filenames if not f.startswith(".")):
            path = Path(dirpath) / name
            try:
                size = path.stat().st_size
                h.update(f"{path.relative_to(root).as_posix()}\0{size}\0".encode("utf-8"))
                with open(path, "rb") as f:
                    if size <= WHOLE_FILE_LIMIT:
                        h.update(f.read())
                    else:
                        h.update(f.read(EDGE_BYTES))
                        f.seek(size - EDGE_BYTES)
                        h.update(f.read(EDGE_BYTES))
            except OSError:
                continue
    return h.hexdigest()


def model_version(info: EmbedderInfo) -> str:
    """`local-<content hash>` for a local folder, else the hub revision (default `main`)."""
    path = Path(info.model_id)
    if path.is_dir():
        return f"local-{directory_hash(path)}"
    return info.revision or "main"


def run_id(info: EmbedderInfo, tie_rule: str = OFFICIAL, limit: int | None = None, version: str | None = None) -> str:
    """The run folder name: the model version, then each setting that makes it another measurement."""
    parts = [version or model_version(info)]
    if info.protocol != OFFICIAL_PROTOCOL:
        parts.append(info.protocol)
    if tie_rule != OFFICIAL:
        parts.append(f"{tie_rule}-ties")
    if limit is not None:
        parts.append(f"limit{limit}")
    return "-".join(parts)
