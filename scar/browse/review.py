"""The review file: a reviewer's accept/reject decisions per row, exported by the browser.

    {
      "format": "scar-review",
      "version": 1,
      "build": {"path": "...", "rows": 855, "site_id": "..."},      # informative only
      "decisions": {
        "demo:eval-00004:1": {"decision": "reject", "reason": "box covers two cups"},
        "demo:eval-00007:0": {"decision": "accept"}
      }
    }

`format` and `version` may be left out; a decision may also be the bare string "accept" or "reject".
Keys of `decisions` are row ids: the `id` column (`<source>:<image id>:<entity id>`, see
scar.core.schema.Entity.id), or `<file stem>:<row index>` for Parquet files without an `id` column.
`scar build --exclude FILE` drops the rows whose decision is "reject".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scar.core.errors import ScarError

FORMAT = "scar-review"
VERSION = 1
DECISIONS = ("accept", "reject")
MAX_REASON_CHARS = 2_000


def parse_review(data: Any, where: str) -> dict[str, dict[str, str]]:
    """The decisions of a review document, checked: {row id: {"decision": ..., "reason": ...}}."""
    if not isinstance(data, dict):
        raise ScarError(f"{where}: a review file must be a JSON object")
    if data.get("format", FORMAT) != FORMAT:
        raise ScarError(f"{where}: not a SCaR review file (format {data.get('format')!r}, expected {FORMAT!r})")
    if data.get("version", VERSION) != VERSION:
        raise ScarError(f"{where}: unsupported review file version {data.get('version')!r} (expected {VERSION})")
    decisions = data.get("decisions")
    if not isinstance(decisions, dict):
        raise ScarError(f"{where}: 'decisions' must be an object mapping row ids to decisions")
    out: dict[str, dict[str, str]] = {}
    for row_id, entry in decisions.items():
        if isinstance(entry, str):  # shorthand: {"id": "reject"}
            entry = {"decision": entry}
        if not row_id:
            raise ScarError(f"{where}: a decision has an empty row id")
        if not isinstance(entry, dict) or entry.get("decision") not in DECISIONS:
            raise ScarError(f"{where}: decision for {row_id!r} must be an object with \"decision\": \"accept\" or \"reject\"")
        reason = entry.get("reason", "")
        if not isinstance(reason, str):
            raise ScarError(f"{where}: reason for {row_id!r} must be a string")
        out[row_id] = {"decision": entry["decision"], "reason": reason[:MAX_REASON_CHARS]}
    return out


def read_review(path: Path) -> dict[str, dict[str, str]]:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ScarError(f"{path}: review file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScarError(f"{path}: cannot read review file ({exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ScarError(f"{path}: not valid JSON ({exc})") from None
    return parse_review(data, str(path))


def rejected_ids(decisions: dict[str, dict[str, str]]) -> dict[str, str]:
    """{row id: reason} of the rejected rows."""
    return {row_id: d["reason"] for row_id, d in decisions.items() if d["decision"] == "reject"}


def review_document(decisions: dict[str, dict[str, str]], build: dict[str, Any]) -> dict[str, Any]:
    """A review document as the browser exports it (keys sorted, so equal decisions give equal files)."""
    return {"format": FORMAT, "version": VERSION, "build": build, "decisions": dict(sorted(decisions.items()))}
