"""Write the browser site: the page (package data), the row data in chunks, the index, thumbnails.

The site works from file:// (no server): data are JavaScript files calling a global loader
(`SCAR.meta(...)`, `SCAR.index(...)`, `SCAR.chunk(k, [...])`), since browsers block fetch() of
local JSON. The page loads `meta.js` and `index.js` (a few short columns per row, for filtering,
search and paging) at once, and a chunk of full rows only when a page shows one of its rows.

    SITE/index.html, SITE/assets/  region.js (drawing regions), review.js (decisions), app.js (the page)
    SITE/data/meta.js      build info, facet values, rejection examples
    SITE/data/index.js     per row: id, source, split, category, generator, negative types, flags, search text
    SITE/data/chunk-NNNNN.js  `chunk_rows` full rows each
    SITE/thumbs/           one JPEG per image (see thumbs.py)
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from scar.browse.images import ImageRoots, image_file, resolve_image_roots
from scar.browse.inputs import read_audit, read_stats, rejection_groups
from scar.browse.prompts import read_prompts
from scar.browse.rows import compact_row, find_inputs, iter_rows, row_source
from scar.browse.thumbs import Thumb, ThumbReport, make_thumbnails
from scar.core.errors import ScarError
from scar.core.schema import NEG_TYPES
from scar.core.version import __version__

MARKER = ".scar-browse-site"
ASSET_FILES = ("region.js", "review.js", "app.js", "start.js", "style.css")
DEFAULT_CHUNK_ROWS = 256
DEFAULT_THUMB_SIZE = 384
SITE_FORMAT = 1


@dataclass(frozen=True)
class SiteOptions:
    target: Path
    out: Path
    images: Path | None = None
    audit: Path | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    thumb_size: int = DEFAULT_THUMB_SIZE
    workers: int = 1
    progress: bool = False
    robustness: Path | None = None  # perturbed prompts of a `scar eval --robustness` run, drawn in the detail view


@dataclass
class SiteResult:
    out: Path
    rows: int = 0
    chunks: int = 0
    thumbs: ThumbReport = field(default_factory=ThumbReport)
    image_problems: dict[str, int] = field(default_factory=dict)
    images_root: Path | None = None
    perturbed_rows: int = 0  # rows with perturbed prompts (--robustness)
    audit_file: Path | None = None
    flagged_rows: int = 0
    unmatched_flags: int = 0
    seconds: float = 0.0

    @property
    def index_html(self) -> Path:
        return self.out / "index.html"


def default_site_dir(target: Path) -> Path:
    return target / "browse" if target.is_dir() else target.parent / f"{target.stem}-browse"


def _check_out(out: Path, target: Path) -> None:
    resolved, target_resolved = out.resolve(), target.resolve()
    if resolved == target_resolved or resolved in target_resolved.parents:
        raise ScarError(f"{out}: the site cannot be written into the browsed folder itself; use a subfolder")
    if out.exists() and not out.is_dir():
        raise ScarError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ScarError(f"{out}: not empty and not a `scar browse` site; choose another --out")


def _prepare_out(out: Path) -> None:
    try:
        (out / "data").mkdir(parents=True, exist_ok=True)
        (out / "assets").mkdir(exist_ok=True)
        (out / MARKER).write_text("written by `scar browse`; its files are rewritten on every run\n", "utf-8")
    except OSError as exc:
        raise ScarError(f"cannot write the site to {out}: {exc.strerror or exc}") from None


def _copy_assets(out: Path) -> None:
    assets = resources.files("scar.browse") / "assets"
    (out / "index.html").write_bytes((assets / "index.html").read_bytes())
    for name in ASSET_FILES:
        (out / "assets" / name).write_bytes((assets / name).read_bytes())


def _js_call(function: str, *args: Any) -> str:
    body = ",".join(json.dumps(a, ensure_ascii=True, separators=(",", ":"), allow_nan=False) for a in args)
    return f"SCAR.{function}({body});\n"


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)


class _Codes:
    """Small ints for repeated strings (facet values), in first-seen order."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: str) -> int:
        code = self._index.get(value)
        if code is None:
            code = self._index[value] = len(self.values)
            self.values.append(value)
        return code


def _generator_label(gen: Any) -> str:
    if not isinstance(gen, dict):
        return ""
    return " · ".join(str(gen.get(k) or "?") for k in ("name", "model", "prompt_version"))


class _Index:
    """What the page filters, searches and pages on: a few short columns per row, facets as codes."""

    FACETS = ("src", "sp", "cat", "gen")

    def __init__(self, flags: dict[str, list[str]]) -> None:
        self.flags = flags
        self.codes = {name: _Codes() for name in (*self.FACETS, "fl", "q")}
        self.columns: dict[str, list[Any]] = {name: [] for name in ("id", *self.FACETS, "nt", "text")}
        self.row_flags: dict[str, list[int]] = {}
        self.digest = hashlib.sha1()

    def add(self, item: dict[str, Any], qry_text: str) -> None:
        """Index the page row `item` (and give it its number, instruction code and audit flags)."""
        g, row_id = len(self.columns["id"]), item["id"]
        item["g"] = g
        item["q"] = self.codes["q"](qry_text)
        self.digest.update(row_id.encode("utf-8", "surrogateescape") + b"\n")
        self.columns["id"].append(row_id)
        for facet in ("src", "sp", "cat"):
            self.columns[facet].append(self.codes[facet](item[facet]))
        self.columns["gen"].append(self.codes["gen"](_generator_label(item["gen"])))
        self.columns["nt"].append(sum(1 << k for k, t in enumerate(NEG_TYPES) if item["nt"] and t in item["nt"]))
        gold = item["c"][0] if item["c"] else ""
        self.columns["text"].append(f"{gold}\n{item['img']}".lower())
        if row_id in self.flags:
            item["fl"] = self.flags[row_id]
            self.row_flags[str(g)] = [self.codes["fl"](f) for f in self.flags[row_id]]

    @property
    def rows(self) -> int:
        return len(self.columns["id"])

    def facets(self) -> dict[str, list[str]]:
        return {**{k: c.values for k, c in self.codes.items() if k != "q"}, "nt": list(NEG_TYPES)}

    def to_js(self) -> str:
        return _js_call("index", {**self.columns, "fl": self.row_flags})


