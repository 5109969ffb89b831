"""SCaR tasks: read a `scar build` output directory or the official SCaR-Eval Parquet files.

The query item is the image + region + the query text built exactly as the official loader
(sony/virtue `scar_image_i2t.py`) builds it; the candidates are the 10 captions, gold at index 0.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
from typing import Any, Sequence

from evaluators.models.protocol import IMAGE_TOKEN, Item
from evaluators.tasks.base import (
    LoadedTask,
    MissingImage,
    Query,
    apply_limit,
    check_candidates,
    read_columns,
    resolve_image,
)
from evaluators.tasks.catalog import TaskInfo
from evaluators.tasks.layout import inspect_root
from evaluators.tasks.provenance import SELF_BUILT, provenance
from scar.core.errors import InputFileError, ScarError
from scar.core.images_roots import images_root
from scar.core.schema import NEG_TYPES, NUM_CANDIDATES, OFFICIAL_EVAL_COLUMNS
from scar.publish.build_identity import eval_fingerprint

GOLD = "gold"  # the gold candidate's type in Query.candidate_types

_EXTENSION_COLUMNS = ("point", "mask", "id", "generator", "source", "neg_types", "category")
# Which region a query carries: the box is all the official loader reads; point and mask are the
# extension columns of a `scar build` (a row without one keeps its box); "all" passes every one.
SCAR_PROMPTS = ("box", "point", "mask", "all")


def official_query_text(qry_text: str, bbox_xywh: Sequence[Any]) -> str:
    """The official SCaR query text, with the image token left as the `<|image_1|>` placeholder.

    Mirrors: strip the token, `process_input_text("", backbone, text=..., add_image_token=True)`
    (token + " " + (" " + text)), then `.replace(" \\n", "\\n") + "\\n"` and the box as a Python list
    of corners. The box keeps the stored number type, so it prints as the official code prints it.
    """
    text = qry_text.replace(IMAGE_TOKEN, "")
    prompt = ""
    if text:
        prompt = prompt + " " + text
    prompt = IMAGE_TOKEN + " " + prompt
    prompt = prompt.replace(" \n", "\n") + "\n"
    x, y, w, h = bbox_xywh
    return f"{prompt}Referring object bbox: {[x, y, x + w, y + h]}"


def images_root_for(scar_root: Path, scar_images: Path | None, source: str | None = None) -> Path:
    """--scar-images, else the root `<scar-root>/stats.json` records for the source (relative to the
    build folder when inside it), else `<scar-root>/images` (see scar.core.images_roots)."""
    return images_root(scar_root, source, scar_images)


def task_files(info: TaskInfo, scar_root: Path) -> list[Path]:
    """The task's Parquet files: `<root>/<source>/eval-*.parquet` (scar build) or the official file."""
    built = sorted((scar_root / info.source).glob("eval-*.parquet")) if info.source else []
    if built:
        return built
    for name in info.files:
        if (scar_root / name).is_file():
            return [scar_root / name]
    expected = [str(scar_root / (info.source or "?") / "eval-*.parquet")] + [str(scar_root / f) for f in info.files]
    raise ScarError(f"SCaR task {info.name}: no data; expected {' or '.join(expected)}")


def _read_rows(path: Path) -> dict[str, list]:
    return read_columns(path, OFFICIAL_EVAL_COLUMNS, _EXTENSION_COLUMNS)


def _region(row: dict[str, Any], path: Path, record: str, prompt: str = "box") -> dict[str, Any]:
    """The query's region under `prompt` (see SCAR_PROMPTS); a prompt the row lacks falls back to its box."""
    bbox = row["bbox"]
    if not isinstance(bbox, list) or len(bbox) != 4 or any(not isinstance(v, (int, float)) for v in bbox):
        raise InputFileError(path, f"bbox must be 4 numbers (xywh), got {bbox!r}", record=record)
    x, y, w, h = bbox
    region: dict[str, Any] = {"box_xyxy": (float(x), float(y), float(x + w), float(y + h))}
    point, mask = row.get("point"), row.get("mask")
    if prompt in ("point", "all") and point is not None:
        region["point_xy"] = (float(point[0]), float(point[1]))
    if prompt in ("mask", "all") and mask is not None:
        region["mask_rle"] = ((int(mask["size"][0]), int(mask["size"][1])), str(mask["counts"]))
    if prompt in ("point", "mask") and len(region) > 1:
        del region["box_xyxy"]
    return region


