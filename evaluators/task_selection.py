"""Which tasks a run scores (`--tasks`) and loading them (SCaR and MMEB loaders, `--limit`, `--skip-bad`)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from tqdm.auto import tqdm

from evaluators.tasks.base import LoadedTask
from evaluators.tasks.catalog import ALL_TASKS, MMEB, SCAR, TaskInfo, averaged, custom_scar_task
from evaluators.tasks.mmeb import check_layout, load_mmeb_task
from evaluators.tasks.scar import load_scar_task
from scar.errors import ScarError


BUILT = "built"  # every source of the `--scar-root` build


def _built_sources(scar_root: Path | None) -> list[str]:
    if scar_root is None or not Path(scar_root).is_dir():
        return []
    return sorted(d.name for d in Path(scar_root).iterdir() if d.is_dir() and any(d.glob("eval-*.parquet")))


def select_tasks(spec: str, scar_root: Path | None = None) -> list[TaskInfo]:
    """`scar`, `mmeb`, `all` (= both averaged sets), `built` (every source of the --scar-root build) or
    comma-separated task names (case-insensitive). A source folder of the build with no task of its
    own (coco, refcoco, ...) is a task named `<build folder>/<source>`."""
    chosen: list[TaskInfo] = []
    by_lower = {name.lower(): info for name, info in ALL_TASKS.items()}
    by_source = {info.source: info for info in ALL_TASKS.values() if info.source}
    built = _built_sources(scar_root)
    build_name = Path(scar_root).resolve().name if scar_root is not None else ""

    def source_task(source: str) -> TaskInfo:
        return by_source.get(source) or custom_scar_task(build_name, source)

    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        low = part.lower()
        if low in (SCAR, MMEB):
            group = list(averaged(low))
        elif low == "all":
            group = [*averaged(SCAR), *averaged(MMEB)]
        elif low == BUILT:
            if not built:
                raise ScarError(f"--tasks built: no <source>/eval-*.parquet under --scar-root {scar_root}")
            group = [source_task(source) for source in built]
        elif low in by_lower:
            group = [by_lower[low]]
        elif part.rpartition("/")[2] in built and part.rpartition("/")[0] in ("", build_name):
            group = [source_task(part.rpartition("/")[2])]
        else:
            hint = f" or a source of the build ({', '.join(built)})" if built else ""
            raise ScarError(f"unknown task {part!r}; see `scar tasks` (or use scar, mmeb, all, built){hint}")
        chosen.extend(t for t in group if t not in chosen)
    if not chosen:
        raise ScarError("no tasks selected (--tasks is empty)")
    return chosen


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
) -> list[LoadedTask]:
    if any(t.benchmark == SCAR for t in infos) and scar_root is None:
        raise ScarError("SCaR tasks need --scar-root (a `scar build` output or the SCaR-Eval Parquet folder)")
    if mmeb_root is not None and any(t.benchmark == MMEB for t in infos):
        check_layout(Path(mmeb_root))
    loaded = []
    for info in tqdm(infos, desc="load tasks", unit="task", disable=not progress):
        if info.benchmark == SCAR:
            assert scar_root is not None
            task = load_scar_task(info, Path(scar_root), scar_images, limit=limit, skip_bad=skip_bad,
                                  prompt=scar_prompt)
        else:
            task = load_mmeb_task(info, mmeb_root, mmeb_images, limit=limit, skip_bad=skip_bad)
        if not task.queries:
            where = ", ".join(task.files) or info.name
            raise ScarError(f"{where}: task {info.name} has no usable queries")
        loaded.append(task)
    return loaded
