"""ADE20K: the full release (instances, scene labels) or ADEChallengeData2016 (semantic regions).

Full release (`ADE20K_2021_17_01`): `index_ade20k.pkl` (found at `--root`, `--root`/ADE20K_2021_17_01,
or `extra["index"]`; an untrusted pickle, loaded with the restricted unpickler) lists each image's
`folder`, `filename` and `scene`, and the `objectnames`. Next to each image, `<name>_seg.png`
encodes class = R/10*256 + G (1-based into objectnames, 0 = unannotated) and the instance in B;
every (class, instance) pair is one entity with its mask. The category is the first name of the
objectnames entry ("chair, seat" -> "chair"); the scene ("/home_or_hotel/living_room") becomes
Entity.scene ("living room"). Split: a folder under `training` -> train, `validation` -> eval.

Fallback, ADEChallengeData2016 (SceneParsing), used when no index is found: under `--root`
`annotations/{training,validation}/*.png` with value = class 1-150 (0 = other, skipped), one
semantic region per class; names from `objectInfo150.txt`/`.csv`, scenes from
`sceneCategories.txt` when present. Images: `images/<split>/<name>.jpg`.
Image paths are stored relative to `--images`; without it, relative to the folder the index's image
folders are relative to (the one holding ADE20K_2021_17_01/), or ADEChallengeData2016/ itself, so
`--root` alone is enough. A missing image folder, image or segmentation file is rejected as such.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from scar.core.errors import InputFileError
from scar.core.schema import Rejected, Split
from scar.sources.base import Record, SourceOptions
from scar.sources.emit import ImageMeta, emit_image
from scar.sources.files import relative_posix, require_dir
from scar.sources.images import ESCAPES_ROOT, MISSING_FOLDER, ImageFiles, check_images_option, name_problem
from scar.sources.labelmaps import label_candidates, read_png
from scar.sources.map_stats import map_stats
from scar.sources.safe_pickle import load_pickle
from scar.sources.text import clean_category

INDEX_NAME = "index_ade20k.pkl"
CHALLENGE_FOLDER = "ADEChallengeData2016"
CHALLENGE_SPLITS = {"training": "train", "validation": "eval"}


def first_name(name: object) -> str:
    return clean_category(str(name).replace(";", ",").split(",")[0])


def scene_label(scene: object) -> str | None:
    if isinstance(scene, (list, tuple)):
        scene = scene[0] if scene else None
    if not isinstance(scene, str) or not scene.strip("/ "):
        return None
    return clean_category(scene.strip("/").split("/")[-1])


def decode_ade_seg(rgb: np.ndarray) -> tuple[np.ndarray, dict[int, tuple[int, int]]]:
    """_seg.png -> (label image, label -> (class index, instance value)); label 0 = unannotated."""
    r, g, b = (rgb[..., i].astype(np.int32) for i in range(3))
    cls = (r // 10) * 256 + g
    key = np.where(cls > 0, cls * 256 + b, 0)
    present = np.flatnonzero(np.bincount(key.ravel()))
    present = present[present > 0]
    lut = np.zeros(int(present[-1]) + 1 if present.size else 1, dtype=np.int32)
    lut[present] = np.arange(1, present.size + 1, dtype=np.int32)
    labels = lut[key]
    return labels, {i + 1: (int(k) // 256, int(k) % 256) for i, k in enumerate(present)}


class Ade20kSource:
    uses_options = frozenset({"root", "images"})  # what `scar build` may pass it
    name = "ade20k"
    finds_own_images = True  # the release holds its images: --root alone builds

    def __init__(self, options: SourceOptions) -> None:
        self.root = require_dir(options.root, "--root")
        self.options = options
        self.index_path = self._find_index()
        self.challenge_dir = None if self.index_path else self._find_challenge()
        if self.index_path is None and self.challenge_dir is None:
            raise InputFileError(
                self.root, f"no ADE20K data found: expected {INDEX_NAME} (full release) or annotations/ (ADEChallengeData2016)"
            )
        self._index: dict[str, Any] | None = None
        self._base: Path | None = None
        self.images_root = Path(options.images) if options.images else self.default_images_root()
        self.images = ImageFiles(self.images_root, check=check_images_option(options))

    def default_images_root(self) -> Path:
        """Where the images are when --images is not given: the folder the release's image folders are
        relative to (the one holding ADE20K_2021_17_01/), or ADEChallengeData2016/ itself."""
        if self.index_path is None:
            assert self.challenge_dir is not None
            return self.challenge_dir
        index = self._load_index()
        for i, folder in enumerate(index["folder"][:50]):
            if isinstance(folder, str) and isinstance(index["filename"][i], str):
                base = self._base_for(folder)
                if base is not None:
                    return base
        return self.index_path.parent.parent

    def source_stats(self, split: Split) -> dict[str, Any] | None:
        """What the split's golds will be, before any caption: whole-object instances per object name
        (the index's objectPresence less objectIsPart: the _seg.png the loader reads shows no parts),
        each image's object names and scene label, images per scene label. For ADEChallengeData2016
        the class maps are read once for the same counts (scar.sources.map_stats)."""
        if self.index_path is None:
            return self._challenge_stats(split)
        index = self._load_index()
        columns = [
            i for i, (fn, fo) in enumerate(zip(index["filename"], index["folder"]))
            if isinstance(fn, str) and isinstance(fo, str) and self._split_of(fo, fn) == split
        ]  # fmt: skip
        scenes: dict[str, int] = {}
        labels = index.get("scene") or []
        image_scenes = [scene_label(labels[i]) if i < len(labels) else None for i in columns]
        for label in image_scenes:
            if label:
                scenes[label] = scenes.get(label, 0) + 1
        categories: dict[str, int] = {}
        presence = index.get("objectPresence")
        names = index["objectnames"]
        images: list[list[str]] = []
        usable = isinstance(presence, np.ndarray) and presence.ndim == 2 and np.issubdtype(presence.dtype, np.number)
        if usable and presence.shape[0] == len(names) and columns:
            if presence.shape[1] > max(columns):
                block = presence[:, columns].astype(np.int64)
                parts = index.get("objectIsPart")
                if isinstance(parts, np.ndarray) and parts.shape == presence.shape and np.issubdtype(parts.dtype, np.number):
                    block = np.maximum(block - parts[:, columns].astype(np.int64), 0)
                totals = block.sum(axis=1)
                for k in np.flatnonzero(totals):
                    name = first_name(names[int(k)])
                    if name:
                        categories[name] = categories.get(name, 0) + int(totals[k])
                images = [
                    [first_name(names[int(k)]) for k in np.flatnonzero(block[:, j]) for _ in range(min(int(block[k, j]), 5))]
                    for j in range(block.shape[1])
                ]  # fmt: skip
        if not categories and not scenes:
            return None
        return {"categories": dict(sorted(categories.items())) or None, "scenes": dict(sorted(scenes.items())) or None,
                "images": images or None, "image_scenes": image_scenes if images else None}  # fmt: skip

    def _challenge_stats(self, split: Split) -> dict[str, Any] | None:
        assert self.challenge_dir is not None
        names, scenes = self._challenge_names(), self._challenge_scenes()

        def named(_map: Path, histogram: np.ndarray) -> list[str]:
            return [names[int(v)] for v in np.flatnonzero(histogram) if v > 0 and names.get(int(v))]

        maps = [
            (png, scenes.get(png.stem))
            for folder_name, scar_split in sorted(CHALLENGE_SPLITS.items()) if scar_split == split
            for png in sorted((self.challenge_dir / "annotations" / folder_name).glob("*.png"))
        ]  # fmt: skip
        return map_stats(maps, named)

    def _find_index(self) -> Path | None:
        given = self.options.extra.get("index")
        if given:
            if not Path(given).is_file():
                raise InputFileError(given, "ADE20K index not found")
            return Path(given)
        for candidate in (self.root / INDEX_NAME, self.root / "ADE20K_2021_17_01" / INDEX_NAME):
            if candidate.is_file():
                return candidate
        return None

    def _find_challenge(self) -> Path | None:
        for candidate in (self.root, self.root / CHALLENGE_FOLDER):
            if (candidate / "annotations").is_dir():
                return candidate
        return None

    def iter_records(self, split: Split) -> Iterator[Record]:
        if self.index_path is not None:
            yield from self._iter_full(split)
        else:
            yield from self._iter_challenge(split)

    # ------------------------------------------------------------ full release

    def _load_index(self) -> dict[str, Any]:
        if self._index is None:
            assert self.index_path is not None
            index = load_pickle(self.index_path)
            if not isinstance(index, dict) or not all(k in index for k in ("filename", "folder", "objectnames")):
                raise InputFileError(self.index_path, "not an ADE20K index (needs filename, folder, objectnames)")
            if len(index["filename"]) != len(index["folder"]):
                raise InputFileError(self.index_path, "filename and folder lists differ in length")
            self._index = index
        return self._index

    def _base_for(self, folder: str) -> Path | None:
        assert self.index_path is not None
        for base in (self.index_path.parent.parent, self.index_path.parent, self.root, self.root.parent):
            if (base / folder).is_dir():
                return base
        return None

    def _folder(self, folder: str) -> Path | None:
        """The index's folders are relative to the directory above the release; find that base once.
        None when the image's folder is not there."""
        if self._base is None:
            self._base = self._base_for(folder)
            if self._base is None:
                return None
        path = self._base / folder
        return path if path.is_dir() else None

    @staticmethod
    def _split_of(folder: str, filename: str) -> Split | None:
        parts = folder.replace("\\", "/").split("/")
        if "training" in parts or filename.startswith("ADE_train_"):
            return "train"
        if "validation" in parts or filename.startswith("ADE_val_"):
            return "eval"
        return None

    def _iter_full(self, split: Split) -> Iterator[Record]:
        index = self._load_index()
        names = [first_name(n) for n in index["objectnames"]]
        scenes = index.get("scene") or []
        order = sorted(range(len(index["filename"])), key=lambda i: str(index["filename"][i]))
        seen_stems: set[str] = set()
        for i in order:
            filename, folder = index["filename"][i], index["folder"][i]
            if not isinstance(filename, str) or not isinstance(folder, str):
                if split == "train":
                    yield Rejected(self.name, f"{self.name}:#{i}", "malformed index entry", file=str(self.index_path))
                continue
            if self._split_of(folder, filename) != split:
                continue
            stem = filename.rsplit(".", 1)[0]
            record = f"{self.name}:{stem}"
            if name_problem(filename) or "/" in filename or "\\" in filename:  # a bare name, beside its _seg.png
                yield Rejected(self.name, record, ESCAPES_ROOT, file=str(self.index_path), detail=repr(filename))
                continue
            if stem in seen_stems:  # the stem names the rows: a repeat would repeat their ids
                yield Rejected(self.name, record, "duplicate image name", file=str(self.index_path))
                continue
            seen_stems.add(stem)
            directory = self._folder(folder)
            if directory is None:
                yield Rejected(self.name, record, MISSING_FOLDER, file=str(self.index_path), detail=folder)
                continue
            rel = relative_posix(directory / filename, self.images_root)
            if rel is None:
                yield Rejected(self.name, record, ESCAPES_ROOT, detail=f"{directory / filename} is not under {self.images_root}")
                continue
            if not self.images.exists(rel):
                yield Rejected(self.name, record, "missing image file", detail=rel)
                continue
            seg_path = directory / f"{stem}_seg.png"
            if not seg_path.is_file():
                yield Rejected(self.name, record, "missing segmentation file", file=str(seg_path))
                continue
            try:
                rgb = read_png(seg_path)
            except InputFileError as exc:  # one broken segmentation costs its image, not the build
                yield Rejected(self.name, record, "unreadable segmentation", file=str(seg_path), detail=str(exc)[:200])
                continue
            if rgb.ndim != 3 or rgb.shape[2] < 3:
                yield Rejected(self.name, record, "segmentation is not RGB", file=str(seg_path))
                continue
            labels, pairs = decode_ade_seg(rgb)
            height, width = labels.shape
            rel, reason, detail = self.images.locate([rel], width, height)
            if rel is None:
                yield Rejected(self.name, record, reason or "missing image file", detail=detail)
                continue
            meta = ImageMeta(stem, rel, width, height, scene_label(scenes[i]) if i < len(scenes) else None)
            info = {
                label: (f"{cls}_{inst}", names[cls - 1] if 0 < cls <= len(names) else None)
                for label, (cls, inst) in pairs.items()
            }
            yield from emit_image(self.name, split, meta, label_candidates(self.name, meta, labels, info, seg_path), self.options)

    # ------------------------------------------------------------ ADEChallengeData2016

    def _challenge_names(self) -> dict[int, str]:
        assert self.challenge_dir is not None
        for filename, delimiter in (("objectInfo150.txt", "\t"), ("objectInfo150.csv", ",")):
            path = self.challenge_dir / filename
            if path.is_file():
                rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8", errors="replace")), delimiter=delimiter))
                return {int(r[0]): first_name(r[-1]) for r in rows[1:] if r and r[0].strip().isdigit()}
        raise InputFileError(self.challenge_dir / "objectInfo150.txt", "class names file not found (objectInfo150.txt or .csv)")

    def _challenge_scenes(self) -> dict[str, str]:
        assert self.challenge_dir is not None
        path = self.challenge_dir / "sceneCategories.txt"
        if not path.is_file():
            return {}
        scenes = {}
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 2:
                scenes[parts[0]] = clean_category(parts[1])
        return scenes

    def _iter_challenge(self, split: Split) -> Iterator[Record]:
        assert self.challenge_dir is not None
        names, scenes = self._challenge_names(), self._challenge_scenes()
        for folder_name, scar_split in sorted(CHALLENGE_SPLITS.items()):
            folder = self.challenge_dir / "annotations" / folder_name
            if scar_split != split or not folder.is_dir():
                continue
            for png in sorted(folder.glob("*.png")):
                record = f"{self.name}:{png.stem}"
                rel = relative_posix(self.challenge_dir / "images" / folder_name / f"{png.stem}.jpg", self.images_root)
                if rel is None:
                    yield Rejected(self.name, record, ESCAPES_ROOT)
                    continue
                if not self.images.exists(rel):
                    yield Rejected(self.name, record, "missing image file", detail=rel)
                    continue
                try:
                    values = read_png(png)
                except InputFileError as exc:
                    yield Rejected(self.name, record, "unreadable segmentation", file=str(png), detail=str(exc)[:200])
                    continue
                if values.ndim != 2:
                    yield Rejected(self.name, record, "annotation is not single-channel", file=str(png))
                    continue
                labels = values.astype(np.int32)
                height, width = labels.shape
                rel, reason, detail = self.images.locate([rel], width, height)
                if rel is None:
                    yield Rejected(self.name, record, reason or "missing image file", detail=detail)
                    continue
                meta = ImageMeta(png.stem, rel, width, height, scenes.get(png.stem))
                present = np.flatnonzero(np.bincount(labels.ravel()))
                info = {int(v): (f"class{v}", names.get(int(v))) for v in present if v > 0}
                yield from emit_image(self.name, split, meta, label_candidates(self.name, meta, labels, info, png), self.options)