def _candidate_types(neg_types: Any) -> tuple[str, ...] | None:
    """("gold", the 9 negatives' types) from a row's `neg_types`; None when the row has none or odd ones."""
    if not isinstance(neg_types, list) or len(neg_types) != NUM_CANDIDATES - 1:
        return None
    if any(t not in NEG_TYPES for t in neg_types):
        return None
    return (GOLD, *neg_types)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def load_scar_task(
    info: TaskInfo,
    scar_root: Path,
    scar_images: Path | None = None,
    limit: int | None = None,
    skip_bad: bool = False,
    prompt: str = "box",
) -> LoadedTask:
    if prompt not in SCAR_PROMPTS:
        raise ScarError(f"unknown SCaR prompt {prompt!r}; choose from {', '.join(SCAR_PROMPTS)}")
    scar_root = Path(scar_root)
    files = task_files(info, scar_root)
    root_of_images = images_root_for(scar_root, scar_images, info.source)
    content, _ = eval_fingerprint(files)
    # The rows (not the files: an export rewrites image paths and metadata), the limit and the region shown.
    fingerprint = hashlib.blake2b(repr((content, limit, prompt)).encode("utf-8"), digest_size=12).hexdigest()
    task = LoadedTask(info=info, queries=[], fingerprint=fingerprint, files=tuple(map(str, files)))
    remaining = limit
    columns: set[str] = set()
    generators: list[Any] = []
    sources: list[Any] = []
    rows = 0
    for path in files:
        cols = _read_rows(path)
        columns |= set(pq.read_schema(path).names)
        rows += len(cols["qry_text"])
        generators += cols.get("generator", [])[:1]  # a build writes one generator per file
        sources += sorted(set(cols.get("source", [])))
        n = apply_limit(len(cols["qry_text"]), remaining)
        for i in range(n):
            row = {c: v[i] for c, v in cols.items()}
            record = f"row {i}"
            qry_text, image_rel = row["qry_text"], row["qry_image_path"]
            if not isinstance(qry_text, str) or not isinstance(image_rel, str) or not image_rel:
                raise InputFileError(path, "qry_text and qry_image_path must be non-empty strings", record=record)
            candidates = check_candidates(row["tgt_text"], path, record, expected=NUM_CANDIDATES)
            if any(not isinstance(t, str) for t in candidates):
                raise InputFileError(path, "tgt_text must hold strings", record=record)
            region = _region(row, path, record, prompt)
            try:
                image = resolve_image(root_of_images, image_rel, path, record)
            except MissingImage as exc:
                if not skip_bad:
                    raise
                task.skip(exc.reason)
                continue
            query = Item(
                text=official_query_text(qry_text, row["bbox"]),
                image=image,
                instruction=qry_text.replace(IMAGE_TOKEN, "").strip(),
                **region,
            )
            task.queries.append(
                Query(item=query, candidates=tuple(Item(text=t) for t in candidates), record=f"{path} [{record}]",
                      qid=str(row.get("id") or f"{path.stem}:{i}"), candidate_types=_candidate_types(row.get("neg_types")),
                      category=_text(row.get("category")), source=_text(row.get("source")))
            )
        if remaining is not None:
            remaining -= n
            if remaining <= 0:
                break
    record = provenance(info, files, columns, rows, limit, OFFICIAL_EVAL_COLUMNS, generators, sources)
    record["content_fingerprint"] = content
    if record["kind"] == SELF_BUILT:
        record["build"] = inspect_root(scar_root).name
    task.provenance = record
    return task
