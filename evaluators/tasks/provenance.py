"""Where a task's data comes from: the official release, or a self-built benchmark.

Kinds (recorded in every result as `data_provenance`, marked on the leaderboard):
  official    the official files as released: the official file name, only the official columns
              (`qry_text`, `qry_image_path`, `tgt_text`, `bbox` for SCaR-Eval; MMEB-eval's four), and
              the release's row count (the catalog's `num_queries`). No public checksum of the
              release is known here, so each file's sha256 is recorded for a reader to compare;
  self-built  a `scar build` output (its rows name their generator and source);
  modified    files named like the release whose row count or columns differ (a re-filtered or
              self-built file under the official name): not comparable with published numbers;
  subsample   a `--limit` run of official data;
  synthetic   generated data (the offline MMEB sample, `--tasks mmeb-sample`): a smoke test, not a benchmark.
Only `official` rows may sit unmarked beside published numbers. SCaR records also carry
`content_fingerprint` (scar.publish.build_identity: the rows' ids and candidates, the same for a build, its copies
and its exports) and, for self-built data, `build` (the name the build recorded).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterable, Sequence

from evaluators.tasks.catalog import TaskInfo

OFFICIAL = "official"
SELF_BUILT = "self-built"
MODIFIED = "modified"
SUBSAMPLE = "subsample"
SYNTHETIC = "synthetic"
COMPARABLE_KINDS = (OFFICIAL,)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _generators(values: Iterable[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, dict) and value.get("name"):
            label = "/".join(str(value[k]) for k in ("name", "model", "prompt_version") if value.get(k))
            seen.setdefault(label, None)
    return list(seen)


def provenance(info: TaskInfo, files: Sequence[Path], columns: Iterable[str], rows: int, limit: int | None,
               official_columns: Sequence[str], generators: Iterable[Any] = (), sources: Iterable[Any] = ()
               ) -> dict[str, Any]:
    """The provenance record of a task read from local `files` holding `columns` and `rows` rows."""
    names = {Path(f).as_posix().split("/")[-1] for f in files}
    official_names = {Path(f).name for f in info.files}
    record: dict[str, Any] = {"rows": rows, "expected_rows": info.num_queries,
                              "files": {Path(f).name: sha256(Path(f)) for f in files}}
    built = _generators(generators)
    if built:
        source_names = sorted({str(s) for s in sources if s}) or ([info.source] if info.source else [])
        return {"kind": SELF_BUILT, "generators": built, "sources": source_names, **record}
    # A release file has a known size; a task without one (Demo, `<build>/<source>`) is never the release.
    is_official_file = bool(official_names) and names <= official_names and info.num_queries is not None
    if not is_official_file:
        return {"kind": SELF_BUILT if info.source else MODIFIED, "generators": [],
                "sources": [info.source] if info.source else [], **record}
    extra = sorted(set(columns) - set(official_columns))
    reasons = []
    if info.num_queries is not None and limit is None and rows != info.num_queries:
        reasons.append(f"{rows} rows, the release has {info.num_queries}")
    if extra:
        reasons.append(f"extra columns {', '.join(extra)}")
    if reasons:
        return {"kind": MODIFIED, "why": "; ".join(reasons), **record}
    return {"kind": SUBSAMPLE if limit is not None else OFFICIAL, **record}


def describe(record: dict[str, Any]) -> str:
    """One line for the eval's warning."""
    kind = record.get("kind")
    if kind == SELF_BUILT:
        what = ", ".join(record.get("generators") or []) or "unknown generator"
        return f"self-built data ({what}; sources {', '.join(record.get('sources') or []) or '?'})"
    if kind == MODIFIED:
        return f"not the official release ({record.get('why') or 'not named like it'})"
    if kind == SYNTHETIC:
        what = "the MMEB-V2 fixture" if record.get("layout") == "mmeb-v2" else "the offline MMEB sample"
        return f"synthetic data ({what}), a smoke test only"
    return str(kind)
