"""COCO instances JSON (any split, any year): polygons and RLE masks -> entities.

`scar build --source coco --annotations instances_val2017.json --images DIR`. Several
`--annotations` files may be given; each file's SCaR split comes from its name ("train" in the
file name -> train, anything else, e.g. val/test/minival -> eval) unless `extra["split"]` names
one. Files of the same split are merged by image id, which is how COCO-Stuff joins its stuff
and thing annotations. Image paths are the image entry's `file_name`, looked up under the
images root directly or under a folder named after the annotation file (train2017/, val2014/...).
`--stuff stuff_train2017.json` (repeatable) adds each image's COCO-Stuff classes as scene evidence
(scar.sources.stuff).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from pycocotools import mask as mask_utils

from scar.core.errors import InputFileError
from scar.core.schema import Rejected, Split
from scar.sources.base import Record, SourceOptions
from scar.sources.boxes import fit_box, parse_box
from scar.sources.emit import Candidate, ImageMeta, box_region, emit_image, mask_candidate_region
from scar.sources.files import read_json
from scar.sources.images import ImageFiles, check_images_option, size_problem
from scar.sources.masks import coco_rle, polygon_parts, polygons_to_rle
from scar.sources.points import polygon_point, rle_point
from scar.sources.stuff import StuffEvidence, StuffTally
from scar.sources.text import clean_category, text_problem

_SPLIT_FOLDER = re.compile(r"(train|val|test|minival)(\d{4})")


@dataclass
class CocoFile:
    """One parsed COCO-format file, indexed by image."""

    path: Path
    images: dict[Any, dict[str, Any]] = field(default_factory=dict)
    anns_by_image: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)
    categories: dict[Any, str] = field(default_factory=dict)
    problems: list[Rejected] = field(default_factory=list)  # records unusable before any image is known
    info: dict[str, str] = field(default_factory=dict)  # the file's own `info` (description, url, version, year)
    licenses: list[str] = field(default_factory=list)  # the names (or urls) in its `licenses` list


def load_coco_file(path: Path, source: str) -> CocoFile:
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) or not isinstance(data.get("annotations"), list):
        raise InputFileError(path, "not a COCO annotation file (needs 'images' and 'annotations' lists)")
    out = CocoFile(path=Path(path))
    info = data.get("info")
    if isinstance(info, dict):
        out.info = {k: str(info[k])[:200] for k in ("description", "url", "version", "year") if isinstance(info.get(k), (str, int))}
    for lic in data.get("licenses") or []:
        if isinstance(lic, dict) and isinstance(lic.get("name") or lic.get("url"), str):
            out.licenses.append(str(lic.get("name") or lic.get("url"))[:200])
    for cat in data.get("categories") or []:
        if isinstance(cat, dict) and "id" in cat and isinstance(cat.get("name"), str) and not text_problem(cat["name"]):
            out.categories[cat["id"]] = clean_category(cat["name"])
    for img in data["images"]:
        if not isinstance(img, dict) or not _hashable(img.get("id")):
            out.problems.append(Rejected(source, f"{source}:image ?", "malformed image entry", file=str(path)))
        elif img["id"] in out.images:  # which entry is right is unknowable: keep the first, say so
            out.problems.append(Rejected(source, f"{source}:{img['id']}", "duplicate image id", file=str(path)))
        else:
            out.images[img["id"]] = img
    seen_ids: set[str] = set()  # as strings: the row id spells 1 and "1" alike
    for ann in data["annotations"]:
        if not isinstance(ann, dict) or not _hashable(ann.get("image_id")):
            out.problems.append(Rejected(source, f"{source}:ann ?", "malformed annotation", file=str(path)))
            continue
        ann_id = ann.get("id")
        if not _hashable(ann_id):  # the id names the row: without one, rows could not be told apart
            out.problems.append(Rejected(source, f"{source}:{ann['image_id']}:?", "annotation without id", file=str(path)))
            continue
        if str(ann_id) in seen_ids:  # two rows with one id would collide: keep the first
            out.problems.append(
                Rejected(source, f"{source}:{ann['image_id']}:{ann_id}", "duplicate annotation id", file=str(path))
            )
            continue
        seen_ids.add(str(ann_id))
        out.anns_by_image.setdefault(ann["image_id"], []).append(ann)
    for image_id, anns in out.anns_by_image.items():
        if image_id not in out.images:
            for ann in anns:
                out.problems.append(
                    Rejected(source, f"{source}:{image_id}:{ann.get('id')}", "image id points nowhere", file=str(path))
                )
    return out


_MS_COCO = re.compile(r"\bCOCO\s+20(14|15|17)\b", re.IGNORECASE)


def is_ms_coco(info: dict[str, str]) -> bool:
    """Whether a COCO-format file's `info` says it is an MS-COCO release itself."""
    return "cocodataset.org" in info.get("url", "").lower() or bool(_MS_COCO.search(info.get("description", "")))


