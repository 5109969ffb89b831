"""`scar validate DIR`: check every row of every shard against the SCaR rules.

Works on a `scar build` output directory and on official files that carry only the four official
columns (rules that need extension columns are then skipped for those rows).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

import pyarrow.parquet as pq

from scar.check.validate_images import ImageFacts, inspect_image
from scar.core.errors import ScarError
from scar.core.images_roots import images_root
from scar.core.schema import NEG_TYPES, NEGATIVES_PER_TYPE, NUM_CANDIDATES, OFFICIAL_EVAL_COLUMNS, box_inside_image, rle_to_mask
from scar.sources.images import size_problem

RULES: dict[str, str] = {
    "unreadable_file": "the Parquet file cannot be read",
    "missing_columns": "an official column is missing",
    "candidate_count": f"tgt_text must hold exactly {NUM_CANDIDATES} captions",
    "candidates_not_distinct": "the candidates must be distinct (case-insensitive) and non-empty",
    "gold_not_first": "tgt_text[0] must be the gold caption (names all caption parts; equals pos_text)",
    "neg_types": f"neg_types must hold {NEGATIVES_PER_TYPE} of each of {', '.join(NEG_TYPES)}",
    "bad_box": "bbox must be 4 finite numbers with positive width and height",
    "box_outside_image": "bbox must lie inside the image",
    "bad_rle": "mask RLE must decode",
    "mask_size_mismatch": "mask RLE size must equal the image size",
    "image_too_large": "image_width x image_height must be a usable size (checked before any mask is decoded)",
    "point_outside_region": "point must lie inside the mask (or the box when there is no mask)",
    "image_path_absolute": "qry_image_path must be relative",
    "image_path_dotdot": "qry_image_path must not contain '..'",
    "image_missing": "qry_image_path must exist under the images root",
    "image_path_escapes": "qry_image_path must not resolve outside the images root (symlinks)",
    "image_unreadable": "the image file's header must read (not empty, a known format)",
    "image_size_mismatch": "the image file's size must equal image_width x image_height",
    "image_undecodable": "the image must decode (checked with --decode)",
    "duplicate_id": "row ids must be unique",
    "stats_mismatch": "stats.json must count the shards and rows on disk (rerun, or scar build --finalize)",
}


@dataclass
class ValidationReport:
    files: int = 0
    rows: int = 0
    failures: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def fail(self, rule: str, where: str, max_examples: int = 3) -> None:
        self.failures[rule] += 1
        ex = self.examples.setdefault(rule, [])
        if len(ex) < max_examples:
            ex.append(where)

    @property
    def ok(self) -> bool:
        return not self.failures


def _shards(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    files = sorted(p for p in root.rglob("*.parquet") if not any(part.startswith(".") for part in p.relative_to(root).parts))
    return files


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=4096):
        yield from batch.to_pylist()


def check_row(
    row: dict[str, Any], images_root: Path, seen_images: dict[tuple[Path, str], ImageFacts], decode: bool = False
) -> list[str]:
    """Names of the rules this row breaks; `seen_images` caches each image's facts across rows."""
    broken: list[str] = []
    cands = row.get("tgt_text") or []
    if len(cands) != NUM_CANDIDATES:
        broken.append("candidate_count")
    normalised = [str(c).strip().lower() for c in cands]
    if any(not c for c in normalised) or len(set(normalised)) != len(normalised):
        broken.append("candidates_not_distinct")

    parts = row.get("caption_parts")
    if cands:
        gold = str(cands[0]).lower()
        if parts and not all(str(parts[k]).strip().lower() in gold for k in ("object", "relation", "scene")):
            broken.append("gold_not_first")
        elif row.get("pos_text") is not None and row["pos_text"] != cands[0]:
            broken.append("gold_not_first")
    if "neg_types" in row and row["neg_types"] is not None:
        counts = Counter(row["neg_types"])
        if len(row["neg_types"]) != NUM_CANDIDATES - 1 or any(counts[t] != NEGATIVES_PER_TYPE for t in NEG_TYPES):
            broken.append("neg_types")

    box = row.get("bbox")
    box_ok = box is not None and len(box) == 4 and all(v is not None and math.isfinite(v) for v in box)
    box_ok = box_ok and box[2] > 0 and box[3] > 0
    if not box_ok:
        broken.append("bad_box")
    width, height = row.get("image_width"), row.get("image_height")
    if box_ok and width and height and not box_inside_image(box, width, height):
        broken.append("box_outside_image")
    size_ok = width is None or height is None or size_problem(width, height) is None
    if not size_ok:
        broken.append("image_too_large")

    mask_array = None
    mask = row.get("mask")
    if mask is not None:
        # Sizes are compared before decoding: a mask declared 200000 x 200000 would need 40 GB.
        declared = _rle_size(mask)
        if declared is None:
            broken.append("bad_rle")
        elif width and height and declared != (height, width):
            broken.append("mask_size_mismatch")
        elif size_problem(declared[1], declared[0]) is not None:
            if size_ok:
                broken.append("image_too_large")
        else:
            try:
                mask_array = rle_to_mask(mask)
            except Exception:  # pycocotools raises assorted types on corrupt counts
                broken.append("bad_rle")
    point = row.get("point")
    if point is not None:
        x, y = point
        if mask_array is not None:
            xi, yi = int(math.floor(x)), int(math.floor(y))
            inside = 0 <= yi < mask_array.shape[0] and 0 <= xi < mask_array.shape[1] and bool(mask_array[yi, xi])
        elif box_ok:
            inside = box[0] <= x <= box[0] + box[2] and box[1] <= y <= box[1] + box[3]
        else:
            inside = True  # already reported as a bad box
        if not inside:
            broken.append("point_outside_region")

    image_path = str(row.get("qry_image_path") or "")
    posix = PurePosixPath(image_path.replace("\\", "/"))
    if posix.is_absolute() or (len(image_path) > 1 and image_path[1] == ":"):
        broken.append("image_path_absolute")
    elif ".." in posix.parts:
        broken.append("image_path_dotdot")
    else:
        facts = seen_images.get((images_root, image_path))
        if facts is None:
            facts = seen_images[(images_root, image_path)] = inspect_image(images_root, image_path, decode)
        broken.extend(facts.problems)
        if facts.size is not None and width and height and facts.size != (width, height):
            broken.append("image_size_mismatch")
    return broken


