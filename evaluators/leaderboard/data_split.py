"""Results of different data under one task name are kept apart, never averaged or compared as one.

Each result names its data: SCaR results the content fingerprint of their rows (scar.publish.build_identity, the
same for a build, its copies and its exports); others their dataset fingerprint (file contents; it
includes `--limit`, so it is compared only between results of the same limit). Results of the official
release count as one data set whatever their fingerprints (the provenance check already made sure of
the files). When one task name holds several data sets, each is shown as its own column,
`<task>@<first 8 characters of its fingerprint>`, and a warning says so; the release (and any result
with the fingerprint of a release result), when it is one of them, keeps the plain name (and its place
in the averages). A column `<task>@...` belongs to no average.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence, TypeVar

from evaluators.leaderboard.model import SPLIT_MARK

RELEASE = "release"
_RELEASE_KINDS = ("official", "subsample")
_UNKNOWN = "unknown"

R = TypeVar("R")  # measured.Result (kept generic: this module must not import its reader)


def data_label(data_id: str | None) -> str:
    return (data_id or _UNKNOWN).split(":", 1)[-1][:8]


def _version(result, release_ids: set[str]) -> str:
    if result.data in _RELEASE_KINDS or result.data_id in release_ids:
        return RELEASE
    return result.data_id or _UNKNOWN


def _group_key(result) -> tuple[str, int | None]:
    """Results compared with each other: a task, and (without a content fingerprint) one limit."""
    by_content = (result.data_id or "").startswith("content:")
    return result.task, (None if by_content or result.data in _RELEASE_KINDS else result.limit)


def split_by_data(results: Sequence[R]) -> tuple[list[R], list[tuple[str, str]]]:
    """The results with the task of each non-release version renamed when a task holds several versions,
    and one (benchmark, warning) per such task."""
    groups: dict[tuple[str, int | None], set[str]] = {}
    benchmarks: dict[str, str] = {}
    release_ids = {r.data_id for r in results if r.data in _RELEASE_KINDS and r.data_id}
    for result in results:
        groups.setdefault(_group_key(result), set()).add(_version(result, release_ids))
        benchmarks[result.task] = result.benchmark
    renamed: list[R] = []
    warnings: list[tuple[str, str]] = []
    for key in sorted((k for k, v in groups.items() if len(v) > 1), key=lambda k: (k[0], -1 if k[1] is None else k[1])):
        versions = sorted(groups[key])
        shown = [RELEASE if v == RELEASE else data_label(v) for v in versions]
        limit = "" if key[1] is None else f" (--limit {key[1]})"
        warnings.append((benchmarks[key[0]],
            f"task {key[0]}{limit}: results on {len(versions)} different data sets ({', '.join(shown)}) under one name; "
            f"shown as separate columns {', '.join(key[0] if s == RELEASE else f'{key[0]}{SPLIT_MARK}{s}' for s in shown)}, "
            "never averaged together"
        ))
    split = {k for k, v in groups.items() if len(v) > 1}
    for result in results:
        version = _version(result, release_ids)
        if _group_key(result) in split and version != RELEASE:
            result = replace(result, task=f"{result.task}{SPLIT_MARK}{data_label(version)}")
        renamed.append(result)
    return renamed, warnings


def base_task(column: str) -> str:
    """The task a (possibly split) column belongs to."""
    return column.split(SPLIT_MARK, 1)[0]