def _hashable(value: object) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def split_of_file(path: Path, options: SourceOptions) -> Split:
    forced = options.extra.get("split")
    if forced in ("train", "eval"):
        return forced
    return "train" if "train" in Path(path).name.lower() else "eval"


def image_folder_hint(path: Path) -> str | None:
    """'instances_train2017.json' -> 'train2017' (where COCO keeps that split's images)."""
    match = _SPLIT_FOLDER.search(Path(path).stem.lower())
    return match.group(0) if match else None


def image_meta(
    source: str, img: dict[str, Any], file: Path, index: ImageFiles, scene: str | None = None
) -> tuple[ImageMeta | None, Rejected | None]:
    """Checked image entry -> ImageMeta, or the reason the whole image is unusable: its declared
    size (bounded), its file name (inside the images root) and its file's header (same size)."""
    image_id = img.get("id")
    record = f"{source}:{image_id}"
    width, height, name = img.get("width"), img.get("height"), img.get("file_name")
    problem = size_problem(width, height)
    if problem:
        return None, Rejected(source, record, problem, file=str(file), detail=f"{width}x{height}")
    assert isinstance(width, int) and isinstance(height, int)
    if not isinstance(name, str) or not name:
        return None, Rejected(source, record, "image without file name", file=str(file))
    if text_problem(name):
        return None, Rejected(source, record, "non-UTF-8 text", file=str(file), detail="file_name")
    hint = image_folder_hint(file)
    candidates = [name] + ([f"{hint}/{name}"] if hint else [])
    rel, reason, detail = index.locate(candidates, width, height)
    if rel is None:
        return None, Rejected(source, record, reason or "missing image file", file=str(file), detail=detail)
    return ImageMeta(image_id=str(image_id), image_path=rel, width=width, height=height, scene=scene), None


