"""The demo source: deterministic rendered scenes whose masks, boxes and points are exact."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from scipy import ndimage

from scar.core.errors import ScarError
from scar.core.schema import Entity, Rejected, rle_area, rle_to_mask
from scar.sources import make_source
from scar.sources.base import SourceOptions
from scar.sources.demo import DEFAULT_IMAGES, MIN_VISIBLE_FRACTION, DemoSource, render_image


def _source(images: Path, n: int = 12, seed: int = 0, **kw) -> DemoSource:
    return DemoSource(SourceOptions(images=images, seed=seed, extra={"demo_images": n}, **kw))


def _records(images: Path, split: str = "train", **kw) -> list[Entity | Rejected]:
    return list(_source(images, **kw).iter_records(split))


@pytest.fixture(scope="module")
def train(tmp_path_factory) -> tuple[Path, list[Entity | Rejected]]:
    images = tmp_path_factory.mktemp("demo")
    return images, _records(images, n=30)


def _entities(records) -> list[Entity]:
    return [r for r in records if isinstance(r, Entity)]


def test_registered_under_its_name(tmp_path):
    src = make_source("demo", SourceOptions(images=tmp_path))
    assert src.name == "demo"
    assert src.counts == DEFAULT_IMAGES == {"train": 240, "eval": 80}


def test_needs_an_images_root():
    with pytest.raises(ScarError, match="images"):
        DemoSource(SourceOptions())


def test_same_seed_same_entities_and_png_bytes(tmp_path):
    a = _records(tmp_path / "a", n=6, seed=3)
    b = _records(tmp_path / "b", n=6, seed=3)
    assert a == b and len(_entities(a)) > 0
    for e in _entities(a):
        assert (tmp_path / "a" / e.image_path).read_bytes() == (tmp_path / "b" / e.image_path).read_bytes()


def test_different_seed_different_data(tmp_path):
    a = _records(tmp_path / "a", n=6, seed=0)
    b = _records(tmp_path / "b", n=6, seed=1)
    assert a != b
    differing = [
        p.name
        for p in (tmp_path / "a" / "demo" / "train").glob("*.png")
        if p.read_bytes() != (tmp_path / "b" / "demo" / "train" / p.name).read_bytes()
    ]
    assert len(differing) == 6


def test_splits_are_disjoint(tmp_path):
    train = _entities(_records(tmp_path, "train", n=8))
    evaluation = _entities(_records(tmp_path, "eval", n=8))
    assert {e.split for e in train} == {"train"} and {e.split for e in evaluation} == {"eval"}
    assert not {e.image_id for e in train} & {e.image_id for e in evaluation}
    train_png = {(tmp_path / e.image_path).read_bytes() for e in train}
    eval_png = {(tmp_path / e.image_path).read_bytes() for e in evaluation}
    assert not train_png & eval_png


def test_images_written_where_rows_say(train):
    images, records = train
    for e in _entities(records):
        assert e.image_path == f"demo/train/{e.image_id}.png"
        with Image.open(images / e.image_path) as im:
            assert im.size == (e.image_width, e.image_height)
    widths = {e.image_width for e in _entities(records)}
    assert len(widths) > 3 and min(widths) >= 320 and max(widths) <= 480


def test_masks_are_exact_after_occlusion(train):
    _, records = train
    by_image = defaultdict(list)
    for e in _entities(records):
        by_image[e.image_id].append(e)
    for image_id, entities in by_image.items():
        index = int(image_id.split("-")[1])
        _, rendered, _ = render_image(0, "train", index)
        full = rendered.full_masks
        for e in entities:
            k = int(e.entity_id)
            mask = rle_to_mask(e.region.mask_rle)
            # independently: visible = my whole shape minus everything drawn after me
            later = np.zeros_like(mask)
            for j in range(k + 1, len(full)):
                later |= full[j]
            expected = full[k] & ~later
            np.testing.assert_array_equal(mask, expected)
            np.testing.assert_array_equal(mask, rendered.ids == k + 1)
            assert rle_area(e.region.mask_rle) == int(expected.sum())
        masks = [rle_to_mask(e.region.mask_rle) for e in entities]
        assert int(sum(m.astype(int) for m in masks).max()) <= 1  # instances never share a pixel


def test_box_is_the_tight_box_and_point_is_deep_inside(train):
    _, records = train
    for e in _entities(records):
        mask = rle_to_mask(e.region.mask_rle)
        ys, xs = np.nonzero(mask)
        x, y, w, h = e.region.box_xywh
        assert (x, y, w, h) == (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
        coco = {"size": e.region.mask_rle["size"], "counts": e.region.mask_rle["counts"].encode()}
        assert list(mask_utils.toBbox(coco)) == [x, y, w, h]
        px, py = e.region.point_xy
        assert mask[int(py), int(px)]
        depth = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
        assert depth[int(py), int(px)] == depth.max()


def test_entity_fields(train):
    _, records = train
    entities = _entities(records)
    for e in entities:
        assert e.source == "demo" and e.split == "train"
        assert e.id == f"demo:{e.image_id}:{e.entity_id}"
        assert len(e.texts) == 1 and e.category.split()[-1] in e.texts[0]
        assert e.attributes and e.attributes[0] in e.texts[0] or e.category in e.texts[0]
        assert e.scene in {"beach", "kitchen", "street", "meadow", "living room", "park", "bedroom"}
        same_image = [o for o in entities if o.image_id == e.image_id and o.entity_id != e.entity_id]
        for other in same_image:  # every other kept object is a neighbour, with its own box
            assert any(n.category == other.category and n.box_xywh == other.region.box_xywh for n in e.neighbours)
    assert len({e.scene for e in entities}) >= 5
    assert len({e.category for e in entities}) >= 12
    assert any(len(e.neighbours) >= 2 for e in entities)


def test_occluded_objects_become_rejections(train):
    _, records = train
    rejected = [r for r in records if isinstance(r, Rejected)]
    assert rejected, "30 images should hide at least one object"
    for r in rejected:
        assert r.reason == "occluded" and r.source == "demo"
        _, image_id, k = r.record.split(":")
        _, rendered, _ = render_image(0, "train", int(image_id.split("-")[1]))
        visible = int((rendered.ids == int(k) + 1).sum())
        assert visible < max(30, MIN_VISIBLE_FRACTION * rendered.full_masks[int(k)].sum())


def test_max_per_image_keeps_the_largest(tmp_path):
    capped = _entities(_records(tmp_path / "a", n=20, max_per_image=1))
    full = _entities(_records(tmp_path / "b", n=20))
    per_image = defaultdict(list)
    for e in full:
        per_image[e.image_id].append(e)
    assert len({e.image_id for e in capped}) == len(capped)
    assert len(capped) < len(full)
    for e in capped:
        assert rle_area(e.region.mask_rle) == max(rle_area(o.region.mask_rle) for o in per_image[e.image_id])


def test_min_area_rejects_small_regions(tmp_path):
    records = _records(tmp_path, n=20, min_area=0.02)
    for e in _entities(records):
        assert rle_area(e.region.mask_rle) >= 0.02 * e.image_width * e.image_height
    assert any(isinstance(r, Rejected) and r.reason == "below min area" for r in records)


def test_stream_is_lazy_and_rerun_safe(tmp_path):
    it = _source(tmp_path, n=50).iter_records("eval")
    next(it)
    assert len(list((tmp_path / "demo" / "eval").glob("*.png"))) == 1
    list(_source(tmp_path, n=3).iter_records("eval"))
    first = tmp_path / "demo" / "eval" / "eval-00000.png"
    before = (first.stat().st_mtime_ns, first.read_bytes())
    list(_source(tmp_path, n=3).iter_records("eval"))
    assert (first.stat().st_mtime_ns, first.read_bytes()) == before
    assert not list((tmp_path / "demo" / "eval").glob(".*tmp"))
