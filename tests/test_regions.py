"""Region variants: crop, red circle and box-in-text, checked pixel by pixel and character by character."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from evaluators.models.regions import (
    REGION_VARIANTS,
    apply_region,
    circle_width,
    clamp_box,
    load_image,
    prepare,
    region_box,
)
from evaluators.models.protocol import Item
from scar.core.errors import InputFileError, ScarError


def gradient_image(width: int = 120, height: int = 80) -> Image.Image:
    """Distinct pixel values everywhere, and no pure red, so crops and drawn pixels are identifiable."""
    ys, xs = np.mgrid[0:height, 0:width]
    pixels = np.stack([xs * 2 % 200, ys * 3 % 250, (xs + ys) % 256], axis=-1).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def test_variants_are_the_three_documented():
    assert REGION_VARIANTS == ("crop", "circle", "boxtext")


def test_no_variant_and_no_region_leave_everything_unchanged():
    image = gradient_image()
    boxed = Item(text="q", image="x.png", box_xyxy=(10, 10, 20, 20))
    assert apply_region(image, "q", boxed, None) == (image, "q")
    plain = Item(text="a caption")
    for variant in REGION_VARIANTS:
        out_image, out_text = apply_region(image, "a caption", plain, variant)
        assert out_image is image and out_text == "a caption"
        assert apply_region(None, "a caption", plain, variant) == (None, "a caption")


def test_crop_is_exactly_the_box():
    image = gradient_image()
    before = np.asarray(image).copy()
    item = Item(text="q", box_xyxy=(30.0, 20.0, 70.0, 50.0))
    cropped, text = apply_region(image, "q", item, "crop")
    assert text == "q"
    assert cropped.size == (40, 30)
    np.testing.assert_array_equal(np.asarray(cropped), before[20:50, 30:70])
    np.testing.assert_array_equal(np.asarray(image), before)  # input untouched


def test_crop_clamps_to_the_image_and_keeps_at_least_one_pixel():
    image = gradient_image(120, 80)
    cropped, _ = apply_region(image, "", Item(box_xyxy=(-15.0, 60.0, 500.0, 900.0)), "crop")
    assert cropped.size == (120, 20)
    degenerate, _ = apply_region(image, "", Item(box_xyxy=(40.2, 30.2, 40.2, 30.2)), "crop")
    assert degenerate.size == (1, 1)
    np.testing.assert_array_equal(np.asarray(degenerate)[0, 0], np.asarray(image)[30, 40])
    outside, _ = apply_region(image, "", Item(box_xyxy=(500.0, 500.0, 600.0, 600.0)), "crop")
    assert outside.size == (1, 1)


def test_crop_rounds_fractional_boxes_outward():
    assert clamp_box((10.4, 5.6, 20.2, 9.0), (100, 100)) == (10, 5, 21, 9)


def test_crop_uses_mask_extent_when_there_is_no_box():
    image = gradient_image(120, 80)
    mask = np.zeros((80, 120), dtype=np.uint8, order="F")
    mask[12:30, 40:95] = 1
    rle = mask_utils.encode(mask)
    item = Item(mask_rle=((80, 120), rle["counts"].decode("ascii")))
    assert region_box(item, image.size) == (40.0, 12.0, 95.0, 30.0)
    cropped, _ = apply_region(image, "", item, "crop")
    assert cropped.size == (55, 18)


def test_crop_of_a_point_is_a_square_a_quarter_of_the_short_side():
    image = gradient_image(120, 80)
    cropped, _ = apply_region(image, "", Item(point_xy=(60.0, 40.0)), "crop")
    assert cropped.size == (20, 20)
    np.testing.assert_array_equal(np.asarray(cropped), np.asarray(image)[30:50, 50:70])


def test_circle_is_red_on_the_outline_and_untouched_elsewhere():
    image = gradient_image(320, 240)
    before = np.asarray(image).copy()
    box = (100.0, 60.0, 220.0, 180.0)  # a 120x120 square -> a circle of radius 60 centred at (160, 120)
    drawn, text = apply_region(image, "q", Item(box_xyxy=box), "circle")
    assert text == "q" and drawn.size == image.size
    after = np.asarray(drawn)
    np.testing.assert_array_equal(np.asarray(image), before)  # input untouched
    red = np.all(after == (255, 0, 0), axis=-1)
    changed = np.any(after != before, axis=-1)
    assert np.array_equal(red, changed)  # every changed pixel is pure red
    width = circle_width(image.size)
    assert 2 <= width <= 4
    # outline points on the circle (left, right, top, bottom, just inside the box edge) are red
    for x, y in [(100, 120), (219, 120), (160, 60), (160, 179)]:
        assert red[y, x], (x, y)
    # the centre, points well inside the circle and outside the box keep their original colour
    for x, y in [(160, 120), (130, 120), (160, 150), (101, 61), (50, 50), (300, 200)]:
        assert not changed[y, x], (x, y)
    # all changed pixels lie within the ring of the given width around radius 60
    ys, xs = np.nonzero(changed)
    radius = np.hypot(xs + 0.5 - 160, ys + 0.5 - 120)
    assert radius.max() <= 60.5 and radius.min() >= 60 - width - 1.5


def test_circle_thickness_scales_with_image_size():
    assert circle_width((100, 80)) == 2
    assert circle_width((1000, 600)) == 6
    assert circle_width((1920, 1080)) == 12


def test_boxtext_appends_the_official_box_line():
    item = Item(text="<|image_1|> Find it.", box_xyxy=(10.0, 20.5, 110.0, 220.0))
    image = gradient_image()
    out_image, text = apply_region(image, "Find it.", item, "boxtext")
    assert out_image is image
    assert text == "Find it.\nReferring object bbox: [10.0, 20.5, 110.0, 220.0]"
    # already there: not twice
    assert apply_region(None, text, item, "boxtext")[1] == text


def test_boxtext_matches_the_official_xywh_to_corners_string():
    x, y, w, h = 12.3, 45.6, 78.9, 10.1  # as stored in the parquet bbox column
    official = f"q\nReferring object bbox: {[x, y, x + w, y + h]}"
    assert apply_region(None, "q", Item(box_xyxy=(x, y, x + w, y + h)), "boxtext")[1] == official


def test_boxtext_point_only_uses_the_official_point_line():
    assert apply_region(None, "q", Item(point_xy=(12.4, 7.6)), "boxtext")[1] == "q\nReferring object point: (12, 8)"


def test_unknown_variant_is_a_scar_error():
    with pytest.raises(ScarError, match="unknown region variant 'blur'"):
        apply_region(None, "q", Item(box_xyxy=(0, 0, 1, 1)), "blur")


def test_load_image_gives_rgb_and_names_bad_files(tmp_path):
    path = tmp_path / "gray.png"
    Image.new("L", (5, 4), 128).save(path)
    image = load_image(str(path))
    assert image.mode == "RGB" and image.size == (5, 4)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    with pytest.raises(InputFileError, match="broken.jpg"):
        load_image(str(broken))
    with pytest.raises(InputFileError, match="missing.png.*not found"):
        load_image(str(tmp_path / "missing.png"))


def test_prepare_loads_and_applies(tmp_path):
    gradient_image().save(tmp_path / "img.png")
    item = Item(text="q", image="img.png", box_xyxy=(0.0, 0.0, 10.0, 5.0))
    image, text = prepare(item, "crop", image_root=tmp_path)
    assert image.size == (10, 5) and text == "q"
    assert prepare(Item(text="only text"), "crop") == (None, "only text")
