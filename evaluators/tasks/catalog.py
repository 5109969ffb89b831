"""Declarative metadata of every task: name, benchmark, meta-task, IND/OOD, expected sizes.

The single source of truth for task names; the evaluators and the leaderboard both read it.
"""

from __future__ import annotations

import re

from evaluators.tasks.info import TaskInfo

SCAR = "scar"
MMEB = "mmeb"

MMEB_META_TASKS = ("Classification", "VQA", "Retrieval", "Grounding")


def _mmeb(name: str, meta: str, ind: bool, n_cand: int = 1000) -> TaskInfo:
    return TaskInfo(
        name=name,
        benchmark=MMEB,
        meta_task=meta,
        ind=ind,
        num_queries=1000,
        num_candidates=n_cand,
        files=(f"{name}/test-00000-of-00001.parquet",),
    )


OFFICIAL_EVAL_PREFIX, OFFICIAL_EVAL_SUFFIX = "SCAR_", "_val_filtered.parquet"


def _scar(name: str, official_stem: str, source: str, n: int) -> TaskInfo:
    return TaskInfo(
        name=name,
        benchmark=SCAR,
        num_queries=n,
        num_candidates=10,
        files=(f"{OFFICIAL_EVAL_PREFIX}{official_stem}{OFFICIAL_EVAL_SUFFIX}",),
        source=source,
    )


SCAR_TASKS: tuple[TaskInfo, ...] = (
    _scar("RefCOCO+", "RefCOCO_plus", "refcoco+", 2764),
    _scar("RefCOCOg", "RefCOCOg", "refcocog", 1539),
    _scar("VisualGenome", "VisualGenome", "vg", 15571),
    _scar("COCO-Stuff", "COCO_Stuff", "cocostuff", 17903),
    _scar("ADE20K", "ADE20K", "ade20k", 9368),
)

_CLS = "Classification"
_VQA = "VQA"
_RET = "Retrieval"
_GRD = "Grounding"

MMEB_TASKS: tuple[TaskInfo, ...] = (
    _mmeb("ImageNet-1K", _CLS, True, 1000),
    _mmeb("N24News", _CLS, True, 24),
    _mmeb("HatefulMemes", _CLS, True, 2),
    _mmeb("VOC2007", _CLS, True, 20),
    _mmeb("SUN397", _CLS, True, 397),
    _mmeb("Place365", _CLS, False, 365),
    _mmeb("ImageNet-A", _CLS, False, 1000),
    _mmeb("ImageNet-R", _CLS, False, 200),
    _mmeb("ObjectNet", _CLS, False, 313),
    _mmeb("Country211", _CLS, False, 211),
    _mmeb("OK-VQA", _VQA, True),
    _mmeb("A-OKVQA", _VQA, True),
    _mmeb("DocVQA", _VQA, True),
    _mmeb("InfographicsVQA", _VQA, True),
    _mmeb("ChartQA", _VQA, True),
    _mmeb("Visual7W", _VQA, True),
    _mmeb("ScienceQA", _VQA, False),
    _mmeb("VizWiz", _VQA, False),
    _mmeb("GQA", _VQA, False),
    _mmeb("TextVQA", _VQA, False),
    _mmeb("VisDial", _RET, True),
    _mmeb("CIRR", _RET, True),
    _mmeb("VisualNews_t2i", _RET, True),
    _mmeb("VisualNews_i2t", _RET, True),
    _mmeb("MSCOCO_t2i", _RET, True),
    _mmeb("MSCOCO_i2t", _RET, True),
    _mmeb("NIGHTS", _RET, True),
    _mmeb("WebQA", _RET, True),
    _mmeb("FashionIQ", _RET, False),
    _mmeb("Wiki-SS-NQ", _RET, False),
    _mmeb("OVEN", _RET, False),
    _mmeb("EDIS", _RET, False),
    _mmeb("MSCOCO", _GRD, True),
    _mmeb("RefCOCO", _GRD, False),
    _mmeb("RefCOCO-Matching", _GRD, False),
    _mmeb("Visual7W-Pointing", _GRD, False),
)

# Runnable, but belongs to no average.
MMEB_EXTRA_TASKS: tuple[TaskInfo, ...] = (
    TaskInfo(
        name="CIFAR-100",
        benchmark=MMEB,
        meta_task=_CLS,
        ind=False,
        num_queries=1000,
        num_candidates=100,
        in_average=False,
        files=("CIFAR-100/test-00000-of-00001.parquet",),
    ),
)

OFFICIAL_STEMS: dict[str, str] = {  # build source -> DS of the release's file name, e.g. "refcoco+" -> "RefCOCO_plus"
    t.source: t.files[0][len(OFFICIAL_EVAL_PREFIX):-len(OFFICIAL_EVAL_SUFFIX)] for t in SCAR_TASKS if t.source
}


