"""MMEB tasks (VLM2Vec v1 eval set): a local copy of TIGER-Lab/MMEB-eval or the hub through `datasets`.

Rows carry `qry_text`, `qry_img_path` ("" when none), `tgt_text` (list) and `tgt_img_path` (list, ""
for a text-only candidate); gold is index 0. Texts keep the `<|image_1|>` token: each embedder
replaces it with its own backbone's token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from evaluators.models.protocol import Item
from evaluators.tasks.base import (
    LoadedTask,
    MissingImage,
    Query,
    check_candidates,
    file_fingerprint,
    read_columns,
    resolve_image,
)
from evaluators.tasks.catalog import ALL_TASKS, MMEB, TaskInfo
from evaluators.tasks.provenance import OFFICIAL, SUBSAMPLE, SYNTHETIC, provenance
from scar.core.errors import InputFileError, ScarError

HUB_DATASET = "TIGER-Lab/MMEB-eval"
SAMPLE_GENERATOR = "evaluators/tasks/mmeb_synth.py"
COLUMNS = ("qry_text", "qry_img_path", "tgt_text", "tgt_img_path")


def images_root_for(mmeb_root: Path | None, mmeb_images: Path | None) -> Path | None:
    if mmeb_images is not None:
        return Path(mmeb_images)
    if mmeb_root is None:
        return None
    return mmeb_root / "images" if (mmeb_root / "images").is_dir() else mmeb_root


def task_folder(info: TaskInfo) -> str:
    """The subset folder of a task in an MMEB-eval copy (the sample's tasks use the folder of the task they imitate)."""
    return Path(info.files[0]).parent.as_posix() if info.files else info.name


def check_layout(mmeb_root: Path) -> None:
    """An --mmeb-root must hold at least one `<Task>/test-*.parquet` of a known MMEB task."""
    if not mmeb_root.is_dir():
        raise ScarError(f"--mmeb-root {mmeb_root}: not a directory")
    known = sorted({task_folder(t) for t in ALL_TASKS.values() if t.benchmark == MMEB})
    if not any(any((mmeb_root / name).glob("test-*.parquet")) for name in known):
        raise ScarError(
            f"--mmeb-root {mmeb_root}: not an MMEB-eval copy (expected <Task>/test-*.parquet, e.g. "
            f"{mmeb_root / 'ImageNet-1K' / 'test-00000-of-00001.parquet'})"
        )


def _expected(info: TaskInfo, mmeb_root: Path) -> Path:
    return mmeb_root / task_folder(info) / "test-*.parquet"


def missing_tasks(infos: list[TaskInfo], mmeb_root: Path) -> list[tuple[str, Path]]:
    """(task, the files expected) for each task the copy has no data for, in the given order."""
    return [(t.name, _expected(t, mmeb_root)) for t in infos if not any((mmeb_root / task_folder(t)).glob("test-*.parquet"))]


def task_files(info: TaskInfo, mmeb_root: Path) -> list[Path]:
    files = sorted((mmeb_root / task_folder(info)).glob("test-*.parquet"))
    if not files:
        raise ScarError(f"MMEB task {info.name}: no data; expected {_expected(info, mmeb_root)}")
    return files


def _local_rows(path: Path) -> Iterable[dict[str, Any]]:
    cols = read_columns(path, COLUMNS)
    for i in range(len(cols[COLUMNS[0]])):
        yield {c: cols[c][i] for c in COLUMNS}


def _hub_rows(name: str) -> tuple[Iterable[dict[str, Any]], str]:
    import datasets

    try:
        ds = datasets.load_dataset(HUB_DATASET, name, split="test")
    except Exception as exc:  # offline, unknown subset, ...
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ScarError(f"MMEB task {name}: cannot load {HUB_DATASET} from the hub ({why}); pass --mmeb-root DIR "
                        "(a local copy), or try --tasks mmeb-sample (an offline sample)") from None
    return ds, str(getattr(ds, "_fingerprint", ""))


def _query(
    row: dict[str, Any], images_root: Path | None, where: Path | str, record: str,
    seen: dict[tuple[str, Any], Item] | None = None,
) -> Query:
    """One row as a Query. `seen` interns the task's items: a candidate repeated in every row (a label
    set, a shared pool) is one Item, its image checked and its key computed once."""
    seen = {} if seen is None else seen

    def image(rel: Any) -> str | None:
        if rel is None or rel == "":
            return None
        if not isinstance(rel, str):
            raise InputFileError(where, f"image path must be a string, got {rel!r}", record=record)
        if images_root is None:
            raise ScarError(f"{where} [{record}]: MMEB images needed; pass --mmeb-images")
        return resolve_image(images_root, rel, Path(str(where)), record)

    def item(text: Any, rel: Any) -> Item:
        found = seen.get((text, rel)) if isinstance(rel, (str, type(None))) else None
        if found is None:
            found = Item(text=text or "", image=image(rel))
            if isinstance(rel, (str, type(None))):
                seen[(text, rel)] = found
        return found

    texts = check_candidates(row["tgt_text"], where, record)
    paths = row["tgt_img_path"]
    if not isinstance(paths, list) or len(paths) != len(texts):
        n = len(paths) if isinstance(paths, list) else paths
        raise InputFileError(where, f"ragged candidates: {len(texts)} tgt_text vs {n} tgt_img_path", record=record)
    qry_text = row["qry_text"] or ""
    return Query(
        item=Item(text=qry_text, image=image(row["qry_img_path"])),
        candidates=tuple(item(t, p) for t, p in zip(texts, paths)),
        record=f"{where} [{record}]",
    )


def load_mmeb_task(
    info: TaskInfo,
    mmeb_root: Path | None,
    mmeb_images: Path | None = None,
    limit: int | None = None,
    skip_bad: bool = False,
) -> LoadedTask:
    images_root = images_root_for(mmeb_root, mmeb_images)
    if mmeb_root is not None:
        files = task_files(info, Path(mmeb_root))
        sources: list[tuple[Path | str, Iterable[dict[str, Any]]]] = [(f, _local_rows(f)) for f in files]
        fingerprint = file_fingerprint(files, limit)
        file_names = tuple(map(str, files))
    else:
        rows, hub_fp = _hub_rows(info.name)
        sources = [(f"{HUB_DATASET}/{info.name}", rows)]
        fingerprint = f"hub:{hub_fp}:{limit}"
        file_names = (f"hf://{HUB_DATASET}/{info.name}",)
    task = LoadedTask(info=info, queries=[], fingerprint=fingerprint, files=file_names)
    taken = 0
    seen: dict[tuple[str, Any], Item] = {}
    for where, rows in sources:
        for i, row in enumerate(rows):
            if limit is not None and taken >= limit:
                break
            taken += 1
            try:
                task.queries.append(_query(row, images_root, where, f"row {i}", seen))
            except MissingImage as exc:
                if not skip_bad:
                    raise
                task.skip(exc.reason)
    if mmeb_root is not None:
        import pyarrow.parquet as pq

        columns = {c for f in files for c in pq.read_schema(f).names}
        rows = sum(pq.read_metadata(f).num_rows for f in files)
        task.provenance = provenance(info, files, columns, rows, limit, COLUMNS)
        if info.synthetic:
            task.provenance = {**task.provenance, "kind": SYNTHETIC, "generator": SAMPLE_GENERATOR}
    else:
        task.provenance = {"kind": OFFICIAL if limit is None else SUBSAMPLE, "files": list(file_names)}
    return task
