"""The Python API: evaluate a model (a registry name, a local folder, or your own embedder object)
on SCaR / MMEB tasks, and register your own embedder class under a name, without editing the package.

    import scar
    out = scar.evaluate("clip-vit-l-14+crop", tasks="scar", scar_root="build/", out="results/")
    out.records["RefCOCO+"]["precision@1"], out.summary["scar"]["overall"]

    class MyEmbedder:                      # the protocol of evaluators/models/protocol.py
        name = "my-model"
        revision = "v1"                    # optional: else a hash of this class's source file
        def encode(self, items, batch_size): ...   # (n, d) L2-normalised torch tensor
    scar.register_embedder("my-model", MyEmbedder)
    scar.evaluate("my-model", tasks="RefCOCO+", scar_root="build/")   # `scar eval --model my-model` alike

`scar eval` runs the same code (`run_loaded`), so both write the same result files. How a factory is
called and how a custom model's identity (fingerprint) is made: evaluators/models/custom.py.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from evaluators.analysis import annotate
from evaluators.distributed import DistContext
from evaluators.encoding import EncodeStats
from evaluators.identity import run_id
from evaluators.metrics import OFFICIAL, STRICT, TIE_WARN_RATE, tie_warning
from evaluators.models.custom import CUSTOM_FAMILY, factory_loader, finish_info
from evaluators.models.hub import check_device
from evaluators.models.protocol import Embedder
from evaluators.models.registry import load_embedder, register
from evaluators.models.spec import ModelSpec
from evaluators.results import check_no_other_run, result_record, run_dir, write_summary, write_task_result
from evaluators.runner import evaluate as run_tasks
from evaluators.scoring import TaskScore
from evaluators.task_selection import load_tasks, select_tasks
from evaluators.tasks.base import LoadedTask
from scar.core.errors import ScarError


@dataclass
class EvaluationOutput:
    """What one evaluation produced: a result record per task (the `<task>.json` contents), the run's
    summary (`summary.json`), where they were written, and the encoding statistics."""

    records: dict[str, dict[str, Any]]
    summary: dict[str, Any] | None
    run_dir: Path | None
    stats: EncodeStats
    scores: list[TaskScore] = field(default_factory=list, repr=False)


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
    tie_threshold: float = TIE_WARN_RATE,
) -> EvaluationOutput:
    """Encode, score and write the results of loaded tasks (the rest of `scar eval`). A task whose top
    score is shared in more than `tie_threshold` of its queries gets a one-line warning on stderr and
    `ties_flagged` in its result."""
    if not 0 <= tie_threshold <= 1:
        raise ScarError(f"the tie threshold is a fraction in [0, 1], got {tie_threshold}")
    started = time.perf_counter() if started is None else started
    ctx = ctx or DistContext()
    run = run_id(embedder.info, tie_rule, limit)
    if ctx.is_main:
        removed = check_no_other_run(out, embedder.info.name, run, [t.name for t in tasks], embedder.info.fingerprint,
                                     {t.name: t.fingerprint for t in tasks}, overwrite=overwrite)
        if removed:
            print(f"--overwrite: removed {len(removed)} result(s) of another model fingerprint from "
                  f"{run_dir(out, embedder.info.name, run)}", file=sys.stderr)
    scores, stats = run_tasks(embedder, tasks, cache_dir or Path(out) / ".embed-cache", batch_size=batch_size,
                              tie_rule=tie_rule, ctx=ctx, skip_bad=skip_bad, progress=progress)
    if not ctx.is_main:
        return EvaluationOutput({}, None, None, stats, scores)
    wall = time.perf_counter() - started
    records = {}
    for score in scores:
        record = result_record(score, embedder, tie_rule, wall, limit, stats, ctx.world_size, len(scores), run,
                               tie_threshold)
        annotate(score, record)  # error analysis: what beat the gold, by type, category and source; P@1's CI
        write_task_result(out, record, score.predictions)
        records[score.task.name] = record
        if record["ties_flagged"]:
            print(tie_warning(embedder.info.name, score.task.name, score.summary, tie_threshold), file=sys.stderr)
    summary_path = write_summary(out, embedder.info.name, run)
    return EvaluationOutput(records, json.loads(summary_path.read_text(encoding="utf-8")),
                            run_dir(out, embedder.info.name, run), stats, scores)


def _as_embedder(model: Any, device: str, dtype: str | None, family: str | None, options: dict[str, Any]) -> Embedder:
    if isinstance(model, (str, Path)):
        return load_embedder(str(model), family=family, device=device, dtype=dtype, **options)
    if options:
        raise ScarError(f"model options {sorted(options)} apply to a model loaded by name, not to an embedder object")
    return finish_info(model, family=family or CUSTOM_FAMILY, device=device, dtype=dtype or "float32")


def with_info(embedder: Any, *, name: str | None = None, family: str = CUSTOM_FAMILY, device: str = "cpu",
              dtype: str = "float32") -> Embedder:
    """Give an embedder object its results' model identity (a default `info` when it has none; its
    revision, else its source hash, in the fingerprint: evaluators.models.custom.finish_info)."""
    return finish_info(embedder, name=name, family=family, device=device, dtype=dtype)


def evaluate(
    model: Any,
    tasks: str | Sequence[str] = "scar",
    *,
    scar_root: str | Path | None = None,
    scar_images: str | Path | None = None,
    scar_prompt: str = "box",
    mmeb_root: str | Path | None = None,
    mmeb_images: str | Path | None = None,
    mmeb_v2_root: str | Path | None = None,
    mmeb_v2_annotations: str | Path | None = None,
    out: str | Path = "results",
    batch_size: int = 16,
    device: str | None = None,
    dtype: str | None = None,
    family: str | None = None,
    protocol: str | None = None,
    limit: int | None = None,
    strict_ties: bool = False,
    tie_threshold: float = TIE_WARN_RATE,
    skip_bad: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    **model_options: Any,
) -> EvaluationOutput:
    """Evaluate `model` (a registry name such as "virtue-2b" or "clip-vit-l-14+crop", a local folder with
    `family`, "package.module:Factory", or an embedder object) on `tasks` (as `scar eval --tasks`),
    writing results under `out`; other keywords are the model's loader options."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    check_device(device)
    spec = tasks if isinstance(tasks, str) else ",".join(tasks)
    root = Path(scar_root) if scar_root is not None else None
    loaded = load_tasks(select_tasks(spec, root), scar_root=root, scar_images=_path(scar_images),
                        scar_prompt=scar_prompt, mmeb_root=_path(mmeb_root), mmeb_images=_path(mmeb_images),
                        limit=limit, skip_bad=skip_bad, progress=progress, mmeb_v2_root=_path(mmeb_v2_root),
                        mmeb_v2_annotations=_path(mmeb_v2_annotations))
    if protocol is not None:
        model_options["protocol"] = protocol
    embedder = _as_embedder(model, device, dtype, family, model_options)
    return run_loaded(embedder, loaded, Path(out), tie_rule=STRICT if strict_ties else OFFICIAL, limit=limit,
                      batch_size=batch_size, skip_bad=skip_bad, progress=progress, overwrite=overwrite,
                      tie_threshold=tie_threshold)


def _path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


def register_embedder(name: str, factory: Callable[..., Any], *, family: str = CUSTOM_FAMILY, revision: str = "",
                      default_region: str | None = None, native_regions: Sequence[str] = (), summary: str = "") -> None:
    """Make `name` loadable by `scar.evaluate(name)`, `load_embedder(name)` and, from a file given to
    `--include`, `scar eval --model name` (in this process).

    `factory(device=..., dtype=..., region_variant=..., **options)` returns an embedder (a class works);
    options come from `evaluate(..., key=value)` or `--model-option key=value`, and it is given only the
    arguments it takes (evaluators/models/custom.py). An embedder without `info` gets one naming it `name` (plus
    its region variant). `revision` versions it; without one, its source files' hash does."""
    register(ModelSpec(name=name, family=family, hf_id=name, revision=revision,
                       loader=factory_loader(factory, name, family), default_region=default_region,
                       native_regions=tuple(native_regions), summary=summary or f"user-registered ({family})"),
             as_family=False)


__all__ = ["EvaluationOutput", "evaluate", "register_embedder", "run_loaded", "result_record", "with_info"]
