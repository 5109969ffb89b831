"""Visual Genome loader: both id spellings, boxes only, phrases/relations as texts, hash split."""

from __future__ import annotations

from pathlib import Path

import pytest

from scar.core.errors import InputFileError
from scar.core.schema import Entity, Rejected
from scar.sources import SourceOptions, make_source
from tests.fixtures_sources import write_visual_genome


def _split(source, split):
    records = list(source.iter_records(split))
    return [r for r in records if isinstance(r, Entity)], {r.record: r.reason for r in records if isinstance(r, Rejected)}


@pytest.mark.parametrize("v14", [True, False])
def test_objects_texts_and_rejections(tmp_path: Path, v14: bool) -> None:
    root, images = write_visual_genome(tmp_path, v14=v14)
    source = make_source("vg", SourceOptions(root=root, images=images, extra={"eval_fraction": 0.0}))
    entities, rejected = _split(source, "train")
    assert [(e.image_id, e.entity_id, e.category) for e in entities] == [("1", "11", "man"), ("1", "12", "horse"), ("2", "21", "wall")]
    man, horse, wall = entities
    assert man.image_path == "VG_100K/1.jpg" and wall.image_path == "VG_100K_2/2.jpg"
    assert man.region.box_xywh == (4.0, 6.0, 10.0, 20.0) and man.region.mask_rle is None
    assert man.region.point_xy == (9.0, 16.0) and horse.region.point_xy == (30.0, 18.0)  # box centres
    assert man.texts == ("a tall man standing", "man riding horse")  # field region: IoU 0.1, not kept
    assert horse.texts == ("brown horse", "man riding horse")  # IoU 320/336
    assert man.attributes == ("tall",) and wall.texts == ()
    assert [n.category for n in man.neighbours] == ["horse"]
    assert rejected == {"vg:1:13": "box partly outside image", "vg:9": "image id points nowhere"}
    assert _split(source, "eval") == ([], {})


def test_hash_split_is_stable_and_complete(tmp_path: Path) -> None:
    root, images = write_visual_genome(tmp_path)
    everything = make_source("vg", SourceOptions(root=root, images=images, extra={"eval_fraction": 1.0}))
    assert len(_split(everything, "eval")[0]) == 3 and _split(everything, "train")[0] == []
    default = make_source("vg", SourceOptions(root=root, images=images, seed=7))
    split_of = {i: default.split_of(i) for i in range(1000)}
    assert 20 <= sum(s == "eval" for s in split_of.values()) <= 90  # ~5%
    assert split_of == {i: make_source("vg", SourceOptions(root=root, images=images, seed=1)).split_of(i) for i in range(1000)}


def test_truncated_objects_file_keeps_complete_images(tmp_path: Path) -> None:
    root, images = write_visual_genome(tmp_path)
    objects = (root / "objects.json").read_text()
    cut = objects.index('{"image_id": 2')
    (root / "objects.json").write_text(objects[: cut + 20])
    source = make_source("vg", SourceOptions(root=root, images=images, extra={"eval_fraction": 0.0}))
    entities, rejected = _split(source, "train")
    assert {e.image_id for e in entities} == {"1"}
    assert rejected["vg:objects.json"] == "truncated JSON"


def test_missing_required_file_and_image(tmp_path: Path) -> None:
    root, images = write_visual_genome(tmp_path)
    (images / "VG_100K_2" / "2.jpg").unlink()
    source = make_source("vg", SourceOptions(root=root, images=images, extra={"eval_fraction": 0.0}))
    assert _split(source, "train")[1]["vg:2"] == "missing image file"
    (root / "objects.json").unlink()
    with pytest.raises(InputFileError, match=r"objects\.json: file not found"):
        list(make_source("vg", SourceOptions(root=root, images=images)).iter_records("train"))


def test_non_utf8_name_rejected(tmp_path: Path) -> None:
    root, images = write_visual_genome(tmp_path)
    path = root / "objects.json"
    path.write_bytes(path.read_bytes().replace(b'"horse"', b'"hor\xffse"', 1))
    source = make_source("vg", SourceOptions(root=root, images=images, extra={"eval_fraction": 0.0}))
    assert _split(source, "train")[1]["vg:1:12"] == "non-UTF-8 text"