def coco_candidate(
    source: str,
    image: ImageMeta,
    ann: dict[str, Any],
    categories: dict[Any, str],
    file: Path,
    texts: tuple[str, ...] = (),
    category_filter: Callable[[Any], str | None] | None = None,
) -> Candidate | Rejected:
    """One COCO annotation -> a checked candidate (full-image RLE, area) or why not."""
    ann_id = ann.get("id")
    record = f"{source}:{image.image_id}:{ann_id}"

    def reject(reason: str, detail: str = "") -> Rejected:
        return Rejected(source, record, reason, file=str(file), detail=detail)

    category = categories.get(ann.get("category_id"))
    if category is None:
        return reject("unknown category id", str(ann.get("category_id")))
    if category_filter is not None:
        reason = category_filter(ann.get("category_id"))
        if reason:
            return reject(reason)
    if ann.get("iscrowd"):
        return reject("crowd region")
    box = parse_box(ann.get("bbox"))
    if box is None:
        return reject("invalid box", str(ann.get("bbox")))
    box, reason = fit_box(box, image.width, image.height)
    if box is None:
        return reject(reason or "invalid box", str(ann.get("bbox")))
    w, h = image.width, image.height
    seg = ann.get("segmentation")
    if seg is None:
        return Candidate(str(ann_id), category, box, box[2] * box[3], box_region(box), texts=texts)
    if isinstance(seg, list):
        parts, reason = polygon_parts(seg)
        if reason:
            return reject(reason)
        rle = polygons_to_rle(parts, h, w)
        make_point: Callable[[], tuple[float, float] | None] = lambda: polygon_point(parts, box, w, h, rle)  # noqa: E731
    elif isinstance(seg, dict):
        rle, reason = coco_rle(seg, h, w)
        if rle is None:
            return reject(reason or "malformed RLE", f"size {seg.get('size')} vs image {h}x{w}")
        make_point = lambda: rle_point(rle, box, w, h)  # noqa: E731
    else:
        return reject("malformed segmentation")
    area = float(mask_utils.area(rle))
    if area <= 0:
        return reject("empty mask")
    return Candidate(
        str(ann_id), category, box, area, lambda: mask_candidate_region(rle, box, make_point), texts=texts
    )


class CocoSource:
    """`coco`: any COCO instances JSON, polygons and uncompressed (crowd) RLE."""
    uses_options = frozenset({"annotations", "images", "stuff"})  # what `scar build` may pass it

    name = "coco"
    _stuff: StuffEvidence | None = None

    def __init__(self, options: SourceOptions) -> None:
        if not options.annotations:
            raise InputFileError("--annotations", f"source {self.name!r} needs at least one COCO annotation file")
        self.options = options
        self.images = ImageFiles(options.images, check=check_images_option(options))
        self._files: dict[Path, CocoFile] = {}

    def stuff_evidence(self) -> StuffEvidence | None:
        """The --stuff files, parsed on first use (once for every split)."""
        if self._stuff is None and self.options.stuff:
            self._stuff = StuffEvidence(self.options.stuff)
        return self._stuff

    def _stuff_names(self, image_id: Any, entry: dict[str, Any]) -> tuple[str, ...]:
        evidence = self.stuff_evidence()
        return evidence.find(image_id, entry.get("file_name"))[1] if evidence is not None else ()

    def files_for(self, split: Split) -> list[Path]:
        return [Path(p) for p in self.options.annotations if split_of_file(Path(p), self.options) == split]

    def coco_file(self, path: Path) -> CocoFile:
        if path not in self._files:
            self._files[path] = load_coco_file(path, self.name)
        return self._files[path]

    def declared_terms(self, split: Split) -> dict[str, Any] | None:
        """What the split's annotation files say of themselves (once parsed), for the dataset card: is
        this MS-COCO (its `info` names cocodataset.org or COCO 2014/2017), and the licenses they list.
        A private COCO-format set keeps its own terms; the card then claims neither COCO's license nor
        its citation."""
        files = [self._files.get(p) for p in self.files_for(split)]
        if not files or any(f is None for f in files):
            return None
        parsed = [f for f in files if f is not None]
        return {
            "ms_coco": all(is_ms_coco(f.info) for f in parsed),
            "licenses": sorted({name for f in parsed for name in f.licenses}),
            "descriptions": sorted({f.info["description"] for f in parsed if f.info.get("description")}),
        }

    def expected_entities(self, split: Split) -> int | None:
        """Annotations per image, capped at --max-per-image, over the split's files (once parsed)."""
        files = [self._files.get(p) for p in self.files_for(split)]
        if any(f is None for f in files):
            return None
        cap = self.options.max_per_image
        return sum(min(len(anns), cap) for f in files if f is not None for anns in f.anns_by_image.values())

    def category_filter(self, category_id: Any) -> str | None:
        return None

    def source_stats(self, split: Split) -> dict[str, Any] | None:
        """Annotated objects per category name over the split's files (once parsed), crowds excluded:
        the distribution the generator draws swapped-in objects from."""
        files = [self._files.get(p) for p in self.files_for(split)]
        if not files or any(f is None for f in files):
            return None
        context = self._stuff_names if self.options.stuff else None
        counts, images = category_counts((f for f in files if f is not None), context=context)
        return {"categories": counts, "images": images} if counts else None

    def iter_records(self, split: Split) -> Iterator[Record]:
        files = [self.coco_file(p) for p in self.files_for(split)]
        yield from self.iter_merged(split, files)
        # Parsed files are only needed for the split at hand.
        for f in files:
            self._files.pop(f.path, None)

    def iter_merged(self, split: Split, files: list[CocoFile]) -> Iterator[Record]:
        for f in files:
            yield from f.problems
        categories: dict[Any, str] = {}
        for f in files:
            categories.update(f.categories)
        # image id -> (entry, file of the entry, [(ann, file)])
        merged: dict[Any, tuple[dict[str, Any], Path, list[tuple[dict[str, Any], Path]]]] = {}
        for f in files:
            for image_id, img in f.images.items():
                if image_id not in merged:
                    merged[image_id] = (img, f.path, [])
            for image_id, anns in f.anns_by_image.items():
                if image_id in merged:
                    merged[image_id][2].extend((a, f.path) for a in anns)
        seen_ids: set[str] = set()  # ids are unique per file already; merged files must not repeat them
        evidence = self.stuff_evidence()
        tally = StuffTally(evidence) if evidence is not None else None
        for image_id in sorted(merged, key=_sort_key):
            img, img_file, anns = merged[image_id]
            if not anns:
                continue
            if len(files) > 1:
                unique = []
                for a, p in anns:
                    if str(a["id"]) in seen_ids:
                        yield Rejected(self.name, f"{self.name}:{image_id}:{a['id']}", "duplicate annotation id", file=str(p))
                    else:
                        seen_ids.add(str(a["id"]))
                        unique.append((a, p))
                anns = unique
            meta, rejected = image_meta(self.name, img, img_file, self.images)
            if meta is None:
                assert rejected is not None
                yield Rejected(rejected.source, rejected.record, rejected.reason, rejected.file, f"{len(anns)} annotations; {rejected.detail}")
                continue
            if tally is not None:
                meta = replace(meta, context=tally.names(image_id, img.get("file_name")))
            items = [coco_candidate(self.name, meta, a, categories, p, category_filter=self.category_filter) for a, p in anns]
            yield from emit_image(self.name, split, meta, items, self.options)
        if tally is not None:
            print(tally.line(self.name, split), file=sys.stderr)


