"""Visual Genome (v1.2 / v1.4 JSON releases): objects with boxes, region phrases, relationships.

Under `--root`: `image_data.json` and `objects.json` (required), `region_descriptions.json` and
`relationships.json` (optional). The releases spell ids both ways (`id` / `image_id`,
`id` / `object_id` / `region_id`, `names` / `name`); both are read. Boxes only, so `mask` is null
and the point is the box centre. Source texts of an object: the region phrases whose box overlaps
it (IoU >= 0.5, best first) and the relationships it takes part in ("man riding horse").

Visual Genome has no official split: an image goes to SCaR eval when a fixed hash of its id falls
under `extra["eval_fraction"]` (default 0.05, about the 5,000 of 108k images of SCaR-Eval), else
to train; the assignment does not depend on `--seed`.
Images: the path in the image's `url` (VG_100K/1.jpg or VG_100K_2/1.jpg) under `--images`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from scar.core.errors import InputFileError
from scar.core.schema import Rejected, Split
from scar.core.seeding import stable_hash
from scar.sources.base import Record, SourceOptions
from scar.sources.boxes import fit_box, parse_box
from scar.sources.emit import Candidate, ImageMeta, box_region, emit_image
from scar.sources.files import require_dir
from scar.sources.images import ImageFiles, check_images_option, size_problem
from scar.sources.jsonstream import TruncatedJson, iter_json_array
from scar.sources.text import clean_category, text_problem

REGION_IOU = 0.5
MAX_PHRASES = 5
MAX_RELATIONS = 5
DEFAULT_EVAL_FRACTION = 0.05


def _first(d: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if k in d:
            return d[k]
    return None


def _name(obj: dict[str, Any]) -> str | None:
    names = obj.get("names")
    if isinstance(names, list) and names:
        name = names[0]
    else:
        name = obj.get("name")
    return name if isinstance(name, str) and name.strip() else None


def _xywh(d: dict[str, Any]) -> Any:
    return [d.get("x"), d.get("y"), _first(d, "w", "width"), _first(d, "h", "height")]


@dataclass
class VgImageAnnotations:
    objects: list[dict[str, Any]] = field(default_factory=list)
    region_boxes: np.ndarray | None = None  # (n, 4) xywh
    region_phrases: list[str] = field(default_factory=list)
    relations: dict[Any, list[str]] = field(default_factory=dict)  # object id -> "subj pred obj"


def _iou(box: tuple[float, float, float, float], boxes: np.ndarray) -> np.ndarray:
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[0] + box[2], boxes[:, 0] + boxes[:, 2])
    y2 = np.minimum(box[1] + box[3], boxes[:, 1] + boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = box[2] * box[3] + boxes[:, 2] * boxes[:, 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


class VisualGenomeSource:
    uses_options = frozenset({"root", "images"})  # what `scar build` may pass it
    name = "vg"

    def __init__(self, options: SourceOptions) -> None:
        self.root = require_dir(options.root, "--root")
        self.options = options
        self.eval_fraction = float(options.extra.get("eval_fraction", DEFAULT_EVAL_FRACTION))
        self.images = ImageFiles(options.images, check=check_images_option(options))
        self._annotations: dict[Any, VgImageAnnotations] | None = None
        self._image_data: list[dict[str, Any]] | None = None
        self._problems: list[Rejected] = []
        self._problems_reported = False

    def split_of(self, image_id: Any) -> Split:
        return "eval" if stable_hash("vg-split", image_id) % 100_000 < self.eval_fraction * 100_000 else "train"

    # ------------------------------------------------------------ loading (once, compact per image)

    def _stream(self, filename: str, required: bool) -> Iterator[dict[str, Any]]:
        path = self.root / filename
        if not path.is_file():
            if required:
                raise InputFileError(path, "file not found (Visual Genome needs image_data.json and objects.json)")
            return
        try:
            for i, item in enumerate(iter_json_array(path)):
                if isinstance(item, dict):
                    yield item
                else:
                    self._problems.append(Rejected(self.name, f"{self.name}:{filename}#{i}", "malformed entry", file=str(path)))
        except TruncatedJson as exc:
            self._problems.append(
                Rejected(self.name, f"{self.name}:{filename}", "truncated JSON", file=str(path), detail=str(exc))
            )

    def _load(self) -> tuple[list[dict[str, Any]], dict[Any, VgImageAnnotations]]:
        if self._annotations is not None and self._image_data is not None:
            return self._image_data, self._annotations
        images = [img for img in self._stream("image_data.json", True) if _first(img, "image_id", "id") is not None]
        ann: dict[Any, VgImageAnnotations] = {}
        for entry in self._stream("objects.json", True):
            image_id = _first(entry, "image_id", "id")
            objs = entry.get("objects")
            if image_id is None or not isinstance(objs, list):
                self._problems.append(Rejected(self.name, f"{self.name}:{image_id}", "malformed entry", file="objects.json"))
                continue
            ann.setdefault(image_id, VgImageAnnotations()).objects.extend(o for o in objs if isinstance(o, dict))
        for entry in self._stream("region_descriptions.json", False):
            image_id = _first(entry, "image_id", "id")
            target = ann.get(image_id)
            if target is None:
                continue  # regions of an image without objects give no entity
            boxes, phrases = [], []
            for region in entry.get("regions") or []:
                box = parse_box(_xywh(region)) if isinstance(region, dict) else None
                phrase = region.get("phrase") if box else None
                if box and isinstance(phrase, str) and not text_problem(phrase) and phrase.strip():
                    boxes.append(box)
                    phrases.append(" ".join(phrase.split()))
            target.region_boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
            target.region_phrases = phrases
        for entry in self._stream("relationships.json", False):
            target = ann.get(_first(entry, "image_id", "id"))
            if target is None:
                continue
            for rel in entry.get("relationships") or []:
                if not isinstance(rel, dict):
                    continue
                subj, obj, pred = rel.get("subject"), rel.get("object"), rel.get("predicate")
                if not isinstance(subj, dict) or not isinstance(obj, dict) or not isinstance(pred, str):
                    continue
                s_name, o_name = _name(subj), _name(obj)
                if not s_name or not o_name or not pred.strip():
                    continue
                text = " ".join(f"{s_name} {pred.lower()} {o_name}".split())
                if text_problem(text):
                    continue
                for side in (subj, obj):
                    oid = _first(side, "object_id", "id")
                    if oid is not None:
                        target.relations.setdefault(oid, []).append(text)
        self._image_data, self._annotations = images, ann
        return images, ann

    def source_stats(self, split: Split) -> dict[str, Any] | None:
        """Objects per name over the split's images (the distribution of gold objects) and each image's names."""
        _, ann = self._load()
        counts: dict[str, int] = {}
        images = []
        for image_id in sorted(ann, key=str):
            if self.split_of(image_id) != split:
                continue
            names = []
            for obj in ann[image_id].objects:
                name = _name(obj)
                if name:
                    name = clean_category(name)
                    counts[name] = counts.get(name, 0) + 1
                    names.append(name)
            images.append(names)
        return {"categories": dict(sorted(counts.items())), "images": images} if counts else None

    # ------------------------------------------------------------ records

    def iter_records(self, split: Split) -> Iterator[Record]:
        images, ann = self._load()
        if not self._problems_reported:  # file-level problems are counted once, with the first split built
            self._problems_reported = True
            yield from self._problems
        known = set()
        for img in sorted(images, key=lambda d: str(_first(d, "image_id", "id")).zfill(12)):
            image_id = _first(img, "image_id", "id")
            repeated = str(image_id) in known
            known.add(str(image_id))
            if self.split_of(image_id) != split or image_id not in ann:
                continue
            if repeated:  # a second entry for one image would repeat its rows: keep the first
                yield Rejected(self.name, f"{self.name}:{image_id}", "duplicate image id", file="image_data.json")
                continue
            objects = ann[image_id]
            meta, rejected = self._image_meta(img, image_id)
            if meta is None:
                assert rejected is not None
                yield Rejected(self.name, rejected.record, rejected.reason, rejected.file, f"{len(objects.objects)} objects; {rejected.detail}")
                continue
            items: list[Candidate | Rejected] = []
            seen_objects: set[str] = set()
            for o in objects.objects:
                object_id = str(_first(o, "object_id", "id"))
                if object_id in seen_objects:
                    items.append(Rejected(self.name, f"{self.name}:{image_id}:{object_id}", "duplicate object id", file="objects.json"))
                    continue
                seen_objects.add(object_id)
                items.append(self._candidate(meta, o, objects))
            yield from emit_image(self.name, split, meta, items, self.options)
        for image_id in sorted((i for i in ann if str(i) not in known), key=str):
            if self.split_of(image_id) == split:
                yield Rejected(self.name, f"{self.name}:{image_id}", "image id points nowhere", file="objects.json",
                               detail=f"{len(ann[image_id].objects)} objects")

    def _image_meta(self, img: dict[str, Any], image_id: Any) -> tuple[ImageMeta | None, Rejected | None]:
        record = f"{self.name}:{image_id}"
        width, height = img.get("width"), img.get("height")
        problem = size_problem(width, height)
        if problem:
            return None, Rejected(self.name, record, problem, file="image_data.json", detail=f"{width}x{height}")
        assert isinstance(width, int) and isinstance(height, int)
        candidates = []
        url = img.get("url")
        if isinstance(url, str) and "/" in url:
            candidates.append("/".join(url.rstrip("/").split("/")[-2:]))
        candidates += [f"VG_100K/{image_id}.jpg", f"VG_100K_2/{image_id}.jpg", f"{image_id}.jpg"]
        rel, reason, detail = self.images.locate(candidates, width, height)
        if rel is None:
            return None, Rejected(self.name, record, reason or "missing image file", file="image_data.json", detail=detail)
        return ImageMeta(image_id=str(image_id), image_path=rel, width=width, height=height), None

    def _candidate(self, meta: ImageMeta, obj: dict[str, Any], anns: VgImageAnnotations) -> Candidate | Rejected:
        object_id = _first(obj, "object_id", "id")
        record = f"{self.name}:{meta.image_id}:{object_id}"
        name = _name(obj)
        if name is None:
            return Rejected(self.name, record, "object without name", file="objects.json")
        if text_problem(name):
            return Rejected(self.name, record, "non-UTF-8 text", file="objects.json")
        box = parse_box(_xywh(obj))
        if box is None:
            return Rejected(self.name, record, "invalid box", file="objects.json", detail=str(_xywh(obj)))
        box, reason = fit_box(box, meta.width, meta.height)
        if box is None:
            return Rejected(self.name, record, reason or "invalid box", file="objects.json", detail=str(_xywh(obj)))
        texts: list[str] = []
        if anns.region_boxes is not None and len(anns.region_phrases):
            iou = _iou(box, anns.region_boxes)
            order = np.argsort(-iou, kind="stable")
            texts += [anns.region_phrases[i] for i in order[:MAX_PHRASES] if iou[i] >= REGION_IOU]
        texts += anns.relations.get(object_id, [])[:MAX_RELATIONS]
        attributes = tuple(
            a.strip().lower() for a in obj.get("attributes") or [] if isinstance(a, str) and a.strip() and not text_problem(a)
        )
        return Candidate(
            str(object_id), clean_category(name), box, box[2] * box[3], box_region(box),
            texts=tuple(dict.fromkeys(texts)), attributes=attributes,
        )
