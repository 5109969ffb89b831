"""VIRTUE on a tiny random checkpoint (tiny Qwen2-VL + tiny SAM2 + connector file), via the registry."""

from __future__ import annotations

import torch
from PIL import Image
import pytest

from baselines.tiny.qwen2vl import TINY_PIXELS, TINY_SAM_DIM, TINY_SAM_IMAGE_SIZE, connector_state, write_tiny_virtue
from evaluators.models.protocol import Item
from evaluators.models.registry import load_embedder, models
from evaluators.models.virtue import build_prompt, unpatchify
from evaluators.models.virtue_sam import load_connector
from scar.core.errors import ScarError

TINY = {"min_pixels": TINY_PIXELS, "max_pixels": TINY_PIXELS}
S = TINY_SAM_IMAGE_SIZE


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    folder = write_tiny_virtue(tmp_path_factory.mktemp("virtue"), seed=0)
    gradient = Image.linear_gradient("L")
    Image.merge("RGB", (gradient, gradient.rotate(90), gradient.rotate(180))).resize((100, 80)).save(folder / "a.png")
    Image.merge("RGB", (gradient, gradient.rotate(90), gradient.rotate(180))).resize((S, S)).save(folder / "sq.png")
    return folder


@pytest.fixture(scope="module")
def fixed(ckpt):
    return load_embedder(str(ckpt), family="virtue", protocol="fixed", **TINY)


@pytest.fixture(scope="module")
def official(ckpt):
    return load_embedder(str(ckpt), family="virtue", virtue_compat="official", **TINY)


def query(ckpt, image="a.png", **region):
    return Item(text="<|image_1|> Find the caption of the object.", image=str(ckpt / image), **region)


def test_registered_names_and_official_default(ckpt):
    specs = models()
    assert specs["virtue-2b"].hf_id == "Sony/VIRTUE-2B-SCaR" and specs["virtue-7b"].hf_id == "Sony/VIRTUE-7B-SCaR"
    assert specs["virtue-2b"].default_region == "boxtext"
    default = load_embedder(str(ckpt), family="virtue", **TINY)
    assert default.info.protocol == "official" and default.batch_dependent
    assert type(default.processor.image_processor).__name__ == "Qwen2VLImageProcessorPil"


def test_shapes_norm_determinism_and_batching(ckpt, fixed):
    batch = [query(ckpt, box_xyxy=(5, 5, 40, 50)), query(ckpt), Item(text="a salad fork"),
             query(ckpt, point_xy=(60, 30))]
    first = fixed.encode(batch, batch_size=4)
    assert first.shape == (4, 32)
    assert torch.allclose(first.norm(dim=-1), torch.ones(4), atol=1e-5)
    assert torch.equal(first, fixed.encode(batch, batch_size=4))
    one_by_one = torch.cat([fixed.encode([item], 1) for item in batch])
    assert torch.allclose(first, one_by_one, atol=1e-5)  # masked slots of text-only rows change nothing


