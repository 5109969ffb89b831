"""Result files and their aggregation (the leaderboard reuses `summarize` and `read_task_results`).

Per (model, run, task): `<out>/<model_slug>/<run id>/<task_slug>.json` (schema `scar-result/1`), with
`<task_slug>.predictions.jsonl` beside it (one line per query: its id, the candidates ranked, their
scores); per run: `<run id>/summary.json` (schema `scar-summary/1`). The run id (`evaluators.identity`)
is the model version plus the settings that make another measurement, so runs never share a file; a
different run already in a run folder (another model fingerprint or other data) is refused unless
`overwrite`. A result records its ties (`tie_rate_top`, `tie_rate_gold`, the tie-aware `expected_*`
scores, `ties_flagged`; see evaluators.metrics) and where its model fingerprint's version came from
(`fingerprint_from`). `<out>/<model_slug>/<task_slug>.json` mirrors the model's latest full run of the task
(marked `latest_of`, which readers of runs skip). All scores are fractions in 0..1.
Averages follow the official definitions: SCaR overall = mean of its 5 tasks, MMEB overall = mean of
all 36 tasks (not of the 4 meta-tasks), meta-task / IND / OOD = mean of their tasks. An average whose
tasks are not all present is null and the absent tasks are listed: never a mean of fewer.
"""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from evaluators.metrics import TIE_WARN_RATE, ties_flagged
from evaluators.tasks.catalog import ALL_TASKS, MMEB, MMEB_META_TASKS, SCAR, averaged, is_custom_name
from scar.core.errors import ScarError
from scar.core.tempfiles import atomic_write_bytes, atomic_write_json
from scar.core.version import __version__

if TYPE_CHECKING:
    from evaluators.encoding import EncodeStats
    from evaluators.scoring import TaskScore

RESULT_SCHEMA = "scar-result/1"
SUMMARY_SCHEMA = "scar-summary/1"
SUMMARY_FILE = "summary.json"

RESULT_KEYS = (
    "schema", "benchmark", "task", "meta_task", "ind", "model", "model_id", "revision", "family",
    "precision@1", "acc", "num_correct", "num_pred", "recall@5", "mrr", "tie_rule",
    "dataset_fingerprint", "toolkit_version", "device", "dtype", "wall_seconds", "limit", "protocol",
    "run_id",
)  # fmt: skip
LATEST_KEY = "latest_of"  # in a mirror of the latest run: the run id it copies
PREDICTIONS_SUFFIX = ".predictions.jsonl"


def _hardware(device: str) -> str:
    import torch  # only here: the readers of results (leaderboard, report) never load torch

    if device.startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index or 0
        return torch.cuda.get_device_name(index)
    return f"{platform.processor() or platform.machine()} CPU"


def result_record(
    score: TaskScore, embedder: Any, tie_rule: str, wall: float, limit: int | None, stats: EncodeStats, world: int,
    n_tasks: int, run: str, tie_threshold: float = TIE_WARN_RATE,
) -> dict[str, Any]:
    info = embedder.info
    task = score.task.info
    return {
        "schema": RESULT_SCHEMA,
        "run_id": run,
        "benchmark": task.benchmark,
        "task": task.name,
        "meta_task": task.meta_task,
        "custom_task": is_custom_name(task.name),
        "ind": task.ind,
        "model": info.name,
        "model_id": info.model_id,
        "revision": info.revision,
        "family": info.family,
        "protocol": info.protocol,
        **score.summary.as_dict(),
        "tie_rule": tie_rule,
        "ties_flagged": ties_flagged(score.summary, tie_threshold),
        "tie_threshold": tie_threshold,
        "tie_comparison": "exact (float32 scores as computed)",
        "dataset_fingerprint": score.task.fingerprint,
        "data_provenance": score.task.provenance,
        "toolkit_version": __version__,
        "device": info.device,
        "dtype": info.dtype,
        "wall_seconds": round(wall, 3),  # the whole run's wall time, shared by its tasks
        "limit": limit,
        # extras (not read by the leaderboard)
        "num_skipped": sum(score.skipped.values()),
        "skipped": score.skipped,
        "expected_num_queries": task.num_queries,
        "files": list(score.task.files),
        "hardware": _hardware(info.device),
        "world_size": world,
        "model_fingerprint": info.fingerprint,
        "fingerprint_from": info.fingerprint_from,
        "model_options": json.loads(json.dumps(info.options, sort_keys=True, default=str)),
        "batching": stats.batching,
        "run": {
            "tasks": n_tasks,
            "unique_items": stats.unique,
            "item_references": stats.references,
            "cached_items": stats.cached,
            "encoded_items": stats.encoded,
        },
    }


