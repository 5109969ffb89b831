"""Official SCaR file names per build source.

The five SCaR sources have the release's names (`SCAR_<DS>_val_filtered.parquet` for eval,
`SCAR_<DS>.parquet` for train, DS from the task catalog); any other source (demo, coco, refcoco, a
COCO-format set) is exported under the same pattern with DS = the source name, non-alphanumerics
replaced by `_` (`my-set` -> `SCAR_my_set_val_filtered.parquet`).
"""

from __future__ import annotations

import re

from evaluators.tasks.catalog import SCAR_TASKS
from scar.errors import ScarError

EVAL_FOLDER = "SCaR-eval"  # the official eval code reads ../../data/SCaR-eval/<name>.parquet
TRAIN_FOLDER = "SCaR-train"  # the official train config: dataset_name ../../data/SCaR-train
_PREFIX, _EVAL_SUFFIX = "SCAR_", "_val_filtered.parquet"


def _official_stems() -> dict[str, str]:
    stems = {}
    for info in SCAR_TASKS:
        name = info.files[0]
        if info.source and name.startswith(_PREFIX) and name.endswith(_EVAL_SUFFIX):
            stems[info.source] = name[len(_PREFIX) : -len(_EVAL_SUFFIX)]
    return stems


OFFICIAL_STEMS: dict[str, str] = _official_stems()  # build source -> DS, e.g. "refcoco+" -> "RefCOCO_plus"


def dataset_stem(source: str) -> str:
    """DS of `source`: the release's name for the five SCaR sources, else the source name made safe."""
    if source in OFFICIAL_STEMS:
        return OFFICIAL_STEMS[source]
    stem = re.sub(r"[^A-Za-z0-9]+", "_", source).strip("_")
    if not stem:
        raise ScarError(f"source {source!r}: no usable file name")
    return stem


def is_official(source: str) -> bool:
    return source in OFFICIAL_STEMS


def eval_file(source: str) -> str:
    return f"{_PREFIX}{dataset_stem(source)}{_EVAL_SUFFIX}"


def train_file(source: str) -> str:
    return f"{_PREFIX}{dataset_stem(source)}.parquet"


def check_unique(sources: list[str]) -> None:
    """Two sources whose names map to one file name (compared case-blind, for case-blind disks) cannot share an export."""
    seen: dict[str, str] = {}
    for source in sources:
        key = dataset_stem(source).lower()
        if key in seen:
            raise ScarError(f"sources {seen[key]!r} and {source!r} would both be exported as {eval_file(source)}")
        seen[key] = source
