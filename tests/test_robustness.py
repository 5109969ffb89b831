"""The perturbation suite (evaluators.robustness): determinism, bins, positions, tolerances, the image
border, tiny masks, routing by prompt kind, and the perturbed query text. No model, no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evaluators.models.protocol import Item
from evaluators.models.regions import BOX_TEXT_PREFIX, POINT_TEXT_PREFIX
from evaluators.robustness import geometry
from evaluators.robustness.levels import perturbed_item, strip_region
from evaluators.robustness.perturb import Region, draw
from evaluators.robustness.routing import routes
from evaluators.robustness.suite import DEFAULT_SUITE, MASK_IOU_TOLERANCE, OUTSIDE_FRACTION, suite
from scar.core.errors import ScarError

REPO = Path(__file__).resolve().parents[1]
W, H = 64, 48


def disc(cx: float, cy: float, r: float, w: int = W, h: int = H) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def region_from_mask(sample_id: str, mask: np.ndarray, point: tuple[float, float] | None = None) -> Region:
    h, w = mask.shape
    return Region(sample_id, w, h, geometry.mask_box(mask), point=point, mask_rle=geometry.encode(mask))


def regions() -> list[Region]:
    """Masks and boxes of every awkward kind: ordinary, at each border, the whole image, two parts,
    tiny (1 and 4 px), and a box-only row (the official files)."""
    two = disc(15, 20, 6) | disc(45, 25, 7)
    corner = np.zeros((H, W), bool)
    corner[:10, :12] = True
    right = np.zeros((H, W), bool)
    right[20:40, 50:] = True
    whole = np.ones((H, W), bool)
    one = np.zeros((H, W), bool)
    one[47, 63] = True
    four = np.zeros((H, W), bool)
    four[0:2, 30:32] = True
    out = [region_from_mask("disc", disc(30, 24, 10), point=(30.5, 24.5)), region_from_mask("two", two),
           region_from_mask("corner", corner), region_from_mask("right", right), region_from_mask("whole", whole),
           region_from_mask("one", one), region_from_mask("four", four)]
    out.append(Region("box-only", W, H, (5.0, 6.5, 40.25, 30.0)))
    out.append(Region("box-border", W, H, (0.0, 0.0, float(W), 20.0)))
    out.append(Region("box-tiny", W, H, (63.2, 47.1, 63.9, 47.8)))
    rng = np.random.default_rng(7)
    for i in range(40):
        x1, y1 = rng.uniform(0, W - 2), rng.uniform(0, H - 2)
        out.append(Region(f"rand{i}", W, H, (x1, y1, rng.uniform(x1 + 0.5, W), rng.uniform(y1 + 0.5, H))))
    return out


def all_prompts(seed: int = 0) -> list[dict]:
    return [draw(r, lvl, seed).to_json() | {"id": r.sample_id} for r in regions() for lvl in DEFAULT_SUITE]


def test_same_prompts_in_two_processes_with_different_hash_seeds() -> None:
    script = ("import json, sys; sys.path.insert(0, '.'); from tests.test_robustness import all_prompts; "
              "print(json.dumps(all_prompts(3)))")
    outs = []
    for hash_seed in ("1", "987"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                              check=True)
        outs.append(json.loads(done.stdout))
    assert outs[0] == outs[1] == json.loads(json.dumps(all_prompts(3)))
    assert all_prompts(3) != all_prompts(4), "the seed changes the draws"


def test_a_prompt_depends_on_its_own_key_only() -> None:
    r = regions()[0]
    level = DEFAULT_SUITE[2]
    first = draw(r, level, 0)
    for other in DEFAULT_SUITE:  # drawing other levels in between changes nothing
        draw(r, other, 0)
    assert draw(r, level, 0) == first


@pytest.mark.parametrize("level", [lvl for lvl in DEFAULT_SUITE if lvl.kind == "box"], ids=lambda lvl: lvl.id)
def test_every_box_is_inside_the_image_and_its_iou_inside_its_bin(level) -> None:
    for r in regions():
        p = draw(r, level, 0)
        assert p.skipped is None and p.box is not None
        assert geometry.inside_image(p.box, r.width, r.height), (r.sample_id, p)
        assert p.iou == pytest.approx(geometry.box_iou(p.box, r.box))
        lo, hi = level.params.get("lo"), level.params.get("hi")
        if level.params.get("op") == "noise":
            assert lo <= p.iou <= hi and (hi >= 1.0 or p.iou < hi), (r.sample_id, p.iou, p.method)
            assert p.method in ("box noise", "shrink")
        elif level.is_clean:
            assert p.box == r.box and p.iou == 1.0
        else:  # loose: grown 10-20% per side length, then cut to the image
            assert p.iou <= 1.0
            if p.box[0] > 0 and p.box[1] > 0 and p.box[2] < r.width and p.box[3] < r.height:  # not cut
                assert 1 / 1.2 ** 2 - 1e-9 <= p.iou <= 1 / 1.1 ** 2 + 1e-9


def test_box_noise_is_sampled_not_the_fallback_for_ordinary_boxes() -> None:
    noise = [lvl for lvl in DEFAULT_SUITE if lvl.params.get("op") == "noise"]
    methods = [draw(r, lvl, 0).method for r in regions() if r.sample_id.startswith("rand") for lvl in noise]
    assert methods.count("box noise") >= 0.95 * len(methods)


@pytest.mark.parametrize("level", [lvl for lvl in DEFAULT_SUITE if lvl.kind == "point"], ids=lambda lvl: lvl.id)
def test_points_lie_inside_or_outside_the_mask_as_the_level_says(level) -> None:
    for r in regions():
        p = draw(r, level, 0)
        if p.skipped:
            assert level.name == "outside" and r.sample_id == "whole", (r.sample_id, p.skipped)
            continue
        x, y = p.point
        assert 0 <= x < r.width and 0 <= y < r.height
        on_mask = bool(r.mask[int(y), int(x)])
        assert p.inside is on_mask
        if level.name == "outside":
            reach = max(2.0, OUTSIDE_FRACTION * np.sqrt(r.area))
            assert not on_mask and -reach <= p.distance < 0
        else:
            assert on_mask and p.distance > 0
        if level.name == "edge":
            assert p.distance <= 2.0
    built = draw(regions()[0], DEFAULT_SUITE[5], 0)
    assert built.point == (30.5, 24.5) and built.method == "the build's point"


@pytest.mark.parametrize("level", [lvl for lvl in DEFAULT_SUITE if lvl.kind == "mask"], ids=lambda lvl: lvl.id)
def test_masks_reach_their_iou_within_the_tolerance_inside_the_image(level) -> None:
    for r in regions():
        p = draw(r, level, 0)
        if p.skipped:
            assert level.name != "exact" and level.name != "partial"
            assert r.area < 200 or r.sample_id == "whole", (r.sample_id, r.area, p.skipped)
            continue
        mask = geometry.decode(p.mask_rle)
        assert mask.shape == (r.height, r.width) and mask.any()
        assert p.iou == pytest.approx(geometry.mask_iou(mask, r.mask))
        target = level.params.get("target")
        if target is not None:
            assert abs(p.iou - target) <= MASK_IOU_TOLERANCE, (r.sample_id, p.iou)
            inner, outer = (mask, r.mask) if level.name.startswith("erode") else (r.mask, mask)
            assert not (inner & ~outer).any(), "erosion keeps a subset, dilation a superset"
        if level.name == "partial":
            assert not (mask & ~r.mask).any() and (p.iou < 1.0 or r.area == 1)
        if level.name == "exact":
            assert p.iou == 1.0


def test_tiny_masks_are_skipped_with_a_reason_not_faked() -> None:
    one = next(r for r in regions() if r.sample_id == "one")
    erode = draw(one, next(lvl for lvl in DEFAULT_SUITE if lvl.name == "erode80"), 0)
    assert erode.skipped and "too small" in erode.skipped and erode.mask_rle is None
    whole = next(r for r in regions() if r.sample_id == "whole")
    dilate = draw(whole, next(lvl for lvl in DEFAULT_SUITE if lvl.name == "dilate60"), 0)
    assert dilate.skipped and "inside the image" in dilate.skipped


def test_a_box_only_row_draws_points_and_masks_from_its_box() -> None:
    r = next(r for r in regions() if r.sample_id == "box-only")
    assert r.mask_from == "box"
    mask = draw(r, next(lvl for lvl in DEFAULT_SUITE if lvl.name == "exact"), 0)
    assert mask.region_from == "box" and geometry.decode(mask.mask_rle).sum() == r.area


# ---------------------------------------------------------------- routing


def test_routing_by_prompt_kind() -> None:
    virtue = routes(("box", "point", "mask"), "boxtext", "virtue", "official", "virtue-2b")
    assert virtue["box"].how.startswith("native") and virtue["point"].how.startswith("native")
    assert virtue["mask"].takes and virtue["mask"].how.startswith("+boxtext") and "SAM" in virtue["mask"].how
    local = routes((), "boxtext", "virtue", "official", "./my-virtue")  # a folder with --family virtue
    assert local["box"].how == virtue["box"].how and local["mask"].how == virtue["mask"].how
    fixed = routes(("box", "point", "mask"), "boxtext", "virtue", "fixed", "virtue-2b")
    assert all(fixed[k].how.startswith("native") for k in ("box", "point", "mask"))
    crop = routes((), "crop", "clip", "official", "clip+crop")
    assert all(crop[k].takes and crop[k].how.startswith("+crop") for k in ("box", "point", "mask", "none") if k != "none")
    blind = routes((), None, "clip", "official", "clip-vit-l-14")
    assert not any(r.takes for r in blind.values()) and "takes no box prompt" in blind["box"].how
    mine = routes(("box",), None, "custom", "official", "mine")
    assert mine["box"].takes and not mine["point"].takes and not mine["mask"].takes and mine["none"].takes
    assert "declares native kinds: box" in mine["mask"].how


def test_unknown_suite_is_one_line() -> None:
    with pytest.raises(ScarError, match="unknown robustness suite 'nope'; choose from default"):
        suite("nope")


# ---------------------------------------------------------------- the perturbed query


def test_perturbed_query_text_carries_the_perturbed_prompt_only() -> None:
    text = "<|image_1|> \nFind the caption.\nReferring object bbox: [1.0, 2.0, 4.0, 6.0]"
    clean = Item(text=text, image="x.png", box_xyxy=(1.0, 2.0, 4.0, 6.0), instruction="Find the caption.")
    assert strip_region(text) == "<|image_1|> \nFind the caption."
    r = Region("q", W, H, (1.0, 2.0, 4.0, 6.0))
    levels = {lvl.id: lvl for lvl in DEFAULT_SUITE}
    same = perturbed_item(clean, draw(r, levels["box:clean"], 0))
    assert same.text == text and same.box_xyxy == clean.box_xyxy and same.point_xy is None
    box = perturbed_item(clean, draw(r, levels["box:iou50"], 0))
    assert box.text != text and box.text.startswith(strip_region(text) + "\n" + BOX_TEXT_PREFIX)
    point = perturbed_item(clean, draw(r, levels["point:interior"], 0))
    assert point.box_xyxy is None and point.mask_rle is None and POINT_TEXT_PREFIX in point.text
    assert BOX_TEXT_PREFIX not in point.text
    mask = perturbed_item(clean, draw(r, levels["mask:exact"], 0))
    assert mask.mask_rle is not None and mask.box_xyxy is None and BOX_TEXT_PREFIX in mask.text
    floor = perturbed_item(clean, draw(r, levels["none:floor"], 0))
    assert not floor.has_region and floor.text == strip_region(text)
