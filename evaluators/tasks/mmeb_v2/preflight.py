"""Before anything loads: the MMEB-V2 tasks asked for have their annotations (one line, at once, else)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from evaluators.tasks.catalog import TaskInfo
from evaluators.tasks.mmeb_v2.catalog import MMEB_V2, spec_of
from evaluators.tasks.mmeb_v2.layout import ANNOTATIONS, check_root, missing_annotations
from scar.core.errors import ScarError


def check_v2_sources(infos: Sequence[TaskInfo], root: Path | None, annotations: Path | None = None) -> None:
    wanted = [spec_of(t) for t in infos if t.benchmark == MMEB_V2]
    if not wanted:
        return
    root = check_root(root)
    folder = Path(annotations) if annotations is not None else root / ANNOTATIONS
    missing = missing_annotations(wanted, folder)
    if missing:
        (first, where), rest = missing[0], missing[1:]
        more = (f" (nor for {len(rest)} more of the {len(wanted)} MMEB-V2 tasks asked for: "
                f"{', '.join(n for n, _ in rest[:4])}{', ...' if len(rest) > 4 else ''})") if rest else ""
        raise ScarError(f"MMEB-V2 task {first}: no annotations; expected {where}{more}; download them as the README "
                        "says ('MMEB-V2 data'), or name the tasks you have with --tasks")
