"""Which tasks a run scores (`--tasks`) and loading them (SCaR and MMEB loaders, `--limit`, `--skip-bad`)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from tqdm.auto import tqdm

from evaluators.models.hub import require_hub_dataset
from evaluators.tasks.base import LoadedTask
from evaluators.tasks.catalog import (
    ALL_TASKS,
    MMEB,
    MMEB_SAMPLE,
    MMEB_SAMPLE_TASKS,
    SCAR,
    TaskInfo,
    averaged,
    custom_scar_task,
)
from evaluators.tasks.layout import inspect_root
from evaluators.tasks.mmeb import HUB_DATASET, check_layout, load_mmeb_task, missing_tasks
from evaluators.tasks.mmeb_sample import ensure_sample
from evaluators.tasks.mmeb_v2.catalog import GROUPS as V2_GROUPS
from evaluators.tasks.mmeb_v2.catalog import MMEB_V2, group_tasks
from evaluators.tasks.mmeb_v2.preflight import check_v2_sources
from evaluators.tasks.scar import load_scar_task
from scar.core.errors import ScarError

BUILT = "built"  # every source of the `--scar-root` build
V2_GROUP_NAMES = {f"{MMEB_V2}-{g}": g for g in V2_GROUPS}
HUB_REMEDY = "--mmeb-root DIR (a local TIGER-Lab/MMEB-eval copy), or try --tasks mmeb-sample (an offline sample)"


def select_tasks(spec: str, scar_root: Path | None = None) -> list[TaskInfo]:
    """`scar`, `mmeb`, `all` (= both averaged sets), `built` (every source of the --scar-root build),
    `mmeb-sample` (the offline MMEB sample) or comma-separated task names (case-insensitive). A source of
    the build with no task of its own (coco, refcoco, ...) is the task `<build name>/<source>`, the name
    the build recorded (scar.publish.build_identity); it may also be named by its source, or in an official-layout
    folder by its file stem."""
    chosen: list[TaskInfo] = []
    by_lower = {name.lower(): info for name, info in ALL_TASKS.items()}
    by_source = {info.source: info for info in ALL_TASKS.values() if info.source}
    root = inspect_root(scar_root)
    built = list(root.sources)

    def source_task(source: str) -> TaskInfo:
        return by_source.get(source) or custom_scar_task(root.name, source)

    aliases = {alias.lower(): source for source in built for alias in root.names_of(source)}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        low = part.lower()
        if low in (SCAR, MMEB):
            group = list(averaged(low))
        elif low == "all":
            group = [*averaged(SCAR), *averaged(MMEB)]
        elif low == MMEB_SAMPLE:
            group = list(MMEB_SAMPLE_TASKS)
        elif low == MMEB_V2 or low in V2_GROUP_NAMES:  # mmeb-v2 (78 tasks), mmeb-v2-image / -video / -visdoc
            group = list(group_tasks(V2_GROUP_NAMES.get(low)))
        elif low == BUILT:
            if not built:
                raise ScarError(f"--tasks built: no <source>/eval-*.parquet and no SCAR_*_val_filtered.parquet "
                                f"under --scar-root {scar_root}")
            group = [source_task(source) for source in built]
        elif low in by_lower:
            group = [by_lower[low]]
        elif low in aliases:
            group = [source_task(aliases[low])]
        else:
            hint = f" or a source of the build ({', '.join(built)})" if built else ""
            raise ScarError(f"unknown task {part!r}; see `scar tasks` (or use scar, mmeb, all, built, mmeb-sample, mmeb-v2, "
                           f"mmeb-v2-image, mmeb-v2-video, mmeb-v2-visdoc){hint}")
        chosen.extend(t for t in group if t not in chosen)
    if not chosen:
        raise ScarError("no tasks selected (--tasks is empty)")
    return chosen


def _check_mmeb_sources(infos: Sequence[TaskInfo], mmeb_root: Path | None) -> None:
    """Before anything loads: a local copy holds every task asked for, or the hub can be used (else one line, at once)."""
    wanted = [t for t in infos if t.benchmark == MMEB and not t.synthetic]
    if not wanted:
        return
    if mmeb_root is None:
        require_hub_dataset(HUB_DATASET, HUB_REMEDY)
        return
    check_layout(Path(mmeb_root))
    missing = missing_tasks(wanted, Path(mmeb_root))
    if missing:
        first, rest = missing[0]
        more = (f" (nor for {len(missing) - 1} more of the {len(wanted)} MMEB tasks asked for: "
                f"{', '.join(name for name, _ in missing[1:4])}{', ...' if len(missing) > 4 else ''})") if len(missing) > 1 else ""
        raise ScarError(f"MMEB task {first}: no data; expected {rest}{more}; name the tasks the copy holds with --tasks, "
                        "or use --tasks mmeb-sample for the offline sample")


def preflight(spec: str, scar_root: Path | None = None, mmeb_root: Path | None = None,
              mmeb_v2_root: Path | None = None, mmeb_v2_annotations: Path | None = None) -> list[TaskInfo]:
    """Select the tasks and check that their data can be had, before any model (or torch) is loaded: a run
    that cannot get its data fails in one line within a second (`scar eval` calls it first)."""
    infos = select_tasks(spec, scar_root)
    _check_mmeb_sources(infos, mmeb_root)
    check_v2_sources(infos, mmeb_v2_root, mmeb_v2_annotations)
    return infos


def load_tasks(
    infos: Sequence[TaskInfo],
    *,
    scar_root: Path | None = None,
    scar_images: Path | None = None,
    scar_prompt: str = "box",
    mmeb_root: Path | None = None,
    mmeb_images: Path | None = None,
    limit: int | None = None,
    skip_bad: bool = False,
    progress: bool = True,
    mmeb_v2_root: Path | None = None,
    mmeb_v2_annotations: Path | None = None,
) -> list[LoadedTask]:
    if any(t.benchmark == SCAR for t in infos) and scar_root is None:
        raise ScarError("SCaR tasks need --scar-root (a `scar build` output or the SCaR-Eval Parquet folder)")
    _check_mmeb_sources(infos, mmeb_root)
    check_v2_sources(infos, mmeb_v2_root, mmeb_v2_annotations)
    sample_root = ensure_sample() if any(t.synthetic for t in infos) else None
    loaded = []
    for info in tqdm(infos, desc="load tasks", unit="task", disable=not progress):
        if info.benchmark == SCAR:
            assert scar_root is not None
            task = load_scar_task(info, Path(scar_root), scar_images, limit=limit, skip_bad=skip_bad,
                                  prompt=scar_prompt)
        elif info.benchmark == MMEB_V2:
            from evaluators.tasks.mmeb_v2.loaders import load_v2_task

            task = load_v2_task(info, mmeb_v2_root, mmeb_v2_annotations, limit=limit, skip_bad=skip_bad)
        elif info.synthetic:
            assert sample_root is not None
            task = load_mmeb_task(info, sample_root, None, limit=limit, skip_bad=skip_bad)
        else:
            task = load_mmeb_task(info, mmeb_root, mmeb_images, limit=limit, skip_bad=skip_bad)
        if not task.queries:
            where = ", ".join(task.files) or info.name
            raise ScarError(f"{where}: task {info.name} has no usable queries")
        loaded.append(task)
    return loaded
