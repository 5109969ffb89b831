"""COCO instances loader: counts, boxes, masks, points and every bad-input reason, by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scar.core.errors import InputFileError
from scar.core.schema import Entity, Rejected, rle_to_mask
from scar.sources import SourceOptions, make_source
from tests.fixtures_sources import write_coco, write_json


def _records(source, split):
    records = list(source.iter_records(split))
    entities = [r for r in records if isinstance(r, Entity)]
    rejected = {r.record: r.reason for r in records if isinstance(r, Rejected)}
    return entities, rejected


@pytest.fixture()
def coco(tmp_path: Path):
    ann, images = write_coco(tmp_path)
    return make_source("coco", SourceOptions(annotations=(ann,), images=images)), ann, images


def test_entities_boxes_masks_points(coco) -> None:
    source, _, _ = coco
    entities, _ = _records(source, "eval")
    assert [e.entity_id for e in entities] == ["10", "17"]
    dog, light = entities
    assert dog.split == "eval" and dog.category == "dog" and light.category == "traffic light"
    assert dog.image_path == "a.jpg" and (dog.image_width, dog.image_height) == (40, 30)
    assert dog.region.box_xywh == (2.0, 2.0, 10.0, 8.0)
    assert dog.region.area == 80.0  # 10 x 8 rectangle
    assert light.region.area == 40.0  # right triangle with legs 10 and 8
    mask = rle_to_mask(dog.region.mask_rle)
    assert mask.shape == (30, 40) and mask[2:10, 2:12].all() and mask.sum() == 80
    # farthest from the boundary of the 10x8 rectangle: distance 4, first at row 5, column 5
    assert dog.region.point_xy == (5.5, 5.5)
    x, y = light.region.point_xy
    assert rle_to_mask(light.region.mask_rle)[int(y), int(x)]
    assert [(n.category, n.box_xywh) for n in dog.neighbours] == [("traffic light", (20.0, 20.0, 10.0, 8.0))]
    assert list(source.iter_records("train")) == []  # a val file feeds eval only


def test_every_bad_kind_has_its_reason(coco) -> None:
    source, _, _ = coco
    _, rejected = _records(source, "eval")
    assert rejected == {
        "coco:1:11": "crowd region",
        "coco:1:12": "degenerate polygon",
        "coco:1:13": "box outside image",
        "coco:1:14": "box partly outside image",
        "coco:1:15": "unknown category id",
        "coco:1:16": "RLE size disagrees with image",
        "coco:2": "missing image file",
        "coco:999:30": "image id points nowhere",
    }


def test_max_per_image_and_min_area(tmp_path: Path) -> None:
    ann, images = write_coco(tmp_path)
    one = make_source("coco", SourceOptions(annotations=(ann,), images=images, max_per_image=1, seed=3))
    entities, rejected = _records(one, "eval")
    assert len(entities) == 1 and list(rejected.values()).count("over max_per_image") == 1
    again, _ = _records(make_source("coco", SourceOptions(annotations=(ann,), images=images, max_per_image=1, seed=3)), "eval")
    assert [e.entity_id for e in again] == [e.entity_id for e in entities]
    # 40 px of 1200 = 0.033 < 0.05 <= 80 px = 0.067
    big = make_source("coco", SourceOptions(annotations=(ann,), images=images, min_area=0.05))
    entities, rejected = _records(big, "eval")
    assert [e.entity_id for e in entities] == ["10"] and rejected["coco:1:17"] == "below min area"


def test_split_from_file_name(tmp_path: Path) -> None:
    ann, images = write_coco(tmp_path, name="instances_train2017.json")
    source = make_source("coco", SourceOptions(annotations=(ann,), images=images))
    assert len(_records(source, "train")[0]) == 2 and _records(source, "eval")[0] == []


def test_non_utf8_file_name_is_rejected(tmp_path: Path) -> None:
    ann, images = write_coco(tmp_path)
    raw = ann.read_bytes().replace(b'"missing.jpg"', b'"bad\xff.jpg"')
    ann.write_bytes(raw)
    _, rejected = _records(make_source("coco", SourceOptions(annotations=(ann,), images=images)), "eval")
    assert rejected["coco:2"] == "non-UTF-8 text"


def test_truncated_and_missing_json_are_one_line_errors(tmp_path: Path) -> None:
    ann, images = write_coco(tmp_path)
    ann.write_bytes(ann.read_bytes()[:200])
    with pytest.raises(InputFileError, match=r"instances_val2017\.json: not valid JSON"):
        list(make_source("coco", SourceOptions(annotations=(ann,), images=images)).iter_records("eval"))
    with pytest.raises(InputFileError, match="file not found"):
        list(make_source("coco", SourceOptions(annotations=(tmp_path / "nope.json",), images=images)).iter_records("eval"))
    bad = write_json(tmp_path / "val.json", {"images": 3})
    with pytest.raises(InputFileError, match="not a COCO annotation file"):
        list(make_source("coco", SourceOptions(annotations=(bad,), images=images)).iter_records("eval"))


def test_check_images_off_keeps_missing_image(tmp_path: Path) -> None:
    ann, images = write_coco(tmp_path)
    source = make_source("coco", SourceOptions(annotations=(ann,), images=images, extra={"check_images": False}))
    entities, _ = _records(source, "eval")
    assert {e.image_id for e in entities} == {"1", "2"}


def test_large_box_point_is_a_mask_pixel(tmp_path: Path) -> None:
    # An L-shaped polygon over most of a 400x300 image: the point grid is coarse, the pixel real.
    l_shape = [0, 0, 400, 0, 400, 60, 60, 60, 60, 300, 0, 300]
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 400, "height": 300}],
        "categories": [{"id": 1, "name": "wall"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 400, 300], "segmentation": [l_shape]}],
    }
    ann = write_json(tmp_path / "val.json", data)
    (entity,) = [r for r in make_source("coco", SourceOptions(annotations=(ann,), images=tmp_path, extra={"check_images": False})).iter_records("eval")]
    mask = rle_to_mask(entity.region.mask_rle)
    x, y = entity.region.point_xy
    assert mask[int(y), int(x)]
    assert np.count_nonzero(mask) == 400 * 60 + 60 * 240
