"""What a result file says about its data, for the leaderboard: which data set it was scored on (so results
of different data under one name are kept apart, evaluators.leaderboard.data_split) and its counts (for `--ci`);
and refusing a build folder given as results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scar.core.errors import ScarError

# Files that mark a folder as a `scar build` (or an export of one), not as `scar eval` results.
_BUILD_MARKERS = ("build.json", ".scar-export.json", "audit.json", "dataset_card.md")


def data_folder(results_dir: Path) -> Path | None:
    """The build or export folder at or under `results_dir`, if there is one (a stats.json beside a marker)."""
    for stats in sorted(Path(results_dir).rglob("stats.json")):
        folder = stats.parent
        if any((folder / marker).exists() for marker in _BUILD_MARKERS) or any(folder.glob("*/.build-manifest.json")):
            return folder
    return None


def refuse_data_folder(results_dir: Path) -> None:
    folder = data_folder(results_dir)
    if folder is not None:
        raise ScarError(f"{folder}: a `scar build` (or `scar export`) folder, not `scar eval` results; "
                        "pass the --out folder of `scar eval` to --results")


def data_id(doc: dict[str, Any]) -> str | None:
    """"content:<fingerprint of the rows>" (SCaR results that record it), else "file:<dataset fingerprint>"."""
    provenance = doc.get("data_provenance")
    content = provenance.get("content_fingerprint") if isinstance(provenance, dict) else None
    if isinstance(content, str) and content:
        return f"content:{content}"
    fingerprint = doc.get("dataset_fingerprint")
    return f"file:{fingerprint}" if isinstance(fingerprint, str) and fingerprint else None


def counts(doc: dict[str, Any]) -> tuple[int, int] | None:
    """(num_correct, num_pred) when both are sound counts (confidence intervals need them)."""
    correct, total = doc.get("num_correct"), doc.get("num_pred")
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (correct, total)) or not 0 <= correct <= total:
        return None
    return correct, total


def data_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """The Result fields read here."""
    return {"data_id": data_id(doc), "counts": counts(doc)}
