"""RefCOCO, RefCOCO+ and RefCOCOg in the `refer` layout (github lichengunc/refer).

`<root>/<dataset>/refs(<split_by>).p` (a Python-2 pickle, loaded with the restricted unpickler)
lists the referred objects; `<root>/<dataset>/instances.json` (COCO 2014) holds their images,
polygons and categories. One entity per ref: the COCO object's box and mask, its category, and the
ref's sentences as source texts. The ref's own `file_name` carries a suffix and is not a real file:
the image file comes from `instances['images']`.

Split mapping: ref split `train` -> SCaR train; every other split (val, test, testA, testB, testC)
-> SCaR eval. `extra["eval_splits"]` (e.g. ["val"]) restricts eval to the listed ref splits.
`--stuff stuff_train2017.json` adds each image's COCO-Stuff classes as scene evidence
(scar.sources.stuff; the refer images are COCO train2014, all of them in COCO-Stuff's train2017).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

from scar.core.errors import InputFileError
from scar.core.schema import Rejected, Split
from scar.sources.base import Record, SourceOptions
from scar.sources.boxes import fit_box, parse_box
from scar.sources.coco import CocoFile, coco_candidate, image_meta, load_coco_file
from scar.sources.emit import Candidate, ImageMeta, box_region, emit_image
from scar.sources.files import require_file
from scar.sources.images import ImageFiles, check_images_option
from scar.sources.safe_pickle import load_pickle
from scar.sources.stuff import StuffEvidence, StuffTally
from scar.sources.text import text_problem

DEFAULT_SPLIT_BY = {"refcoco": "unc", "refcoco+": "unc", "refcocog": "umd"}
SPLIT_BYS = {"refcoco": ("unc", "google"), "refcoco+": ("unc",), "refcocog": ("umd", "google")}


def _plain(value: Any) -> Any:
    """Pickle loaded with encoding='bytes' -> str keys and texts. Invalid UTF-8 is kept as lone
    surrogates so the sentence holding it is rejected by `text_problem`, not the whole file."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="surrogateescape")
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def scar_split(ref_split: str, eval_splits: tuple[str, ...] | None) -> Split | None:
    if ref_split == "train":
        return "train"
    if eval_splits is None or ref_split in eval_splits:
        return "eval"
    return None