def dataset_stem(source: str) -> str:
    """DS of `source` in `SCAR_<DS>_val_filtered.parquet`: the release's name for the five SCaR sources, else
    the source name with every run of non-alphanumerics as `_` ("" when nothing is left)."""
    if source in OFFICIAL_STEMS:
        return OFFICIAL_STEMS[source]
    return re.sub(r"[^A-Za-z0-9]+", "_", source).strip("_")


def official_eval_file(source: str) -> str:
    """The official-layout eval file of a build source (`scar export --layout official`)."""
    return f"{OFFICIAL_EVAL_PREFIX}{dataset_stem(source)}{OFFICIAL_EVAL_SUFFIX}"


# The embedded demo source's eval split: SCaR-shaped, for trying the toolkit anywhere; never averaged.
SCAR_EXTRA_TASKS: tuple[TaskInfo, ...] = (
    TaskInfo(name="Demo", benchmark=SCAR, num_candidates=10, in_average=False, source="demo",
             files=(official_eval_file("demo"),)),
)

# The offline MMEB sample (`--tasks mmeb-sample`): a small synthetic copy of ten MMEB tasks, written by
# evaluators/tasks/mmeb_synth.py; each named after the task it imitates and kept out of every average.
MMEB_SAMPLE = "mmeb-sample"
MMEB_SAMPLE_PREFIX = f"{MMEB_SAMPLE}/"
MMEB_SAMPLE_QUERIES = 8
_SAMPLED = ("ImageNet-1K", "N24News", "VOC2007", "OK-VQA", "GQA", "DocVQA", "MSCOCO_i2t", "MSCOCO_t2i",
            "VisualNews_t2i", "RefCOCO")


def _sample(of: TaskInfo) -> TaskInfo:
    return TaskInfo(name=MMEB_SAMPLE_PREFIX + of.name, benchmark=MMEB, meta_task=of.meta_task, ind=of.ind,
                    num_queries=MMEB_SAMPLE_QUERIES, in_average=False, files=of.files, synthetic=True)


MMEB_SAMPLE_TASKS: tuple[TaskInfo, ...] = tuple(_sample(t) for t in MMEB_TASKS if t.name in _SAMPLED)

from evaluators.tasks.mmeb_v2.catalog import MMEB_V2, MMEB_V2_TASKS  # noqa: E402 (its tasks are TaskInfos)

ALL_TASKS: dict[str, TaskInfo] = {
    t.name: t for t in (*SCAR_TASKS, *SCAR_EXTRA_TASKS, *MMEB_TASKS, *MMEB_EXTRA_TASKS, *MMEB_SAMPLE_TASKS,
                        *MMEB_V2_TASKS)
}
BOARDS = {MMEB: "mmeb-v1", MMEB_V2: MMEB_V2, SCAR: SCAR}  # `scar tasks` lists each benchmark under its board name


def custom_scar_task(build: str, source: str) -> TaskInfo:
    """A SCaR-shaped task over the eval split a `scar build` wrote for a source with no task of its own
    (coco, refcoco, any COCO-format set): named `<build name>/<source>` (the name the build recorded,
    scar.publish.build_identity), read from `<source>/eval-*.parquet` or its official-layout export; never averaged."""
    stem = dataset_stem(source)
    return TaskInfo(name=f"{build}/{source}", benchmark=SCAR, num_candidates=10, in_average=False, source=source,
                    files=(official_eval_file(source),) if stem else ())


def is_custom_name(name: str) -> bool:
    return "/" in name and name not in ALL_TASKS


def lookup(name: str, benchmark: str | None = None) -> TaskInfo | None:
    """A catalog task, or (for a `<build>/<source>` name on SCaR) the custom task it names."""
    if name in ALL_TASKS:
        return ALL_TASKS[name]
    if benchmark in (None, SCAR) and is_custom_name(name):
        build, _, source = name.rpartition("/")
        return custom_scar_task(build, source) if build and source else None
    return None


def task(name: str) -> TaskInfo:
    try:
        return ALL_TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}") from None


def averaged(benchmark: str) -> tuple[TaskInfo, ...]:
    return tuple(t for t in ALL_TASKS.values() if t.benchmark == benchmark and t.in_average)


assert len(MMEB_SAMPLE_TASKS) == len(_SAMPLED)
assert len(MMEB_TASKS) == 36 and sum(t.ind for t in MMEB_TASKS) == 20
assert [sum(t.meta_task == m for t in MMEB_TASKS) for m in MMEB_META_TASKS] == [10, 10, 12, 4]
