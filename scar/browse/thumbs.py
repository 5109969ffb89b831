"""Thumbnails: one small JPEG per image, made once.

A thumbnail is keyed by the image's absolute path, byte size and modification time and the thumbnail
size, so a rerun reuses every thumbnail whose image did not change and makes only new ones. Regions are
not drawn into thumbnails (the page draws them), so the entities of one image share its thumbnail.
`thumbs/index.json` remembers each thumbnail's file and the original image size.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from PIL import Image
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

THUMBS_DIR = "thumbs"
INDEX_NAME = "index.json"
JPEG_QUALITY = 80


@dataclass(frozen=True)
class Thumb:
    url: str | None  # relative to the site root
    width: int | None  # the original image's size
    height: int | None
    problem: str | None = None  # why there is no thumbnail


@dataclass
class ThumbReport:
    made: int = 0
    reused: int = 0
    failed: int = 0


def _cache_key(path: Path, size: int) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return hashlib.sha1(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{size}".encode("utf-8", "surrogateescape")).hexdigest()


def _make_one(job: tuple[str, str, int]) -> tuple[int, int] | str:
    """Write one thumbnail; the original (width, height), or why it failed."""
    src, dst, size = job
    try:
        with Image.open(src) as im:
            width, height = im.size
            im.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, much faster
            rgb = im.convert("RGB")
        rgb.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
        tmp = f"{dst}.tmp-{os.getpid()}"
        rgb.save(tmp, "JPEG", quality=JPEG_QUALITY, optimize=True)
        os.replace(tmp, dst)
        return width, height
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return f"unreadable image: {type(exc).__name__}: {exc}".splitlines()[0][:200]


def _load_index(directory: Path, size: int) -> dict[str, dict]:
    try:
        data = json.loads((directory / INDEX_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("size") != size or not isinstance(data.get("entries"), dict):
        return {}
    return data["entries"]


def _map(jobs: list[tuple[str, str, int]], workers: int) -> Iterator[tuple[int, int] | str]:
    if workers <= 1 or len(jobs) < 64:
        yield from map(_make_one, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_make_one, jobs, chunksize=16)


def make_thumbnails(
    images: Iterable[Path], site: Path, size: int, workers: int = 1, progress: bool = False
) -> tuple[dict[Path, Thumb], ThumbReport]:
    """A thumbnail for each image file (missing or unreadable ones get a Thumb with its problem)."""
    directory = site / THUMBS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    cached = _load_index(directory, size)
    entries: dict[str, dict] = {}
    thumbs: dict[Path, Thumb] = {}
    report = ThumbReport()
    todo: list[tuple[Path, str, str]] = []  # image, key, file
    for image in dict.fromkeys(images):
        key = _cache_key(image, size) if image.is_file() else None
        if key is None:
            thumbs[image] = Thumb(None, None, None, "missing image")
            continue
        name = f"{key[:2]}/{key[2:22]}.jpg"
        entry = cached.get(key)
        if entry and entry.get("file") == name and (directory / name).is_file():
            entries[key] = entry
            thumbs[image] = Thumb(f"{THUMBS_DIR}/{name}", entry["w"], entry["h"])
            report.reused += 1
        else:
            todo.append((image, key, name))
    for _, _, name in todo:
        (directory / name).parent.mkdir(exist_ok=True)
    jobs = [(str(image), str(directory / name), size) for image, _, name in todo]
    bar = Progress(
        TextColumn("[bold]thumbnails"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), disable=not progress
    )
    finished = False
    try:
        with bar:
            task = bar.add_task("thumbnails", total=len(jobs))
            for (image, key, name), outcome in zip(todo, _map(jobs, workers)):
                bar.advance(task)
                if isinstance(outcome, str):
                    thumbs[image] = Thumb(None, None, None, outcome)
                    report.failed += 1
                    continue
                entries[key] = {"file": name, "w": outcome[0], "h": outcome[1]}
                thumbs[image] = Thumb(f"{THUMBS_DIR}/{name}", outcome[0], outcome[1])
                report.made += 1
        finished = True
    finally:
        if finished:  # thumbnails that no image of this run uses any more go
            _write_index(directory, size, entries)
            _prune(directory, {e["file"] for e in entries.values()})
        else:  # interrupted: keep everything made so far for the rerun
            _write_index(directory, size, {**cached, **entries})
    return thumbs, report


def _write_index(directory: Path, size: int, entries: dict[str, dict]) -> None:
    tmp = directory / f".{INDEX_NAME}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps({"size": size, "entries": dict(sorted(entries.items()))}), "utf-8")
    os.replace(tmp, directory / INDEX_NAME)


def _prune(directory: Path, keep: set[str]) -> None:
    for path in directory.glob("*/*.jpg"):
        if f"{path.parent.name}/{path.name}" not in keep:
            path.unlink(missing_ok=True)
