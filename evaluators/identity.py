"""Which run a result belongs to: the model's version (hub revision, a content hash of a local
folder, or of a custom embedder's source files) and the settings that change what is measured
(protocol, tie rule, subsample).

Results live at `<out>/<model>/<run id>/<task>.json`, so two models shown under the same name (two
local folders both called `tiny-clip`), a `--limit` smoke test and a full run never share a file.
"""

from __future__ import annotations

from pathlib import Path

from evaluators.metrics import OFFICIAL
from evaluators.models.fingerprint import directory_hash
from evaluators.models.protocol import FOLDER_HASH, OFFICIAL_PROTOCOL, SOURCE_HASH, EmbedderInfo


def model_version(info: EmbedderInfo) -> str:
    """`local-<content hash>` for a local folder, `src-<source hash>` for a custom embedder that declares
    no revision, else the revision (default `main`)."""
    if info.content_hash and info.fingerprint_from == FOLDER_HASH:
        return f"local-{info.content_hash}"
    path = Path(info.model_id)
    if path.is_dir():
        return f"local-{directory_hash(path)}"
    if info.content_hash and info.fingerprint_from == SOURCE_HASH:
        return f"src-{info.content_hash}"
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