class ReferSource:
    """Base of the three RefCOCO-family sources; subclasses set `name`."""
    uses_options = frozenset({"root", "images", "split_by", "stuff"})  # what `scar build` may pass it

    name = "refcoco"

    def __init__(self, options: SourceOptions) -> None:
        if options.root is None:
            raise InputFileError("--root", f"source {self.name!r} needs --root (the folder holding {self.name}/)")
        self.options = options
        self.split_by = options.split_by or DEFAULT_SPLIT_BY[self.name]
        if self.split_by not in SPLIT_BYS[self.name]:
            raise InputFileError(
                "--split-by", f"{self.name} has no {self.split_by!r} split; choose from {', '.join(SPLIT_BYS[self.name])}"
            )
        folder = Path(options.root) / self.name
        self.refs_path = require_file(folder / f"refs({self.split_by}).p", "refs file")
        self.instances_path = require_file(folder / "instances.json", "instances file")
        eval_splits = options.extra.get("eval_splits")
        self.eval_splits = tuple(eval_splits) if eval_splits else None
        self.images = ImageFiles(options.images, check=check_images_option(options))
        self._refs: list[Any] | None = None
        self._coco: CocoFile | None = None
        self._stuff: StuffEvidence | None = None

    def stuff_evidence(self) -> StuffEvidence | None:
        """The --stuff files, parsed on first use (once for every split)."""
        if self._stuff is None and self.options.stuff:
            self._stuff = StuffEvidence(self.options.stuff)
        return self._stuff

    def _load(self) -> tuple[list[Any], CocoFile]:
        if self._refs is None:
            refs = _plain(load_pickle(self.refs_path, encoding="bytes"))
            if not isinstance(refs, list):
                raise InputFileError(self.refs_path, "expected a list of refs")
            self._refs = refs
        if self._coco is None:
            self._coco = load_coco_file(self.instances_path, self.name)
        return self._refs, self._coco

    def expected_entities(self, split: Split) -> int | None:
        """Refs of the split per image, capped at --max-per-image."""
        refs, _ = self._load()
        per_image: dict[Any, int] = {}
        for ref in refs:
            if isinstance(ref, dict) and isinstance(ref.get("split"), str) and scar_split(ref["split"], self.eval_splits) == split:
                per_image[ref.get("image_id")] = per_image.get(ref.get("image_id"), 0) + 1
        return sum(min(n, self.options.max_per_image) for n in per_image.values())

    def source_stats(self, split: Split) -> dict[str, Any] | None:
        """Referred objects per category over the split (what gold objects will be), and the categories
        of every object in each of the split's images (what the scene is inferred from)."""
        refs, coco = self._load()
        category_of = {
            a.get("id"): a.get("category_id") for anns in coco.anns_by_image.values() for a in anns if isinstance(a.get("id"), (int, str))
        }
        counts: dict[str, int] = {}
        image_ids: set[Any] = set()
        for ref in refs:
            if isinstance(ref, dict) and isinstance(ref.get("split"), str) and scar_split(ref["split"], self.eval_splits) == split:
                ann_id = ref.get("ann_id")
                cid = category_of.get(ann_id) if isinstance(ann_id, (int, str)) else None
                name = coco.categories.get(cid) if isinstance(cid, (int, str)) else None
                if isinstance(name, str):
                    counts[name] = counts.get(name, 0) + 1
                    if isinstance(ref.get("image_id"), (int, str)):
                        image_ids.add(ref["image_id"])
        images = []
        evidence = self.stuff_evidence()
        for image_id in sorted(image_ids, key=lambda v: (isinstance(v, str), v)):
            names = [coco.categories.get(c) for a in coco.anns_by_image.get(image_id, []) if isinstance(c := a.get("category_id"), (int, str))]
            stuff = evidence.find(image_id, coco.images.get(image_id, {}).get("file_name"))[1] if evidence is not None else ()
            images.append([n for n in names if isinstance(n, str)] + list(stuff))
        return {"categories": dict(sorted(counts.items())), "images": images} if counts else None

    def iter_records(self, split: Split) -> Iterator[Record]:
        refs, coco = self._load()
        anns_by_id = {a.get("id"): a for anns in coco.anns_by_image.values() for a in anns}
        by_image: dict[Any, list[dict[str, Any]]] = {}
        seen_ids: set[str] = set()  # over all splits, so a repeated ref id is dropped the same way in each
        for i, ref in enumerate(refs):
            if not isinstance(ref, dict) or not isinstance(ref.get("split"), str):
                if split == "train":  # a ref without a split belongs to neither; count it once
                    yield Rejected(self.name, f"{self.name}:ref #{i}", "malformed ref", file=str(self.refs_path))
                continue
            image_id = ref.get("image_id")
            image_ok = isinstance(image_id, (int, str)) and image_id in coco.images
            # A row's id is its COCO object's: a repeated ref id or object (ann) id would repeat it.
            ref_id, ann_id = f"ref {ref.get('ref_id')}", f"ann {ref.get('ann_id')}"
            repeated = "duplicate ref id" if ref_id in seen_ids else None
            seen_ids.add(ref_id)
            if image_ok:
                repeated = repeated or ("duplicate ann id" if ann_id in seen_ids else None)
                seen_ids.add(ann_id)
            if scar_split(ref["split"], self.eval_splits) != split:
                continue
            if not image_ok:
                yield Rejected(
                    self.name, f"{self.name}:{ref_id}", "image id points nowhere", file=str(self.refs_path),
                    detail=f"image_id {image_id}",
                )
                continue
            if repeated:  # keep the first
                yield Rejected(self.name, f"{self.name}:{ref_id}", repeated, file=str(self.refs_path))
                continue
            by_image.setdefault(image_id, []).append(ref)
        evidence = self.stuff_evidence()
        tally = StuffTally(evidence) if evidence is not None else None
        for image_id in sorted(by_image, key=lambda v: (isinstance(v, str), v)):
            image_refs = sorted(by_image[image_id], key=lambda r: str(r.get("ref_id")))
            meta, rejected = image_meta(self.name, coco.images[image_id], self.instances_path, self.images)
            if meta is None:
                assert rejected is not None
                yield Rejected(self.name, rejected.record, rejected.reason, rejected.file, f"{len(image_refs)} refs; {rejected.detail}")
                continue
            if tally is not None:
                meta = replace(meta, context=tally.names(image_id, coco.images[image_id].get("file_name")))
            items = [self._candidate(ref, meta, coco, anns_by_id) for ref in image_refs]
            pool = self._neighbour_pool(coco.anns_by_image.get(image_id, []), coco, meta)
            yield from emit_image(self.name, split, meta, items, self.options, neighbours_from=pool)
        if tally is not None:
            print(tally.line(self.name, split), file=sys.stderr)

    def _candidate(
        self, ref: dict[str, Any], meta: ImageMeta, coco: CocoFile, anns_by_id: dict[Any, dict[str, Any]]
    ) -> Candidate | Rejected:
        record = f"{self.name}:{meta.image_id}:ref {ref.get('ref_id')}"
        ann = anns_by_id.get(ref.get("ann_id"))
        if ann is None:
            return Rejected(self.name, record, "ann id points nowhere", file=str(self.refs_path), detail=f"ann_id {ref.get('ann_id')}")
        if str(ann.get("image_id")) != meta.image_id:
            return Rejected(self.name, record, "ann belongs to another image", file=str(self.refs_path))
        texts: list[str] = []
        bad_text = False
        for sent in ref.get("sentences") or []:
            text = sent.get("sent") or sent.get("raw") if isinstance(sent, dict) else None
            if text is None:
                continue
            if text_problem(text):
                bad_text = True
                continue
            if text.strip():
                texts.append(" ".join(text.split()))
        if not texts:
            reason = "non-UTF-8 text" if bad_text else "no referring sentence"
            return Rejected(self.name, record, reason, file=str(self.refs_path))
        return coco_candidate(self.name, meta, ann, coco.categories, self.instances_path, texts=tuple(texts))

    def _neighbour_pool(self, anns: list[dict[str, Any]], coco: CocoFile, meta: ImageMeta) -> list[Candidate]:
        pool = []
        for ann in anns:
            category = coco.categories.get(ann.get("category_id"))
            box = parse_box(ann.get("bbox"))
            if category is None or box is None:
                continue
            box, _ = fit_box(box, meta.width, meta.height)
            if box is not None:
                pool.append(Candidate(str(ann.get("id")), category, box, box[2] * box[3], box_region(box)))
        return pool


class RefCOCO(ReferSource):
    name = "refcoco"


class RefCOCOPlus(ReferSource):
    name = "refcoco+"


class RefCOCOg(ReferSource):
    name = "refcocog"
