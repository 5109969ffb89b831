"""Repeated source ids are rejected with a reason; row ids are unique in every build."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pyarrow.parquet as pq

import scar.sources
from scar.build.config import BuildConfig
from scar.build.pipeline import build
from scar.cli import main
from scar.core.schema import Entity, Rejected
from scar.sources import SourceOptions, make_source, resolve_source
from tests.fixtures_sources import _py2, _Py2Pickler, _ref, write_image, write_json, write_refer, write_visual_genome
from tests.pipeline_fixtures import SeededGenerator, SyntheticSource


def _reasons(records) -> dict[str, str]:
    return {r.record: r.reason for r in records if isinstance(r, Rejected)}


def _ann(ann_id: int, image_id: int, x: int = 2) -> dict:
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 0, "bbox": [x, 2, 10, 8],
            "segmentation": [[x, 2, x + 10, 2, x + 10, 10, x, 10]]}  # fmt: skip


def test_coco_repeated_annotation_and_image_ids(tmp_path: Path) -> None:
    images = tmp_path / "images"
    write_image(images / "a.jpg", 40, 30)
    write_image(images / "b.jpg", 40, 30)
    ann = write_json(tmp_path / "instances_val2017.json", {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 40, "height": 30},
                   {"id": 1, "file_name": "b.jpg", "width": 40, "height": 30}],
        "annotations": [_ann(10, 1), _ann(10, 1, x=20), _ann(11, 1, x=25), {**_ann(0, 1), "id": None}],
        "categories": [{"id": 1, "name": "oven"}],  # oven: scene evidence (a kitchen)
    })  # fmt: skip
    out = tmp_path / "out"
    assert main(["build", "--source", "coco", "--annotations", str(ann), "--images", str(images), "--out", str(out),
                 "--no-progress", "--workers", "1"]) == 0  # fmt: skip
    rows = [r for p in sorted((out / "coco").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    assert sorted(r["id"] for r in rows) == ["coco:1:10", "coco:1:11"]
    assert [r["qry_image_path"] for r in rows] == ["a.jpg", "a.jpg"]  # the first image entry wins
    counts = json.loads((out / "stats.json").read_text())["sources"]["coco"]["splits"]["eval"]["rejections"]["counts"]
    assert counts == {"coco: duplicate annotation id": 1, "coco: duplicate image id": 1, "coco: annotation without id": 1}
    assert main(["validate", str(out)]) == 0


def test_coco_ids_repeated_across_merged_files(tmp_path: Path) -> None:
    images = tmp_path / "images"
    write_image(images / "a.jpg", 40, 30)
    entry = {"id": 1, "file_name": "a.jpg", "width": 40, "height": 30}
    cats = [{"id": 1, "name": "oven"}]
    first = write_json(tmp_path / "stuff_val2017.json", {"images": [entry], "annotations": [_ann(10, 1)], "categories": cats})
    second = write_json(tmp_path / "instances_val2017.json", {"images": [entry], "annotations": [_ann(10, 1, x=20)], "categories": cats})
    source = make_source("coco", SourceOptions(annotations=(first, second), images=images))
    records = list(source.iter_records("eval"))
    assert [r.id for r in records if isinstance(r, Entity)] == ["coco:1:10"]
    assert _reasons(records) == {"coco:1:10": "duplicate annotation id"}


def test_refer_repeated_ref_id(tmp_path: Path) -> None:
    root, images = write_refer(tmp_path, "refcoco", "unc")
    refs = [_ref(100, 10, 1, "train", ["the dog"]), _ref(100, 11, 1, "train", ["the sign"]),
            _ref(101, 10, 1, "train", ["the dog again"])]  # another ref, the same object: the same row id
    with open(root / "refcoco" / "refs(unc).p", "wb") as f:
        _Py2Pickler(f, protocol=2).dump(_py2(refs))
    records = list(make_source("refcoco", SourceOptions(root=root, images=images)).iter_records("train"))
    assert [r.id for r in records if isinstance(r, Entity)] == ["refcoco:1:10"]
    assert _reasons(records) == {"refcoco:ref 100": "duplicate ref id", "refcoco:ref 101": "duplicate ann id"}


def test_vg_repeated_object_and_image_ids(tmp_path: Path) -> None:
    root, images = write_visual_genome(tmp_path)
    objects = json.loads((root / "objects.json").read_text())
    objects[0]["objects"].append({"object_id": 11, "x": 30, "y": 2, "w": 10, "h": 10, "names": ["cat"]})
    write_json(root / "objects.json", objects)
    image_data = json.loads((root / "image_data.json").read_text())
    write_json(root / "image_data.json", image_data + [image_data[1]])
    source = make_source("vg", SourceOptions(root=root, images=images, extra={"eval_fraction": 0.0}))
    records = list(source.iter_records("train"))
    ids = [r.id for r in records if isinstance(r, Entity)]
    assert len(ids) == len(set(ids)) and "vg:1:11" in ids
    reasons = _reasons(records)
    assert reasons["vg:1:11"] == "duplicate object id" and reasons["vg:2"] == "duplicate image id"


class RepeatingSource(SyntheticSource):
    """The synthetic source, but every entity of image 0 comes twice, and the first eval entity
    repeats a train one's id: no loader rule names these, the build's net must."""

    name = "repeating"

    def iter_records(self, split: str) -> Iterator[Entity | Rejected]:
        first_train = next(r for r in super().iter_records("train") if isinstance(r, Entity))
        for record in super().iter_records(split):
            yield record
            if isinstance(record, Entity) and record.image_id.endswith("0000"):
                yield record
        if split == "eval":
            yield first_train


scar.sources.register("repeating", "tests.test_duplicate_ids:RepeatingSource", "test fixture")


def test_build_rejects_any_repeated_row_id(tmp_path: Path) -> None:
    out = tmp_path / "out"
    opts = SourceOptions(images=out / "images", extra={"images": 4})
    build(BuildConfig(source=resolve_source("repeating"), out=out, source_options=opts, progress=False, shard_size=5), SeededGenerator(0))
    rows = [r for p in sorted((out / "repeating").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) and len(ids) > 0
    stats = json.loads((out / "stats.json").read_text())["sources"]["repeating"]["splits"]
    dupes = sum(s["rejections"]["counts"].get("repeating: duplicate entity id", 0) for s in stats.values())
    assert dupes == 2 * 3 + 1  # image 0's three entities twice (train and eval), and the cross-split repeat
    from scar.check.validate import validate

    assert validate(out).ok
