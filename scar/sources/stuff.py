"""COCO-Stuff annotations as scene evidence for the sources on COCO images (`--stuff stuff_train2017.json`).

COCO-Stuff labels the stuff (grass, wall, sky, floor, road...) of the COCO images. A picture whose
things say nothing of its scene (a person and nothing else) usually shows stuff that does, so the
sources on COCO images (coco, refcoco, refcoco+, refcocog) take the stuff classes of each image as
`Entity.context`, and add them to the image's categories in `source_stats` (the build's prior runs
the same scene inference on them). Evidence only: no stuff region becomes an entity or a relation's
anchor.

- The stuff JSON is COCO format: categories 92-182 are stuff, 183 "other" is the placeholder for all
  things and is ignored. COCO panoptic JSONs work too (their `segments_info`, the categories with
  `isthing` 0). Names are normalised like the cocostuff source's ("sky-other", "wall-tile"; the
  taxonomy resolves them), the panoptic "-merged" dropped ("tree-merged" is "tree"). Segmentations are
  dropped while the file is parsed.
- A class covering less than MIN_FRACTION of its image is left out: a few stray pixels say little.
- Matching: by the number in the file name when the source image's name carries one
  (`COCO_train2014_000000123456.jpg` is `000000123456.jpg`), else by image id (1 and "1" alike);
  an id match whose file names carry different numbers is no match. Several files are merged.
- Malformed image or annotation entries give no evidence; a file that is not a stuff file at all
  stops the build with one line naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterator, Sequence

from scar.core.errors import InputFileError
from scar.sources.files import read_json
from scar.sources.text import clean_category, text_problem

FIRST_STUFF_ID, LAST_STUFF_ID = 92, 182  # 183 "other" stands for every thing pixel
MIN_FRACTION = 0.01  # of the image area
_NUMBER = re.compile(r"(\d+)(?:\.[A-Za-z0-9]+)?$")

PictureKey = tuple[str, Any]  # ("n", number in the file name) or ("id", image id)


def stuff_name(name: str) -> str:
    """'sky-other-merged' -> 'sky-other': the cocostuff source's normal form, without panoptic's suffix."""
    clean = clean_category(name)
    return clean[: -len("-merged")] if clean.endswith("-merged") else clean


def _regions(annotations: list[Any]) -> Iterator[dict[str, Any]]:
    """Stuff annotations one region each: COCO-Stuff's as they are, a panoptic annotation's segments
    with the annotation's image id."""
    for ann in annotations:
        if not isinstance(ann, dict):
            continue
        segments = ann.get("segments_info")
        if isinstance(segments, list):
            for seg in segments:
                if isinstance(seg, dict):
                    yield {**seg, "image_id": ann.get("image_id")}
        else:
            yield ann


def name_number(file_name: object) -> int | None:
    """The number a COCO file name ends with: 'COCO_val2014_000000000042.jpg' -> 42."""
    if not isinstance(file_name, str):
        return None
    match = _NUMBER.search(PurePosixPath(file_name.replace("\\", "/")).name)
    return int(match.group(1)) if match else None


def id_key(image_id: object) -> Any:
    """An image id as both spellings match: 42 and "42" -> 42."""
    if isinstance(image_id, bool):
        return None
    if isinstance(image_id, int):
        return image_id
    if isinstance(image_id, str):
        text = image_id.strip()
        return int(text) if text.isdigit() else text or None
    return None


@dataclass
class _Picture:
    names: set[str] = field(default_factory=set)
    files: set[int] = field(default_factory=set)  # indices of the files that hold this image


def _stuff_doc(path: Path) -> dict[str, Any]:
    def drop_masks(obj: dict[str, Any]) -> dict[str, Any]:
        if "segmentation" in obj and "image_id" in obj:
            del obj["segmentation"]  # the bulk of the file; evidence needs names and areas only
        return obj

    data = read_json(path, object_hook=drop_masks)
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "annotations", "categories")):
        raise InputFileError(path, "not a COCO-Stuff annotation file (needs 'images', 'annotations' and 'categories' lists)")
    return data


