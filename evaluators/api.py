"""The Python API: evaluate a model (a registry name, a local folder, or your own embedder object)
on SCaR / MMEB tasks, and register your own embedder class under a name, without editing the package.

    import scar
    out = scar.evaluate("clip-vit-l-14+crop", tasks="scar", scar_root="build/", out="results/")
    out.records["RefCOCO+"]["precision@1"], out.summary["scar"]["overall"]

    class MyEmbedder:                      # the protocol of evaluators/protocol.py
        name = "my-model"
        def encode(self, items, batch_size): ...   # (n, d) L2-normalised torch tensor
    scar.register_embedder("my-model", lambda device, dtype, **options: MyEmbedder())
    scar.evaluate("my-model", tasks="RefCOCO+", scar_root="build/")   # `scar eval --model my-model` alike

`scar eval` runs the same code (`run_loaded`), so both write the same result files.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

import scar
from evaluators.distributed import DistContext
from evaluators.hub import check_device
from evaluators.identity import run_id
from evaluators.metrics import OFFICIAL, STRICT
from evaluators.protocol import Embedder, EmbedderInfo
from evaluators.registry import ModelSpec, load_embedder, register
from evaluators.results import check_no_other_run, run_dir, write_summary, write_task_result
from evaluators.encoding import EncodeStats
from evaluators.runner import evaluate as run_tasks
from evaluators.scoring import TaskScore
from evaluators.task_selection import load_tasks, select_tasks
from evaluators.tasks.base import LoadedTask
from evaluators.tasks.catalog import is_custom_name
from scar.errors import ScarError


@dataclass
class EvaluationOutput:
    """What one evaluation produced: a result record per task (the `<task>.json` contents), the run's
    summary (`summary.json`), where they were written, and the encoding statistics."""

    records: dict[str, dict[str, Any]]
    summary: dict[str, Any] | None
    run_dir: Path | None
    stats: EncodeStats
    scores: list[TaskScore] = field(default_factory=list, repr=False)


def _hardware(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index or 0
        return torch.cuda.get_device_name(index)
    return f"{platform.processor() or platform.machine()} CPU"


def result_record(
    score: TaskScore, embedder: Any, tie_rule: str, wall: float, limit: int | None, stats: EncodeStats, world: int,
    n_tasks: int, run: str,
) -> dict[str, Any]:
    info = embedder.info
    task = score.task.info
    return {
        "schema": "scar-result/1",
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
        "dataset_fingerprint": score.task.fingerprint,
        "data_provenance": score.task.provenance,
        "toolkit_version": scar.__version__,
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
        "batching": stats.batching,
        "run": {
            "tasks": n_tasks,
            "unique_items": stats.unique,
            "item_references": stats.references,
            "cached_items": stats.cached,
            "encoded_items": stats.encoded,
        },
    }


def run_loaded(
    embedder: Embedder,
    tasks: Sequence[LoadedTask],
    out: Path,
    *,
    tie_rule: str = OFFICIAL,
    limit: int | None = None,
    batch_size: int = 16,
    ctx: DistContext | None = None,
    skip_bad: bool = False,
    progress: bool = True,
    overwrite: bool = False,
    cache_dir: Path | None = None,
    started: float | None = None,
) -> EvaluationOutput:
    """Encode, score and write the results of loaded tasks (the rest of `scar eval`)."""
    started = time.perf_counter() if started is None else started
    ctx = ctx or DistContext()
    run = run_id(embedder.info, tie_rule, limit)
    if ctx.is_main:
        check_no_other_run(out, embedder.info.name, run, [t.name for t in tasks], embedder.info.fingerprint,
                           {t.name: t.fingerprint for t in tasks}, overwrite=overwrite)
    scores, stats = run_tasks(embedder, tasks, cache_dir or Path(out) / ".embed-cache", batch_size=batch_size,
                              tie_rule=tie_rule, ctx=ctx, skip_bad=skip_bad, progress=progress)
    if not ctx.is_main:
        return EvaluationOutput({}, None, None, stats, scores)
    wall = time.perf_counter() - started
    records = {}
    for score in scores:
        record = result_record(score, embedder, tie_rule, wall, limit, stats, ctx.world_size, len(scores), run)
        write_task_result(out, record, score.predictions)
        records[score.task.name] = record
    summary_path = write_summary(out, embedder.info.name, run)
    return EvaluationOutput(records, json.loads(summary_path.read_text(encoding="utf-8")),
                            run_dir(out, embedder.info.name, run), stats, scores)


def _as_embedder(model: Any, device: str, dtype: str | None, family: str | None, options: dict[str, Any]) -> Embedder:
    if isinstance(model, (str, Path)):
        return load_embedder(str(model), family=family, device=device, dtype=dtype, **options)
    if options:
        raise ScarError(f"model options {sorted(options)} apply to a model loaded by name, not to an embedder object")
    return with_info(model, device=device, dtype=dtype or "float32")


def with_info(embedder: Any, *, name: str | None = None, family: str = "custom", device: str = "cpu",
              dtype: str = "float32") -> Embedder:
    """Give an embedder object without an `info` (the results' model identity) a default one."""
    if not callable(getattr(embedder, "encode", None)):
        raise ScarError(f"{type(embedder).__name__} is not an embedder: it has no encode(items, batch_size)")
    if getattr(embedder, "info", None) is None:
        shown = name or getattr(embedder, "name", None) or type(embedder).__name__
        embedder.info = EmbedderInfo(name=shown, model_id=f"{type(embedder).__module__}.{type(embedder).__qualname__}",
                                     family=family, device=device, dtype=dtype)
    if not getattr(embedder, "name", None):
        embedder.name = embedder.info.name
    return embedder


def evaluate(
    model: Any,
    tasks: str | Sequence[str] = "scar",
    *,
    scar_root: str | Path | None = None,
    scar_images: str | Path | None = None,
    scar_prompt: str = "box",
    mmeb_root: str | Path | None = None,
    mmeb_images: str | Path | None = None,
    out: str | Path = "results",
    batch_size: int = 16,
    device: str | None = None,
    dtype: str | None = None,
    family: str | None = None,
    protocol: str | None = None,
    limit: int | None = None,
    strict_ties: bool = False,
    skip_bad: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    **model_options: Any,
) -> EvaluationOutput:
    """Evaluate `model` (a registry name such as "virtue-2b" or "clip-vit-l-14+crop", a local folder with
    `family`, or an embedder object) on `tasks` (as `scar eval --tasks`), writing results under `out`."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    check_device(device)
    spec = tasks if isinstance(tasks, str) else ",".join(tasks)
    root = Path(scar_root) if scar_root is not None else None
    loaded = load_tasks(select_tasks(spec, root), scar_root=root, scar_images=_path(scar_images),
                        scar_prompt=scar_prompt, mmeb_root=_path(mmeb_root), mmeb_images=_path(mmeb_images),
                        limit=limit, skip_bad=skip_bad, progress=progress)
    if protocol is not None:
        model_options["protocol"] = protocol
    embedder = _as_embedder(model, device, dtype, family, model_options)
    return run_loaded(embedder, loaded, Path(out), tie_rule=STRICT if strict_ties else OFFICIAL, limit=limit,
                      batch_size=batch_size, skip_bad=skip_bad, progress=progress, overwrite=overwrite)


def _path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


def register_embedder(name: str, factory: Callable[..., Any], *, family: str = "custom",
                      default_region: str | None = None, native_regions: Sequence[str] = (), summary: str = "") -> None:
    """Make `name` loadable by `scar.evaluate(name)` and `load_embedder(name)` (in this process).

    `factory(device=..., dtype=..., **options)` returns an embedder (a class works); options come from
    `evaluate(..., key=value)`. An embedder without `info` gets one naming it `name` (plus its region
    variant)."""

    def load(spec: ModelSpec, variant: str | None, device: str = "cpu", dtype: str = "float32",
             model_path: str | None = None, **options: Any) -> Embedder:
        if model_path is not None:
            options["model_path"] = model_path
        embedder = factory(device=device, dtype=dtype, **options)
        shown = f"{name}+{variant}" if variant else name
        embedder = with_info(embedder, name=shown, family=family, device=device, dtype=dtype)
        if variant is not None and getattr(embedder.info, "options", {}).get("variant") != variant:
            embedder.info = replace(embedder.info, options={**embedder.info.options, "variant": variant})
        return embedder

    register(ModelSpec(name=name, family=family, hf_id=name, loader=load, default_region=default_region,
                       native_regions=tuple(native_regions), summary=summary or f"user-registered ({family})"))


__all__ = ["EvaluationOutput", "evaluate", "register_embedder", "run_loaded", "result_record", "with_info"]
