"""RefCOCO-family loader on a refer-layout fixture with a protocol-2 (Python-2 style) refs pickle."""

from __future__ import annotations

from pathlib import Path

import pytest

from scar.core.errors import InputFileError, ScarError
from scar.core.schema import Entity, Rejected, rle_to_mask
from scar.sources import SourceOptions, make_source
from tests.fixtures_sources import write_refer


def _split(source, split):
    records = list(source.iter_records(split))
    return [r for r in records if isinstance(r, Entity)], {r.record: r.reason for r in records if isinstance(r, Rejected)}


def test_refcoco_plus_train_and_eval(tmp_path: Path) -> None:
    root, images = write_refer(tmp_path, "refcoco+", "unc")
    source = make_source("refcoco+", SourceOptions(root=root, images=images))
    train, rejected = _split(source, "train")
    assert [(e.entity_id, e.category) for e in train] == [("10", "dog"), ("11", "traffic light")]
    dog, sign = train
    assert dog.id == "refcoco+:1:10" and dog.split == "train"
    assert dog.image_path == "COCO_train2014_000000000001.jpg"  # from instances, not the ref's file_name
    assert dog.texts == ("the dog on the left", "brown dog")
    assert sign.texts == ("café sign",)  # UTF-8 bytes of a Python-2 str decoded
    assert dog.region.box_xywh == (2.0, 2.0, 10.0, 8.0) and dog.region.area == 80.0
    assert rle_to_mask(dog.region.mask_rle).sum() == 80 and dog.region.point_xy == (5.5, 5.5)
    # neighbours are all COCO objects of the image, referred or not
    assert sorted(n.category for n in dog.neighbours) == ["person", "traffic light"]
    assert rejected == {
        "refcoco+:1:ref 400": "ann id points nowhere",
        "refcoco+:ref 401": "image id points nowhere",
        "refcoco+:1:ref 402": "non-UTF-8 text",
    }
    evals, rejected = _split(source, "eval")
    assert [(e.entity_id, e.split) for e in evals] == [("30", "eval"), ("31", "eval")]  # val + testA
    assert rejected == {}


def test_eval_splits_option_and_defaults(tmp_path: Path) -> None:
    root, images = write_refer(tmp_path, "refcoco+", "unc")
    only_val = make_source("refcoco+", SourceOptions(root=root, images=images, extra={"eval_splits": ["val"]}))
    assert [e.entity_id for e in _split(only_val, "eval")[0]] == ["30"]
    root_g, images_g = write_refer(tmp_path / "g", "refcocog", "umd")
    assert len(_split(make_source("refcocog", SourceOptions(root=root_g, images=images_g)), "train")[0]) == 2
    with pytest.raises(ScarError, match="refcocog has no 'unc' split"):
        make_source("refcocog", SourceOptions(root=root_g, images=images_g, split_by="unc"))
    with pytest.raises(InputFileError, match=r"refs\(google\)\.p: refs file not found"):
        make_source("refcoco", SourceOptions(root=tmp_path, images=images, split_by="google"))


def test_missing_image_file(tmp_path: Path) -> None:
    root, images = write_refer(tmp_path, "refcoco", "unc")
    (images / "COCO_train2014_000000000003.jpg").unlink()
    evals, rejected = _split(make_source("refcoco", SourceOptions(root=root, images=images)), "eval")
    assert evals == [] and rejected == {"refcoco:3": "missing image file"}


def test_malicious_refs_pickle_is_refused(tmp_path: Path) -> None:
    import os
    import pickle

    root, images = write_refer(tmp_path, "refcoco", "unc")
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (root / "refcoco" / "refs(unc).p").write_bytes(pickle.dumps([Evil()], protocol=2))
    source = make_source("refcoco", SourceOptions(root=root, images=images))
    with pytest.raises(ScarError, match=r"refs\(unc\)\.p: refused to load pickle: it asks for (posix|os)\.system"):
        list(source.iter_records("train"))
    assert not marker.exists()