class _ChunkWriter:
    """Page rows into data/chunk-NNNNN.js files of `size` rows each."""

    def __init__(self, directory: Path, size: int) -> None:
        self.directory, self.size = directory, size
        self.rows: list[dict[str, Any]] = []
        self.count = 0

    def add(self, item: dict[str, Any]) -> None:
        self.rows.append(item)
        if len(self.rows) >= self.size:
            self._flush()

    def _flush(self) -> None:
        _write_text(self.directory / f"chunk-{self.count:05d}.js", _js_call("chunk", self.count, self.rows))
        self.count += 1
        self.rows = []

    def close(self) -> int:
        if self.rows:
            self._flush()
        for stale in self.directory.glob("chunk-*.js"):  # from an earlier, larger run
            number = stale.stem.split("-")[-1]
            if not number.isdigit() or int(number) >= self.count:
                stale.unlink()
        return self.count


def _image_files(roots: ImageRoots, inputs: list, groups: list[dict[str, Any]]) -> set[Path]:
    wanted: set[Path] = set()
    for source in inputs:
        for row in iter_rows(source, ("qry_image_path", "source")):
            path = image_file(roots.for_source(row_source(row, source)), str(row.get("qry_image_path") or ""))
            if path is not None:
                wanted.add(path)
    for group in groups:
        for region in group["regions"]:
            path = image_file(roots.for_source(group["source"]), str(region["image_path"]))
            if path is not None:
                wanted.add(path)
    return wanted


def _thumb_for(roots: ImageRoots, thumbs: dict[Path, Thumb], source: str, relative: str) -> Thumb:
    root = roots.for_source(source)
    if root is None:
        return Thumb(None, None, None, "no images root (pass --images)")
    path = image_file(root, relative)
    if path is None:
        return Thumb(None, None, None, "unsafe image path")
    return thumbs.get(path, Thumb(None, None, None, "missing image"))


def build_site(options: SiteOptions) -> SiteResult:
    started = time.perf_counter()
    target, out = options.target, options.out
    _check_out(out, target)
    inputs = find_inputs(target, skip=out)
    _prepare_out(out)
    roots = resolve_image_roots(target, options.images)
    audit_file, flags = read_audit(target, options.audit)
    groups = rejection_groups(read_stats(target))
    result = SiteResult(out=out, images_root=roots.default, audit_file=audit_file)

    thumbs, result.thumbs = make_thumbnails(
        sorted(_image_files(roots, inputs, groups)), out, options.thumb_size, options.workers, options.progress
    )
    _copy_assets(out)

    perturbed = read_prompts(options.robustness) if options.robustness is not None else {}
    index, chunks = _Index(flags), _ChunkWriter(out / "data", options.chunk_rows)
    problems: dict[str, int] = {}
    for source in inputs:
        for position, row in enumerate(iter_rows(source)):
            item = compact_row(row, source, position)
            thumb = _thumb_for(roots, thumbs, item["src"], item["img"])
            item.update(th=thumb.url, iw=item["iw"] or thumb.width, ih=item["ih"] or thumb.height, p=thumb.problem)
            if item["id"] in perturbed:
                item["rb"] = perturbed[item["id"]]
                result.perturbed_rows += 1
            if thumb.problem:
                kind = thumb.problem.split(":")[0]
                problems[kind] = problems.get(kind, 0) + 1
            index.add(item, str(row.get("qry_text") or ""))
            chunks.add(item)
    result.rows, result.chunks = index.rows, chunks.close()
    result.flagged_rows = len(index.row_flags)
    result.unmatched_flags = len(flags) - result.flagged_rows
    result.image_problems = problems

    for group in groups:
        for region in group["regions"]:
            thumb = _thumb_for(roots, thumbs, group["source"], str(region["image_path"]))
            region.update({"th": thumb.url, "iw": thumb.width, "ih": thumb.height, "p": thumb.problem})
    meta = {
        "format": SITE_FORMAT,
        "generated_by": f"scar-bench {__version__}",
        "title": target.resolve().name,
        "target": str(target.resolve()),
        "site_id": index.digest.hexdigest()[:16],  # the review's local-storage key: same rows, same decisions
        "rows": result.rows,
        "chunk_rows": options.chunk_rows,
        "chunks": result.chunks,
        "files": [{"label": s.label, "rows": s.rows} for s in inputs],
        "facets": index.facets(),
        "instructions": index.codes["q"].values,
        "images": {"root": str(roots.default) if roots.default else None, "origin": roots.origin, "problems": problems},
        "audit": {"file": str(audit_file) if audit_file else None, "flagged_rows": result.flagged_rows, "unmatched": result.unmatched_flags},
        "rejections": groups,
    }
    _write_text(out / "data" / "index.js", index.to_js())
    _write_text(out / "data" / "meta.js", _js_call("meta", meta))
    result.seconds = time.perf_counter() - started
    return result

