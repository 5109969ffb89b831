"""COCO-Stuff 164K: stuff regions (JSON RLE or `stuffthingmaps` PNGs) plus COCO things.

Two ways in, chosen by what is given:
- JSON: `--annotations stuff_val2017.json --annotations instances_val2017.json` (COCO format;
  stuff segmentations are RLE). Files of one split are merged by image id. Category 183 "other"
  is the stuff files' placeholder for all things and is rejected as such.
- Maps: `--root DIR` holding `stuffthingmaps_trainval2017/{train2017,val2017}/*.png` (or
  `extra["maps"]` pointing at that folder), used when no stuff JSON is given. Pixel value = class
  id - 1, 255 = unlabeled. Each stuff class present becomes one semantic region; thing classes
  too, unless a COCO instances JSON is given, which then supplies the things as instances. Class
  names come from the JSON categories or from `labels.txt` ("id: name" lines, as in the
  cocostuff repository) at `--root` or `extra["labels"]`.
Split: a file or map folder with "train" in its name -> train, otherwise (val) -> eval.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np

from scar.core.errors import InputFileError
from scar.core.schema import Rejected, Split
from scar.sources.base import Record, SourceOptions
from scar.sources.coco import CocoFile, CocoSource, category_counts, coco_candidate, split_of_file
from scar.sources.emit import Candidate, ImageMeta, emit_image
from scar.sources.images import ImageFiles, check_images_option
from scar.sources.labelmaps import label_candidates, read_png
from scar.sources.map_stats import map_stats
from scar.sources.text import clean_category

OTHER_ID = 183  # stuff JSON placeholder covering every thing pixel
FIRST_STUFF_ID = 92
UNLABELED = 255
MAPS_FOLDER = "stuffthingmaps_trainval2017"


def read_labels(path: Path) -> dict[int, str]:
    names: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, name = line.partition(":")
        if sep and key.strip().isdigit() and name.strip():
            names[int(key)] = clean_category(name)
    return names


def map_candidates(
    source: str, image: ImageMeta, values: np.ndarray, names: dict[int, str], skip_below: int, file: Path
) -> list[Candidate | Rejected]:
    """One semantic region per class present in a stuffthingmaps PNG (value = class id - 1)."""
    labels = values.astype(np.int32) + 1  # label = class id; unlabeled (255) -> 0
    labels[values == UNLABELED] = 0
    present = np.flatnonzero(np.bincount(labels.ravel(), minlength=257)[1:]) + 1
    info = {int(c): (f"class{c}", names.get(int(c))) for c in present if c >= skip_below}
    return label_candidates(source, image, labels, info, file)


class CocoStuffSource(CocoSource):
    uses_options = frozenset({"annotations", "root", "images"})
    name = "cocostuff"

    def __init__(self, options: SourceOptions) -> None:
        if options.stuff:
            raise InputFileError("--stuff", "cocostuff reads its stuff JSONs from --annotations; --stuff is for coco and the refcoco family")
        self.options = options
        self.images = ImageFiles(options.images, check=check_images_option(options))
        self._files: dict[Path, CocoFile] = {}
        self.maps_dir = self._find_maps()
        if not options.annotations and self.maps_dir is None:
            raise InputFileError(
                "--annotations/--root", "cocostuff needs a stuff JSON (--annotations) or stuffthingmaps PNGs under --root"
            )

    def _find_maps(self) -> Path | None:
        given = self.options.extra.get("maps")
        if given:
            if not Path(given).is_dir():
                raise InputFileError(given, "stuffthingmaps folder not found")
            return Path(given)
        root = self.options.root
        if root is None:
            return None
        for candidate in (Path(root) / MAPS_FOLDER, Path(root)):
            if candidate.is_dir() and any(p.is_dir() and p.name.endswith(("2017", "2014")) for p in candidate.iterdir()):
                return candidate
        return None

    def category_filter(self, category_id: Any) -> str | None:
        return "stuff 'other' region (things placeholder)" if category_id == OTHER_ID else None

    def source_stats(self, split: Split) -> dict[str, Any] | None:
        files = [self._files.get(p) for p in self.files_for(split)]
        if any(f is None for f in files):
            return None
        parsed = [f for f in files if f is not None]
        has_stuff_json = any(any(int(c) >= FIRST_STUFF_ID for c in f.categories if isinstance(c, int)) for f in parsed)
        if self.maps_dir is not None and not has_stuff_json:
            return self._maps_stats(split, parsed)
        if not parsed:
            return None
        counts, images = category_counts(parsed, keep=lambda cid: cid != OTHER_ID)
        return {"categories": counts, "images": images} if counts else None

    def _maps_stats(self, split: Split, files: list[CocoFile]) -> dict[str, Any] | None:
        """The stuffthingmaps route: each map's classes (stuff only when an instances JSON gives the
        things, which are then counted from it), read once (scar.sources.map_stats)."""
        assert self.maps_dir is not None
        names = self._names(files)
        skip_below = FIRST_STUFF_ID if files else 0
        categories = {k: v for f in files for k, v in f.categories.items()}
        things: dict[str, list[str]] = {}
        for f in files:
            for image_id, anns in f.anns_by_image.items():
                listed = things.setdefault(str(image_id), [])
                listed += [categories[a["category_id"]] for a in anns
                           if not a.get("iscrowd") and a.get("category_id") in categories]  # fmt: skip
        maps = [
            png for folder in sorted(p for p in self.maps_dir.iterdir() if p.is_dir() and split_of_file(p, self.options) == split)
            for png in sorted(folder.glob("*.png"))
        ]  # fmt: skip

        def named(png: Path, histogram: np.ndarray) -> list[str]:
            classes = [int(v) + 1 for v in np.flatnonzero(histogram[:UNLABELED]) if int(v) + 1 >= skip_below]
            stem = png.stem.lstrip("0") or "0"
            return [names[c] for c in classes if names.get(c)] + things.get(stem, things.get(png.stem, []))

        return map_stats(((png, None) for png in maps), named)

    def iter_records(self, split: Split) -> Iterator[Record]:
        files = [self.coco_file(p) for p in self.files_for(split)]
        has_stuff_json = any(any(int(c) >= FIRST_STUFF_ID for c in f.categories if isinstance(c, int)) for f in files)
        if has_stuff_json or self.maps_dir is None:
            yield from self.iter_merged(split, files)
        else:
            yield from self._iter_maps(split, files)
        for f in files:
            self._files.pop(f.path, None)

    def _names(self, files: list[CocoFile]) -> dict[int, str]:
        names: dict[int, str] = {}
        labels = self.options.extra.get("labels") or (Path(self.options.root) / "labels.txt" if self.options.root else None)
        if labels and Path(labels).is_file():
            names.update(read_labels(Path(labels)))
        for f in files:
            names.update({int(k): v for k, v in f.categories.items() if isinstance(k, int)})
        return names

    def _iter_maps(self, split: Split, files: list[CocoFile]) -> Iterator[Record]:
        assert self.maps_dir is not None
        for f in files:
            yield from f.problems
        names = self._names(files)
        categories = {k: v for f in files for k, v in f.categories.items()}
        entries = {img_id: img for f in files for img_id, img in f.images.items()}
        thing_anns: dict[Any, list[tuple[dict[str, Any], Path]]] = {}
        for f in files:
            for img_id, anns in f.anns_by_image.items():
                thing_anns.setdefault(img_id, []).extend((a, f.path) for a in anns)
        things = bool(files)
        folders = sorted(p for p in self.maps_dir.iterdir() if p.is_dir() and split_of_file(p, self.options) == split)
        for folder in folders:
            for png in sorted(folder.glob("*.png")):
                stem = png.stem
                image_id: Any = int(stem) if stem.isdigit() else stem
                entry = entries.get(image_id)
                record = f"{self.name}:{image_id}"
                try:
                    labels = read_png(png)
                except InputFileError as exc:  # one broken map costs its image, not the build
                    yield Rejected(self.name, record, "unreadable label map", file=str(png), detail=str(exc)[:200])
                    continue
                if labels.ndim != 2:
                    raise InputFileError(png, f"label map must be single-channel, got shape {labels.shape}")
                height, width = labels.shape
                file_name = entry.get("file_name") if entry else None
                file_name = file_name if isinstance(file_name, str) and file_name else f"{stem}.jpg"
                if entry and (entry.get("width"), entry.get("height")) != (width, height):
                    yield Rejected(self.name, record, "label map size disagrees with image", file=str(png))
                    continue
                rel, reason, detail = self.images.locate([f"{folder.name}/{file_name}", file_name], width, height)
                if rel is None:
                    yield Rejected(self.name, record, reason or "missing image file", file=str(png), detail=detail)
                    continue
                meta = ImageMeta(image_id=str(image_id), image_path=rel, width=width, height=height)
                items = map_candidates(self.name, meta, labels, names, FIRST_STUFF_ID if things else 0, png)
                items += [coco_candidate(self.name, meta, a, categories, p) for a, p in thing_anns.get(image_id, [])]
                yield from emit_image(self.name, split, meta, items, self.options)
