"""Official SCaR file names per build source.

The five SCaR sources have the release's names (`SCAR_<DS>_val_filtered.parquet` for eval,
`SCAR_<DS>.parquet` for train, DS from the task catalog); any other source (demo, coco, refcoco, a
COCO-format set) is exported under the same pattern with DS = the source name, non-alphanumerics
replaced by `_` (`my-set` -> `SCAR_my_set_val_filtered.parquet`).
"""

from __future__ import annotations

from evaluators.tasks.catalog import OFFICIAL_STEMS
from evaluators.tasks.catalog import dataset_stem as catalog_stem
from evaluators.tasks.catalog import official_eval_file
from scar.core.errors import ScarError

EVAL_FOLDER = "SCaR-eval"  # the official eval code reads ../../data/SCaR-eval/<name>.parquet
TRAIN_FOLDER = "SCaR-train"  # the official train config: dataset_name ../../data/SCaR-train
_PREFIX = "SCAR_"


def dataset_stem(source: str) -> str:
    """DS of `source`: the release's name for the five SCaR sources, else the source name made safe."""
    stem = catalog_stem(source)
    if not stem:
        raise ScarError(f"source {source!r}: no usable file name")
    return stem


def is_official(source: str) -> bool:
    return source in OFFICIAL_STEMS


def eval_file(source: str) -> str:
    dataset_stem(source)  # refuses a source with no usable file name
    return official_eval_file(source)


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
