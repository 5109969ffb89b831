"""MMEB-V2's visual-document tasks (ViDoRe v1/v2 as BEIR queries/corpus/qrels, VisRAG, out-of-domain):
queries against a pool of page images, written from the corpus once."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from evaluators.models.protocol import Item
from evaluators.tasks.mmeb_v2.catalog import Hub, V2Spec
from evaluators.tasks.mmeb_v2.layout import DOC_PARTS, MissingMedia, inside, require_files, rows_of
from evaluators.tasks.mmeb_v2.records import Context, Raw, prompt
from scar.core.errors import InputFileError


def page_file(spec: V2Spec, corpus_id: str) -> str:
    """A page's file name under the task's image root: `<id>.png` (ViDoRe layout), or for VisRAG the name's
    stem cut to 50 characters, `_`, the first 8 hex digits of the name's MD5, and its extension."""
    if spec.parser != "visrag":
        return f"{corpus_id}.png"
    base, ext = os.path.splitext(corpus_id)
    return f"{base[:50]}_{hashlib.md5(corpus_id.encode('utf-8')).hexdigest()[:8]}{ext}"


def _write_page(value: Any, path: Path, file: Path, record: str) -> bool:
    """Write a corpus row's image to `path` as the official code does (decoded, saved); False if it has none."""
    data = value.get("bytes") if isinstance(value, dict) else value
    if not isinstance(data, (bytes, bytearray)):
        return False
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            path.parent.mkdir(parents=True, exist_ok=True)
            im.save(path)
    except Exception as exc:  # PIL raises many types for a bad image
        raise InputFileError(file, f"corpus image does not decode: {exc}", record=record) from None
    return True


def load_documents(ctx: Context, limit: int | None) -> list[Raw]:
    spec = ctx.spec
    hub = spec.hubs[0]
    parts = {part: require_files(spec, ctx.annotations, Hub(hub.repo, part, hub.split)) for part in DOC_PARTS}
    ctx.files += [f for files in parts.values() for f in files]
    qrels: dict[str, dict[str, float]] = {}
    for _, _, row in rows_of(parts["qrels"], ("query-id", "corpus-id", "score")):
        if row["score"] > 0:
            q, d = str(row["query-id"]), str(row["corpus-id"])
            grades = qrels.setdefault(q, {})
            grades[d] = max(grades.get(d, 0), row["score"])
    target = prompt(spec.target_instruction, visual=True)
    pages: dict[str, Item] = {}
    for file, i, row in rows_of(parts["corpus"], ("corpus-id",)):
        cid, record = str(row["corpus-id"]), f"row {i}"
        path = inside(ctx.media, page_file(spec, cid), file, record)
        try:
            if not path.is_file() and not _write_page(row.get("image"), path, file, record):
                raise MissingMedia(file, f"page not found: {path}, and the corpus row has no image to write it from",
                                   record=record)
        except MissingMedia as exc:
            if not ctx.skip_bad:
                raise
            ctx.skip(exc.reason)
            continue
        pages.setdefault(cid, Item(text=target, image=str(path)))
    raws = []
    for file, i, row in rows_of(parts["queries"], ("query-id", "query")):
        if spec.language is not None and row.get("language") != spec.language:
            continue
        if limit is not None and len(raws) >= limit:
            break
        qid = str(row["query-id"])
        grades = qrels.get(qid)
        if not grades:
            ctx.skip("query without a relevant page")
            continue
        missing = [d for d in grades if d not in pages]
        if missing:
            if not ctx.skip_bad:
                raise InputFileError(file, f"relevant page {missing[0]!r} is not in the corpus", record=f"row {i}")
            ctx.skip("relevant page not in the corpus")
            continue
        raws.append(Raw(Item(text=prompt(spec.query_instruction, row["query"])),
                        [(d, pages[d]) for d in grades], list(grades), [float(g) for g in grades.values()], qid))
    ctx.corpus = list(pages.items())
    return raws