class StuffEvidence:
    """The stuff classes of every image in one or more COCO-Stuff JSON files, looked up per source image."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = tuple(Path(p) for p in paths)
        self._pictures: dict[PictureKey, _Picture] = {}
        self._by_id: dict[Any, PictureKey] = {}
        for index, path in enumerate(self.paths):
            self._add_file(index, path)
        self._frozen: dict[PictureKey, tuple[str, ...]] = {k: tuple(sorted(p.names)) for k, p in self._pictures.items()}

    def _add_file(self, index: int, path: Path) -> None:
        data = _stuff_doc(path)
        names: dict[int, str] = {}
        panoptic = any(isinstance(cat, dict) and "isthing" in cat for cat in data["categories"])
        for cat in data["categories"]:
            if not isinstance(cat, dict):
                continue
            cid, name = cat.get("id"), cat.get("name")
            stuff = cat.get("isthing") == 0 if panoptic else isinstance(cid, int) and FIRST_STUFF_ID <= cid <= LAST_STUFF_ID
            if isinstance(cid, int) and stuff and isinstance(name, str) and not text_problem(name):
                names[cid] = stuff_name(name)
        if not names:
            raise InputFileError(
                path,
                f"no COCO-Stuff stuff category (ids {FIRST_STUFF_ID}-{LAST_STUFF_ID}, or panoptic isthing 0): not a stuff file "
                "(things go in --annotations)",
            )
        areas: dict[Any, float] = {}  # image id -> pixels, where the entry gives a usable size
        keys: dict[Any, PictureKey] = {}
        for img in data["images"]:
            if not isinstance(img, dict):
                continue
            image_id = id_key(img.get("id"))
            if image_id is None or image_id in keys:
                continue
            number = name_number(img.get("file_name"))
            key: PictureKey = ("n", number) if number is not None else ("id", image_id)
            keys[image_id] = key
            self._by_id.setdefault(image_id, key)
            self._pictures.setdefault(key, _Picture()).files.add(index)
            w, h = img.get("width"), img.get("height")
            if isinstance(w, (int, float)) and isinstance(h, (int, float)) and not isinstance(w, bool) and w > 0 and h > 0:
                areas[image_id] = float(w) * float(h)
        for ann in _regions(data["annotations"]):
            image_id = id_key(ann.get("image_id"))
            cid = ann.get("category_id")
            name = names.get(cid) if isinstance(cid, int) and not isinstance(cid, bool) else None
            if name is None or image_id not in keys or ann.get("iscrowd"):
                continue
            area, total = ann.get("area"), areas.get(image_id)
            if isinstance(area, (int, float)) and not isinstance(area, bool) and total and area < MIN_FRACTION * total:
                continue
            self._pictures[keys[image_id]].names.add(name)

    @property
    def images(self) -> int:
        return len(self._pictures)

    def find(self, image_id: object, file_name: object) -> tuple[PictureKey | None, tuple[str, ...]]:
        """(the matching stuff image, its stuff names) for a source image; (None, ()) when none matches."""
        number = name_number(file_name)
        if number is not None and ("n", number) in self._frozen:
            key: PictureKey = ("n", number)
            return key, self._frozen[key]
        found = self._by_id.get(id_key(image_id))
        if found is None or (number is not None and found[0] == "n"):
            return None, ()  # both names carry numbers, and they differ: another picture
        return found, self._frozen[found]

    def files_of(self, key: PictureKey) -> frozenset[int]:
        return frozenset(self._pictures[key].files)


class StuffTally:
    """How many of a split's images found their stuff, per file: one line on stderr per split."""

    def __init__(self, evidence: StuffEvidence) -> None:
        self.evidence = evidence
        self.images = 0
        self.matched = 0
        self.per_file = [0] * len(evidence.paths)

    def names(self, image_id: object, file_name: object) -> tuple[str, ...]:
        """The image's stuff names (counted), () when no stuff file holds it."""
        self.images += 1
        key, names = self.evidence.find(image_id, file_name)
        if key is not None:
            self.matched += 1
            for index in self.evidence.files_of(key):
                self.per_file[index] += 1
        return names

    def line(self, source: str, split: str) -> str:
        files = "; ".join(f"{p.name}: {n:,}" for p, n in zip(self.evidence.paths, self.per_file))
        if self.images and not self.matched:
            return (
                f"scar build: warning: {source} {split}: none of the {self.images:,} images is in the --stuff files "
                f"({files}); they are matched by the number in the file name or by image id: are they the same COCO images?"
            )
        return f"scar build: {source} {split}: COCO-Stuff scene evidence for {self.matched:,} of {self.images:,} images ({files})"