def test_segmentation_tokens_are_prepended_with_position_zero(ckpt, fixed):
    items = [query(ckpt, box_xyxy=(5, 5, 40, 50)), Item(text="a dog")]
    prepared = [fixed.prepare(item) for item in items]
    enc = fixed.process(prepared)
    embeds, positions = fixed.input_embeddings(enc), fixed.position_ids(enc)
    with torch.inference_mode():
        new_embeds, mask, new_positions = fixed.lm_inputs(items, prepared, enc)
    count = (S // 64) ** 2  # (S/16 / 4)^2 connector tokens
    assert new_embeds.shape[1] == embeds.shape[1] + count
    assert mask[0, :count].all() and not mask[1, :count].any()
    assert (new_positions[:, :, :count] == 0).all()
    assert torch.equal(new_positions[:, :, count:], positions) and torch.equal(new_embeds[:, count:], embeds)
    with torch.inference_mode():
        tokens = fixed.segmentation_tokens(prepared, items, enc)
    assert torch.allclose(new_embeds[0, :count], tokens[0])


def test_box_prompt_changes_the_embedding(ckpt, fixed):
    none, box_a, box_b, point = fixed.encode([query(ckpt), query(ckpt, box_xyxy=(2, 2, 30, 30)),
                                              query(ckpt, box_xyxy=(50, 40, 98, 78)),
                                              query(ckpt, point_xy=(20, 20))], 4)
    assert not torch.allclose(none, box_a, atol=1e-6)
    assert not torch.allclose(box_a, box_b, atol=1e-6)
    assert not torch.allclose(none, point, atol=1e-6)
    # text-only items never reach SAM: same as plain Qwen2-VL on the same weights
    plain = load_embedder(str(ckpt), family="vlm2vec", **TINY)
    text = Item(text="a salad fork")
    assert torch.allclose(fixed.encode([text], 1), plain.encode([text], 1), atol=1e-6)


def test_no_prompt_is_the_nine_point_grid():
    prompt = build_prompt(Item(text="x", image="i.png"), (100, 80), 1024)
    sixths = [1024 / 6, 1024 / 2, 1024 * 5 / 6]
    expected = torch.tensor([[x, y] for y in sixths for x in sixths])
    assert torch.allclose(prompt.coords, expected, atol=1e-3)
    assert prompt.labels.tolist() == [1] * 9 and prompt.mask_logits is None


def test_box_point_and_mask_prompts():
    from pycocotools import mask as mask_utils
    import numpy as np

    item = Item(text="x", image="i.png", box_xyxy=(10, 20, 50, 40), point_xy=(30, 30))
    prompt = build_prompt(item, (200, 100), 1024, "fixed")
    assert torch.allclose(prompt.coords, torch.tensor([[51.2, 204.8], [256.0, 409.6], [153.6, 307.2]]))
    assert prompt.labels.tolist() == [2, 3, 1]
    binary = np.zeros((100, 200), dtype=np.uint8, order="F")
    binary[:, 100:] = 1  # right half
    rle = mask_utils.encode(binary)
    masked = build_prompt(Item(text="x", image="i.png", mask_rle=((100, 200), rle["counts"].decode())),
                          (200, 100), 1024, "fixed", mask_size=256)
    assert masked.labels.tolist() == [-1] and masked.mask_logits.shape == (1, 256, 256)
    assert masked.mask_logits[0, :, :120].max() < 0 < masked.mask_logits[0, :, 136:].min()


def test_compat_modes_differ_only_where_they_should(ckpt, fixed, official):
    box = (5.0, 10.0, 60.0, 70.0)
    item = Item(text="x", image="i.png", box_xyxy=box)
    # prompts: equal when the image is SAM's frame size, unscaled (official) vs scaled (fixed) otherwise
    assert torch.equal(build_prompt(item, (S, S), S, "fixed").coords, build_prompt(item, (S, S), S, "official").coords)
    assert torch.equal(build_prompt(item, (100, 80), S, "official").coords, torch.tensor(box).view(2, 2))
    assert not torch.allclose(build_prompt(item, (100, 80), S, "fixed").coords, torch.tensor(box).view(2, 2))
    point = Item(text="x", image="i.png", point_xy=(10.0, 20.0))
    assert torch.equal(build_prompt(point, (100, 80), S, "fixed").coords, build_prompt(point, (100, 80), S, "official").coords)
    # embeddings: text-only identical; any image differs (SAM's input is normalised twice in official)
    text = Item(text="a salad fork")
    assert torch.equal(fixed.encode([text], 1), official.encode([text], 1))
    assert not torch.allclose(fixed.encode([query(ckpt, "sq.png", box_xyxy=box)], 1),
                              official.encode([query(ckpt, "sq.png", box_xyxy=box)], 1), atol=1e-6)
    enc = fixed.process([fixed.prepare(query(ckpt, "sq.png"))])
    fixed_pixels, official_pixels = fixed.sam_pixels(enc), official.sam_pixels(enc)
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    # fixed: SAM-normalised [0,1] image; official: the CLIP-normalised image normalised again
    assert fixed_pixels.shape == (1, 3, S, S)
    assert 0.0 <= float((fixed_pixels[0] * std + mean).min()) and float((fixed_pixels[0] * std + mean).max()) <= 1.0
    assert float((official_pixels[0] * std + mean).min()) < -0.5


def test_unpatchify_inverts_the_processor(ckpt, fixed):
    enc = fixed.process([fixed.prepare(query(ckpt))])
    proc = fixed.processor.image_processor
    image = unpatchify(enc["pixel_values"], enc["image_grid_thw"], proc.patch_size, proc.merge_size,
                       proc.temporal_patch_size)[0]
    assert image.shape == (3, 56, 56)
    # re-patchify by hand and compare with the processor's rows
    m, p, g = proc.merge_size, proc.patch_size, 56 // proc.patch_size
    rows = image.reshape(3, g // m, m, p, g // m, m, p).permute(1, 4, 2, 5, 0, 3, 6).reshape(g * g, 3, 1, p, p)
    rows = rows.expand(-1, -1, proc.temporal_patch_size, -1, -1).reshape(g * g, -1)
    assert torch.allclose(rows, enc["pixel_values"].float())


def test_connector_file_strict_and_clear_errors(ckpt, tmp_path):
    connector = load_connector(ckpt / "sam2_reducer_and_vlm_layer.pth", TINY_SAM_DIM, 32)
    expected = connector_state(TINY_SAM_DIM, 32, seed=0)
    assert torch.equal(connector.sam2_reducer.weight, expected["sam2_reducer"]["weight"])
    assert torch.equal(connector.sam2vlm_layer[2].bias, expected["sam2vlm_layer"]["2.bias"])
    renamed = dict(expected)
    renamed["sam2vlm_layer"] = {k.replace("0.", "fc1."): v for k, v in expected["sam2vlm_layer"].items()}
    torch.save(renamed, tmp_path / "renamed.pth")
    torch.save({"reducer": expected["sam2_reducer"]}, tmp_path / "keys.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a torch file")
    for name, words in (("renamed.pth", "sam2vlm_layer"), ("keys.pth", "expected a dict"),
                        ("junk.pth", "not a readable torch file"), ("missing.pth", "not found")):
        with pytest.raises(ScarError, match=words) as info:
            load_connector(tmp_path / name, TINY_SAM_DIM, 32)
        assert "\n" not in str(info.value) and name in str(info.value)
    with pytest.raises(ScarError, match="SAM dim 32 -> VLM dim 64"):
        load_connector(ckpt / "sam2_reducer_and_vlm_layer.pth", TINY_SAM_DIM, 64)


def test_not_a_virtue_checkpoint(tmp_path):
    from baselines.tiny.qwen2vl import write_tiny_qwen2vl

    folder = write_tiny_qwen2vl(tmp_path / "plain")
    with pytest.raises(ScarError, match="virtue_sam"):
        load_embedder(str(folder), family="virtue")


def test_official_protocol_reproduces_the_later_call_inputs(ckpt, official):
    """Official: arange positions over the whole padded batch with the segmentation slots at 0, so a
    row depends on its batch; text rows beside image rows get bos copies appended; a point replaces the
    box; masks never reach SAM. Fixed: none of that, and rows do not depend on their batch."""
    short = query(ckpt, box_xyxy=(5, 5, 40, 50))
    long = Item(text="<|image_1|>" + " Find the caption of the object in the box, considering the whole scene, "
                     "its local details and its global context." * 6, image=str(ckpt / "a.png"), box_xyxy=(1, 2, 30, 40))
    items = [short, long, Item(text="a dog")]
    prepared = [official.prepare(item) for item in items]
    enc = official.process(prepared)
    with torch.inference_mode():
        embeds, mask, positions = official.lm_inputs(items, prepared, enc)
    count, length = (S // 64) ** 2, enc["attention_mask"].shape[1]
    assert embeds.shape[1] == count + length and mask[:, :count].all()  # ones for every row, text rows too
    expected = torch.arange(count + length).expand(3, 3, -1).clone()
    expected[:, :, :count] = 0
    assert torch.equal(positions, expected)
    bos = official.embed_tokens(torch.tensor([official.model.config.text_config.bos_token_id]))[0]
    assert torch.allclose(embeds[2, -count:], bos.expand(count, -1))  # the text row: its tokens, then bos copies
    assert torch.allclose(embeds[2, :length], official.input_embeddings(enc)[2])
    # the short query alone vs beside a longer one: official differs (its pad count moves its positions)
    alone, beside = official.encode([short], 1), official.encode([short, long], 2)[:1]
    official_shift = float((alone - beside).abs().max())
    fixed = load_embedder(str(ckpt), family="virtue", protocol="fixed", **TINY)
    assert not fixed.batch_dependent and official.batch_dependent
    fixed_shift = float((fixed.encode([short], 1) - fixed.encode([short, long], 2)[:1]).abs().max())
    assert fixed_shift < 1e-6 and official_shift > 100 * fixed_shift and official_shift > 5e-5, (fixed_shift, official_shift)
    both = Item(text="x", image="i.png", box_xyxy=(10, 20, 50, 40), point_xy=(30, 30))
    prompt = build_prompt(both, (200, 100), 1024, "official")
    assert prompt.labels.tolist() == [1] and torch.allclose(prompt.coords, torch.tensor([[153.6, 307.2]]))
    assert build_prompt(both, (200, 100), 1024, "fixed").labels.tolist() == [2, 3, 1]


def test_protocol_switch_and_its_old_name(ckpt):
    assert load_embedder(str(ckpt), family="virtue", virtue_compat="fixed", **TINY).info.protocol == "fixed"
    with pytest.raises(ScarError, match="disagree"):
        load_embedder(str(ckpt), family="virtue", protocol="fixed", virtue_compat="official", **TINY)
    with pytest.raises(ScarError, match="unknown protocol"):
        load_embedder(str(ckpt), family="virtue", protocol="exact", **TINY)


def test_scar_eval_of_a_registered_virtue_records_the_official_protocol(ckpt, tmp_path):
    import json

    from evaluators.cli import run_eval
    from tests.eval_fixtures import eval_args, scar_fixture

    scar_fixture(tmp_path / "scar")
    base = ["--model", "virtue-2b", "--model-path", str(ckpt), "--tasks", "RefCOCO+", "--scar-root",
            str(tmp_path / "scar"), "--device", "cpu", "--no-progress",
            "--model-option", f"min_pixels={TINY_PIXELS}", "--model-option", f"max_pixels={TINY_PIXELS}"]
    for extra, protocol in (([], "official"), (["--protocol", "fixed"], "fixed"), (["--virtue-compat", "fixed"], "fixed")):
        out = tmp_path / f"out-{protocol}-{len(extra)}"
        assert run_eval(eval_args([*base, "--out", str(out), *extra])) == 0
        record = json.loads((out / "virtue-2b+boxtext" / "RefCOCO+.json").read_text())
        summary = json.loads((out / "virtue-2b+boxtext" / record["run_id"] / "summary.json").read_text())
        assert record["run_id"].startswith("local-") and record["run_id"].endswith("-fixed") == (protocol == "fixed")
        assert record["protocol"] == summary["protocol"] == protocol
        assert ("reference" in record["batching"]) == (protocol == "official")
