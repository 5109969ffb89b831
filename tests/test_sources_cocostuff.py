"""COCO-Stuff loader: stuff JSON (RLE) + things, and stuffthingmaps PNGs (value = id - 1, 255 unlabeled)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scar.core.errors import InputFileError
from scar.core.schema import Entity, Rejected, rle_to_mask
from scar.sources import SourceOptions, make_source
from tests.fixtures_sources import write_cocostuff


def _split(source, split):
    records = list(source.iter_records(split))
    return [r for r in records if isinstance(r, Entity)], {r.record: r.reason for r in records if isinstance(r, Rejected)}


def test_stuff_json_plus_things(tmp_path: Path) -> None:
    stuff, things, _, images = write_cocostuff(tmp_path)
    source = make_source("cocostuff", SourceOptions(annotations=(stuff, things), images=images))
    entities, rejected = _split(source, "eval")
    assert [(e.entity_id, e.category, e.region.box_xywh, e.region.area) for e in entities] == [
        ("1", "grass", (0.0, 0.0, 10.0, 10.0), 100.0),
        ("7", "person", (10.0, 0.0, 10.0, 5.0), 50.0),
    ]
    grass = entities[0]
    assert grass.image_path == "val2017/000000000005.jpg"
    assert grass.region.point_xy == (4.5, 4.5)  # 10x10 square: distance 5 first reached at (4, 4)
    assert rejected == {"cocostuff:5:2": "stuff 'other' region (things placeholder)"}
    assert _split(source, "train") == ([], {})


def test_maps_with_things_json(tmp_path: Path) -> None:
    _, things, maps, images = write_cocostuff(tmp_path)
    source = make_source("cocostuff", SourceOptions(root=tmp_path, annotations=(things,), images=images,
                                                    extra={"labels": _labels(tmp_path)}))
    entities, rejected = _split(source, "eval")
    assert [(e.entity_id, e.category, e.region.box_xywh, e.region.area) for e in entities] == [
        ("class124", "grass", (0.0, 0.0, 10.0, 10.0), 100.0),
        ("7", "person", (10.0, 0.0, 10.0, 5.0), 50.0),  # map value 0 (person) comes from the JSON instance
    ]
    assert rle_to_mask(entities[0].region.mask_rle)[:, :10].all() and rejected == {}


def test_maps_only_semantic_regions_and_unknown_names(tmp_path: Path) -> None:
    _, _, maps, images = write_cocostuff(tmp_path)
    source = make_source("cocostuff", SourceOptions(root=tmp_path, images=images, extra={"labels": _labels(tmp_path)}))
    entities, rejected = _split(source, "eval")
    assert [(e.entity_id, e.category, e.region.area) for e in entities] == [("class1", "person", 50.0), ("class124", "grass", 100.0)]
    (tmp_path / "labels.txt").write_text("1: person\n", encoding="utf-8")
    _, rejected = _split(make_source("cocostuff", SourceOptions(root=tmp_path, images=images)), "eval")
    assert rejected == {"cocostuff:5:class124": "unknown category id"}


def test_rle_size_mismatch_and_nothing_given(tmp_path: Path) -> None:
    stuff, _, _, images = write_cocostuff(tmp_path)
    stuff.write_text(stuff.read_text().replace('"size": [10, 20]', '"size": [10, 21]', 1))
    _, rejected = _split(make_source("cocostuff", SourceOptions(annotations=(stuff,), images=images)), "eval")
    assert rejected["cocostuff:5:1"] == "RLE size disagrees with image"
    with pytest.raises(InputFileError, match="cocostuff needs"):
        make_source("cocostuff", SourceOptions(images=images))


def _labels(tmp_path: Path) -> Path:
    path = tmp_path / "my_labels.txt"
    path.write_text("0: unlabeled\n1: person\n124: grass\n183: other\n", encoding="utf-8")
    return path