def slug(name: str) -> str:
    """File-name-safe form of a model or task name."""
    return re.sub(r"[^A-Za-z0-9._+-]", "_", name)


def model_dir(out: Path, model: str) -> Path:
    return Path(out) / slug(model)


def run_dir(out: Path, model: str, run: str) -> Path:
    return model_dir(out, model) / slug(run)


def result_path(out: Path, model: str, task: str, run: str) -> Path:
    return run_dir(out, model, run) / f"{slug(task)}.json"


def predictions_path(result: Path) -> Path:
    return result.with_name(result.name.removesuffix(".json") + PREDICTIONS_SUFFIX)


def write_json_atomic(path: Path, obj: Any) -> None:
    """Temporary name, fsync, rename (scar.core.tempfiles): a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, obj)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == RESULT_SCHEMA else None


def check_no_other_run(out: Path, model: str, run: str, tasks: Iterable[str], model_fingerprint: str,
                       dataset_fingerprints: Mapping[str, str], overwrite: bool = False) -> list[Path]:
    """Refuse (one line naming the run folder) to write into a run folder that holds another run: a
    result of any task from another model fingerprint (other weights, code, options, region variant
    or protocol), or a result of a task about to run from other data. With `overwrite`, the results
    (and predictions) of another model fingerprint are removed, so the folder's summary never mixes
    two models; they are returned."""
    folder = run_dir(out, model, run)
    wanted = set(tasks)
    other_model: list[Path] = []
    other_data: list[Path] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        old = _read(path) if path.name != SUMMARY_FILE else None
        if old is None or LATEST_KEY in old:
            continue
        if old.get("model_fingerprint") != model_fingerprint:
            other_model.append(path)
        elif old.get("task") in wanted and old.get("dataset_fingerprint") != dataset_fingerprints.get(old["task"]):
            other_data.append(path)
    if not (other_model or other_data):
        return []
    if not overwrite:
        what, first = ("model", other_model[0]) if other_model else ("data", other_data[0])
        raise ScarError(f"{folder}: holds a run with another {what} fingerprint; pass --overwrite to replace it, "
                        f"or choose another --out (first in {first.name})")
    for path in other_model:
        path.unlink(missing_ok=True)
        predictions_path(path).unlink(missing_ok=True)
    return other_model


def write_task_result(out: Path, record: Mapping[str, Any], predictions: Iterable[Mapping[str, Any]] | None = None) -> Path:
    """The task's result in its run folder (and its per-query predictions); a full run is also mirrored
    as the model's latest result of the task."""
    missing = [k for k in RESULT_KEYS if k not in record]
    if missing:
        raise ValueError(f"result record lacks {missing}")
    path = result_path(out, record["model"], record["task"], record["run_id"])
    if predictions is not None:
        write_jsonl_atomic(predictions_path(path), predictions)
    write_json_atomic(path, dict(record))
    if record.get("limit") is None:
        write_json_atomic(model_dir(out, record["model"]) / path.name, {**record, LATEST_KEY: record["run_id"]})
    return path


def write_jsonl_atomic(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = (json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows)
    atomic_write_bytes(path, "".join(lines).encode("utf-8"))


def read_task_results(directory: Path) -> list[dict[str, Any]]:
    """Every `scar-result/1` file of one run folder (mirrors of a latest run are skipped)."""
    results = []
    for path in sorted(Path(directory).glob("*.json")):
        if path.name == SUMMARY_FILE:
            continue
        data = _read(path)
        if data is not None and LATEST_KEY not in data:
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
    flagged = {r["task"]: r.get("tie_rate_top") for r in sorted(results, key=lambda r: str(r["task"]))
               if r.get("ties_flagged")}
    rules = sorted({str(r.get("tie_rule")) for r in results})
    protocols = sorted({str(r.get("protocol", "unrecorded")) for r in results})
    from evaluators.tasks.mmeb_v2.aggregate import summary_block

    return {
        "schema": SUMMARY_SCHEMA,
        "model": model,
        **aggregate({k: v for k, v in scores.items() if not k.startswith("mmeb-v2/")}),
        "mmeb-v2": summary_block(results),
        "tie_rule": rules[0] if len(rules) == 1 else ("mixed" if rules else None),
        "protocol": protocols[0] if len(protocols) == 1 else ("mixed" if protocols else None),
        "ties_flagged": flagged,  # task -> share of its queries with a tie at the top, past the run's threshold
    }


def write_summary(out: Path, model: str, run: str) -> Path:
    """Re-aggregate everything this run folder holds (earlier runs of other tasks included)."""
    directory = run_dir(out, model, run)
    path = directory / SUMMARY_FILE
    write_json_atomic(path, {**summarize(model, read_task_results(directory)), "run_id": run})
    return path