def category_counts(
    files: Iterable[CocoFile],
    keep: Callable[[Any], bool] = lambda _id: True,
    context: Callable[[Any, dict[str, Any]], tuple[str, ...]] | None = None,
) -> tuple[dict[str, int], list[list[str]]]:
    """(annotated objects per category name, each image's category names), crowds excluded, files of
    one split merged by image id as the loader merges them. `context(image id, image entry)`: more
    names of the image (its stuff), added to its list, not to the counts."""
    counts: dict[str, int] = {}
    per_image: dict[Any, list[str]] = {}
    entries: dict[Any, dict[str, Any]] = {}
    for f in files:
        for image_id, img in f.images.items():
            entries.setdefault(image_id, img)
        for image_id, anns in f.anns_by_image.items():
            names = per_image.setdefault(image_id, [])
            for ann in anns:
                cid = ann.get("category_id")
                name = f.categories.get(cid) if _hashable(cid) else None
                if name and not ann.get("iscrowd") and keep(cid):
                    counts[name] = counts.get(name, 0) + 1
                    names.append(name)
    shown = [k for k in sorted(per_image, key=_sort_key) if per_image[k]]
    images = [per_image[k] + (list(context(k, entries.get(k, {}))) if context else []) for k in shown]
    return dict(sorted(counts.items())), images


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int) else (1, str(value))
