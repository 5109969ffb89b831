"""ADE20K loader: full release (_seg.png class/instance encoding, index pickle) and ADEChallengeData2016."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from scar.core.errors import InputFileError, ScarError
from scar.core.schema import Entity, Rejected, rle_to_mask
from scar.sources import SourceOptions, make_source
from scar.sources.ade20k import decode_ade_seg
from tests.fixtures_sources import write_ade20k_full, write_ade_challenge


def _split(source, split):
    records = list(source.iter_records(split))
    return [r for r in records if isinstance(r, Entity)], {r.record: r.reason for r in records if isinstance(r, Rejected)}


def test_seg_png_decoding() -> None:
    rgb = np.array([[[10, 44, 3], [0, 1, 7], [0, 0, 0]]], dtype=np.uint8)  # class 300 inst 3, class 1 inst 7, none
    labels, pairs = decode_ade_seg(rgb)
    assert sorted(pairs.values()) == [(1, 7), (300, 3)]
    assert labels[0, 2] == 0 and pairs[int(labels[0, 0])] == (300, 3)


def test_full_release_instances_scene_and_splits(tmp_path: Path) -> None:
    release = write_ade20k_full(tmp_path)
    source = make_source("ade20k", SourceOptions(root=release))
    entities, rejected = _split(source, "train")
    assert rejected == {}
    got = [(e.entity_id, e.category, e.region.box_xywh, e.region.area) for e in entities]
    assert got == [
        ("1_1", "wall", (0.0, 0.0, 30.0, 10.0), 300.0),
        ("300_2", "chair", (0.0, 10.0, 15.0, 10.0), 150.0),
        ("300_3", "chair", (15.0, 10.0, 15.0, 10.0), 150.0),
    ]
    wall, chair, _ = entities
    assert wall.scene == "living room" and wall.split == "train"
    assert wall.image_path == "ADE20K_2021_17_01/images/ADE/training/home_or_hotel/living_room/ADE_train_00000001.jpg"
    assert wall.region.point_xy == (4.5, 4.5) and chair.region.point_xy == (4.5, 14.5)
    assert rle_to_mask(chair.region.mask_rle)[10:, :15].all() and rle_to_mask(chair.region.mask_rle).sum() == 150
    assert sorted(n.box_xywh for n in wall.neighbours) == [(0.0, 10.0, 15.0, 10.0), (15.0, 10.0, 15.0, 10.0)]
    evals, _ = _split(source, "eval")
    assert [(e.category, e.scene, e.region.area) for e in evals] == [("wall", "street", 600.0)]


def test_full_release_missing_seg_and_image(tmp_path: Path) -> None:
    release = write_ade20k_full(tmp_path)
    folder = tmp_path / "ADE20K_2021_17_01/images/ADE/training/home_or_hotel/living_room"
    (folder / "ADE_train_00000001.jpg").unlink()
    (tmp_path / "ADE20K_2021_17_01/images/ADE/validation/urban/street/ADE_val_00000001_seg.png").unlink()
    source = make_source("ade20k", SourceOptions(root=release))
    assert _split(source, "train")[1] == {"ade20k:ADE_train_00000001": "missing image file"}
    assert _split(source, "eval")[1] == {"ade20k:ADE_val_00000001": "missing segmentation file"}


def test_malicious_index_refused(tmp_path: Path) -> None:
    release = write_ade20k_full(tmp_path)
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (release / "index_ade20k.pkl").write_bytes(pickle.dumps({"filename": Evil()}))
    with pytest.raises(ScarError, match=r"index_ade20k\.pkl: refused to load pickle"):
        list(make_source("ade20k", SourceOptions(root=release)).iter_records("train"))
    assert not marker.exists()


def test_challenge_semantic_regions(tmp_path: Path) -> None:
    base = write_ade_challenge(tmp_path)
    source = make_source("ade20k", SourceOptions(root=tmp_path, images=base))
    entities, rejected = _split(source, "train")
    assert rejected == {}
    assert [(e.entity_id, e.category, e.region.box_xywh, e.region.area, e.scene) for e in entities] == [
        ("class1", "wall", (0.0, 0.0, 10.0, 10.0), 100.0, "living room"),
        ("class3", "sky", (10.0, 0.0, 10.0, 10.0), 96.0, "living room"),  # 100 minus the 2x2 'other' block
    ]
    assert entities[0].image_path == "images/training/ADE_train_00000001.jpg"
    assert _split(source, "eval") == ([], {})


def test_no_data_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no ADE20K data found"):
        make_source("ade20k", SourceOptions(root=tmp_path))


def test_build_from_root_alone(tmp_path: Path) -> None:
    """As the README shows it: `--root` only. The images root is the folder the index's folders are relative to."""
    import json

    import pyarrow.parquet as pq

    from scar.cli import main

    release = write_ade20k_full(tmp_path / "data")
    out = tmp_path / "out"
    assert main(["build", "--source", "ade20k", "--root", str(release), "--out", str(out), "--no-progress"]) == 0
    rows = [r for p in (out / "ade20k").glob("*.parquet") for r in pq.read_table(p).to_pylist()]
    stats = json.loads((out / "stats.json").read_text())
    splits = stats["sources"]["ade20k"]["splits"]
    assert sum(s["entities"] for s in splits.values()) == 4 and rows, splits  # every image found, none "outside the root"
    assert Path(stats["images_roots"]["ade20k"]) == (tmp_path / "data").resolve()
    assert all(r["qry_image_path"].startswith("ADE20K_2021_17_01/images/ADE/") for r in rows)
    assert main(["validate", str(out)]) == 0  # the recorded images root finds every image


def test_missing_image_folder_is_reported_as_such(tmp_path: Path) -> None:
    import shutil

    release = write_ade20k_full(tmp_path)
    shutil.rmtree(tmp_path / "ADE20K_2021_17_01/images/ADE/validation/urban/street")
    source = make_source("ade20k", SourceOptions(root=release))
    assert _split(source, "train")[1] == {}
    records = list(source.iter_records("eval"))
    assert [(r.reason, r.detail) for r in records if isinstance(r, Rejected)] == [
        ("missing image folder", "ADE20K_2021_17_01/images/ADE/validation/urban/street")
    ]


def test_source_stats_from_the_index(tmp_path: Path) -> None:
    release = write_ade20k_full(tmp_path)
    index = pickle.loads((release / "index_ade20k.pkl").read_bytes())
    index["objectPresence"][0, 0], index["objectPresence"][299, 0] = 1, 2  # train image: one wall, two chairs
    (release / "index_ade20k.pkl").write_bytes(pickle.dumps(index, protocol=4))
    stats = make_source("ade20k", SourceOptions(root=release)).source_stats("train")
    assert stats == {"categories": {"chair": 2, "wall": 1}, "scenes": {"living room": 1}, "images": [["wall", "chair", "chair"]],
                     "image_scenes": ["living room"]}  # fmt: skip