def _rle_size(mask: Any) -> tuple[int, int] | None:
    try:
        h, w = (int(v) for v in mask["size"])
    except (KeyError, TypeError, ValueError):
        return None
    return (h, w) if h >= 0 and w >= 0 else None


def validate(root: Path, images: Path | None = None, decode: bool = False) -> ValidationReport:
    """Check every row of every shard under `root`; `decode` also decodes every image (slow)."""
    if not root.exists():
        raise ScarError(f"{root}: no such file or directory")
    shards = _shards(root)
    if not shards:
        raise ScarError(f"{root}: no Parquet shards found")
    report = ValidationReport()
    roots: dict[str | None, Path] = {}  # source -> images root (per source since builds record one each)
    seen_images: dict[tuple[Path, str], ImageFacts] = {}
    seen_ids: set[str] = set()
    for path in shards:
        report.files += 1
        try:
            columns = set(pq.read_schema(path).names)
            rows = _rows(path)
            missing = [c for c in OFFICIAL_EVAL_COLUMNS if c not in columns]
            if missing:
                report.fail("missing_columns", f"{path}: {', '.join(missing)}")
                continue
            for index, row in enumerate(rows):
                report.rows += 1
                where = f"{path} row {index}" + (f" ({row['id']})" if row.get("id") else "")
                source = row.get("source") if isinstance(row.get("source"), str) else None
                if source not in roots:
                    roots[source] = images_root(root, source, images)
                for rule in check_row(row, roots[source], seen_images, decode):
                    report.fail(rule, where)
                row_id = row.get("id")
                if row_id:
                    if row_id in seen_ids:
                        report.fail("duplicate_id", where)
                    seen_ids.add(row_id)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            report.fail("unreadable_file", f"{path}: {type(exc).__name__}: {exc}".splitlines()[0])
    if root.is_dir():
        for where in stats_mismatches(root):
            report.fail("stats_mismatch", where)
    return report


def stats_mismatches(root: Path) -> list[str]:
    """Where stats.json disagrees with the finished shards on disk (source/split: stats vs disk)."""
    stats_path = root / "stats.json"
    if not stats_path.is_file():
        return []
    try:
        sources = json.loads(stats_path.read_text("utf-8")).get("sources") or {}
    except (OSError, ValueError, AttributeError):
        return [f"{stats_path}: unreadable"]
    on_disk: dict[tuple[str, str], list[int]] = {}
    for manifest in sorted(root.glob("*/.build-manifest.json")):
        for shard in sorted(manifest.parent.glob("*-*.parquet")):
            try:
                rows = pq.read_metadata(shard).num_rows
            except (OSError, ValueError):
                continue  # reported as unreadable_file
            counts = on_disk.setdefault((manifest.parent.name, shard.name.split("-", 1)[0]), [0, 0])
            counts[0] += 1
            counts[1] += rows
    listed = {
        (name, split): [int(agg.get("shards", 0)), int(agg.get("samples", 0))]
        for name, src in sources.items()
        if isinstance(src, dict)
        for split, agg in (src.get("splits") or {}).items()
        if isinstance(agg, dict)
    }
    out = []
    for key in sorted(set(on_disk) | set(listed)):
        have, says = on_disk.get(key, [0, 0]), listed.get(key, [0, 0])
        if have != says:
            out.append(f"{key[0]}/{key[1]}: stats.json lists {says[0]} shards / {says[1]:,} rows, disk has {have[0]} / {have[1]:,}")
    return out


def _size_summary(report: ValidationReport) -> str:
    return f"{report.files} files, {report.rows:,} rows"


def print_report(report: ValidationReport, console: Any) -> None:
    if report.ok:
        console.print(f"[green]OK[/green]: {_size_summary(report)}, every rule holds")
        return
    console.print(f"[red]FAILED[/red]: {_size_summary(report)}; rows or files breaking each rule:")
    for rule, count in sorted(report.failures.items(), key=lambda kv: (-kv[1], kv[0])):
        console.print(f"  {rule:<24} {count:>9,}  {RULES.get(rule, '')}")
        for where in report.examples.get(rule, []):
            console.print(f"      e.g. {where}", markup=False, highlight=False)

