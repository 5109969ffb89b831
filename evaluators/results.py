"""Result files and their aggregation (the leaderboard reuses `summarize` and `read_task_results`).

Per (model, task): `<out>/<model_slug>/<task_slug>.json` (schema `scar-result/1`); per model:
`<out>/<model_slug>/summary.json` (schema `scar-summary/1`). All scores are fractions in 0..1.
Averages follow the official definitions: SCaR overall = mean of its 5 tasks, MMEB overall = mean of
all 36 tasks (not of the 4 meta-tasks), meta-task / IND / OOD = mean of their tasks. An average whose
tasks are not all present is null and the absent tasks are listed: never a mean of fewer.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from evaluators.tasks.catalog import ALL_TASKS, MMEB, MMEB_META_TASKS, SCAR, averaged

RESULT_SCHEMA = "scar-result/1"
SUMMARY_SCHEMA = "scar-summary/1"
SUMMARY_FILE = "summary.json"

RESULT_KEYS = (
    "schema", "benchmark", "task", "meta_task", "ind", "model", "model_id", "revision", "family",
    "precision@1", "acc", "num_correct", "num_pred", "recall@5", "mrr", "tie_rule",
    "dataset_fingerprint", "toolkit_version", "device", "dtype", "wall_seconds", "limit", "protocol",
)  # fmt: skip


def slug(name: str) -> str:
    """File-name-safe form of a model or task name."""
    return re.sub(r"[^A-Za-z0-9._+-]", "_", name)


def model_dir(out: Path, model: str) -> Path:
    return Path(out) / slug(model)


def result_path(out: Path, model: str, task: str) -> Path:
    return model_dir(out, model) / f"{slug(task)}.json"


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write to a temp file in the same folder, fsync, rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_task_result(out: Path, record: Mapping[str, Any]) -> Path:
    missing = [k for k in RESULT_KEYS if k not in record]
    if missing:
        raise ValueError(f"result record lacks {missing}")
    path = result_path(out, record["model"], record["task"])
    write_json_atomic(path, dict(record))
    return path


def read_task_results(directory: Path) -> list[dict[str, Any]]:
    """Every `scar-result/1` file in one model's folder."""
    results = []
    for path in sorted(Path(directory).glob("*.json")):
        if path.name == SUMMARY_FILE:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and data.get("schema") == RESULT_SCHEMA:
            results.append(data)
    return results


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _mean_if_complete(scores: Mapping[str, float], names: Iterable[str]) -> float | None:
    names = list(names)
    if not names or any(n not in scores for n in names):
        return None
    return _mean([scores[n] for n in names])


def aggregate(scores: Mapping[str, float]) -> dict[str, Any]:
    """Task name -> precision@1 into the summary's "scar", "mmeb" and "extra" blocks."""
    scar_names = [t.name for t in averaged(SCAR)]
    mmeb_tasks = averaged(MMEB)
    mmeb_names = [t.name for t in mmeb_tasks]
    scar_missing = [n for n in scar_names if n not in scores]
    mmeb_missing = [n for n in mmeb_names if n not in scores]
    return {
        "scar": {
            "overall": _mean_if_complete(scores, scar_names),
            "tasks": {n: scores[n] for n in scar_names if n in scores},
            "missing": scar_missing,
            "complete": not scar_missing,
        },
        "mmeb": {
            "overall": _mean_if_complete(scores, mmeb_names),
            "meta": {m: _mean_if_complete(scores, [t.name for t in mmeb_tasks if t.meta_task == m]) for m in MMEB_META_TASKS},
            "IND": _mean_if_complete(scores, [t.name for t in mmeb_tasks if t.ind]),
            "OOD": _mean_if_complete(scores, [t.name for t in mmeb_tasks if not t.ind]),
            "tasks": {n: scores[n] for n in mmeb_names if n in scores},
            "missing": mmeb_missing,
            "complete": not mmeb_missing,
        },
        "extra": {
            n: v for n, v in scores.items() if n in ALL_TASKS and not ALL_TASKS[n].in_average
        },
    }


def summarize(model: str, results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The `summary.json` object of one model from its per-task result records."""
    results = [r for r in results if r.get("model") == model]
    scores = {r["task"]: float(r["precision@1"]) for r in results}
    rules = sorted({str(r.get("tie_rule")) for r in results})
    protocols = sorted({str(r.get("protocol", "unrecorded")) for r in results})
    return {
        "schema": SUMMARY_SCHEMA,
        "model": model,
        **aggregate(scores),
        "tie_rule": rules[0] if len(rules) == 1 else ("mixed" if rules else None),
        "protocol": protocols[0] if len(protocols) == 1 else ("mixed" if protocols else None),
    }


def write_summary(out: Path, model: str) -> Path:
    """Re-aggregate everything this model has under `out` (earlier runs of other tasks included)."""
    directory = model_dir(out, model)
    path = directory / SUMMARY_FILE
    write_json_atomic(path, summarize(model, read_task_results(directory)))
    return path
