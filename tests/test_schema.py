import numpy as np
import pyarrow.parquet as pq
import pytest

from scar.core.schema import (
    OFFICIAL_EVAL_COLUMNS,
    CaptionParts,
    Entity,
    GeneratorInfo,
    Region,
    Sample,
    box_inside_image,
    clip_box_xywh,
    mask_to_rle,
    parquet_schema,
    rle_area,
    rle_to_mask,
    rows_to_table,
    xywh_to_xyxy,
    xyxy_to_xywh,
)


def _sample(split="eval", with_mask=True):
    mask = np.zeros((30, 40), dtype=bool)
    mask[5:15, 10:30] = True
    region = Region((10.0, 5.0, 20.0, 10.0), (20.0, 10.0), mask_to_rle(mask) if with_mask else None)
    entity = Entity("demo", split, "img1", "3", "demo/eval/img1.png", 40, 30, "cup", region, texts=("red cup",))
    gold = CaptionParts("a red cup", "to the left of the plate", "in a kitchen")
    negs = [gold.replace("object", o).text for o in ("a blue ball", "a lamp", "a shoe")]
    negs += [gold.replace("relation", r).text for r in ("to the right of the plate", "under the plate", "above the plate")]
    negs += [gold.replace("scene", s).text for s in ("on a beach", "in a street", "in a meadow")]
    types = ("object",) * 3 + ("relation",) * 3 + ("scene",) * 3
    return Sample(entity, gold, tuple(negs), types, GeneratorInfo("offline", "rules-v1", "offline-1", 7), train_negative_index=4)


def test_box_helpers():
    assert xywh_to_xyxy((1, 2, 3, 4)) == (1.0, 2.0, 4.0, 6.0)
    assert xyxy_to_xywh((1, 2, 4, 6)) == (1.0, 2.0, 3.0, 4.0)
    assert box_inside_image((0, 0, 40, 30), 40, 30)
    assert not box_inside_image((30, 0, 20, 10), 40, 30)
    assert not box_inside_image((1, 1, 0, 5), 40, 30)
    assert clip_box_xywh((-5, 20, 20, 20), 40, 30) == (0.0, 20.0, 15.0, 10.0)


def test_rle_round_trip_and_area():
    mask = np.zeros((7, 9), dtype=bool)
    mask[2:5, 3:8] = True
    rle = mask_to_rle(mask)
    assert rle["size"] == [7, 9] and isinstance(rle["counts"], str)
    assert np.array_equal(rle_to_mask(rle), mask)
    assert rle_area(rle) == 15


@pytest.mark.parametrize("split", ["train", "eval"])
def test_parquet_round_trip(tmp_path, split):
    sample = _sample(split)
    assert sample.check() == []
    row = sample.to_row()
    path = tmp_path / "x.parquet"
    pq.write_table(rows_to_table([row, _sample(split, with_mask=False).to_row()], split), path)
    back = pq.read_table(path).to_pylist()
    assert back[0] == row
    assert back[1]["mask"] is None
    assert pq.read_schema(path).names == parquet_schema(split).names
    assert list(row)[:4] == list(OFFICIAL_EVAL_COLUMNS)
    assert row["tgt_text"][0] == "a red cup to the left of the plate in a kitchen"
    assert row["bbox"] == [10.0, 5.0, 20.0, 10.0]
    assert row["qry_text"].startswith("<|image_1|>\nFind the caption")
    if split == "train":
        assert row["pos_text"] == row["tgt_text"][0]
        assert row["neg_text"] == row["tgt_text"][1 + 4]
        assert row["qry"] == row["qry_text"]
    else:
        assert "pos_text" not in row


def test_sample_check_finds_problems():
    good = _sample()
    dup = Sample(good.entity, good.gold, (good.gold.text, *good.negatives[1:]), good.neg_types, good.generator)
    assert any("distinct" in p for p in dup.check())
    short = Sample(good.entity, good.gold, good.negatives[:8], good.neg_types[:8], good.generator)
    assert len(short.check()) == 2
    wrong_types = Sample(good.entity, good.gold, good.negatives, ("object",) * 9, good.generator)
    assert any("types" in p for p in wrong_types.check())


def test_caption_parts_replace_only_one_part():
    parts = CaptionParts("a dog", "next to the bench", "in a park")
    swapped = parts.replace("scene", "on a beach")
    assert (swapped.object, swapped.relation, swapped.scene) == ("a dog", "next to the bench", "on a beach")
    with pytest.raises(ValueError):
        parts.replace("colour", "red")
