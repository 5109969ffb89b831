"""CLIP and SigLIP embedders on tiny random-weight checkpoints, loaded through the registry path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from baselines.tiny import ensure_tiny_models
from evaluators.models.protocol import Item
from evaluators.models.regions import draw_circle
from evaluators.models.registry import load_embedder
from scar.core.errors import ScarError

FAMILIES = {"tiny-clip": "clip", "tiny-siglip": "siglip"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    paths = ensure_tiny_models(root)
    images = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(7)
    for index, size in enumerate([(96, 64), (50, 80), (64, 64)]):
        pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels, "RGB").save(images / f"img{index}.png")
    return paths, images


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def model_dir(request, tiny):
    paths, _ = tiny
    return str(paths[request.param]), FAMILIES[request.param]


def direct_features(embedder, image=None, text=None):
    """The model's own projected features, computed without the embedder's batching and fusion."""
    model, processor = embedder.model, embedder.processor
    with torch.inference_mode():
        if image is not None:
            pixels = processor.image_processor(images=[image], return_tensors="pt")["pixel_values"]
            out = model.get_image_features(pixel_values=pixels)
            return (out if isinstance(out, torch.Tensor) else out.pooler_output)[0]
        padding = "max_length" if embedder.info.family == "siglip" else "longest"
        tokens = processor.tokenizer([text], padding=padding, max_length=64, truncation=True, return_tensors="pt")
        out = model.get_text_features(input_ids=tokens["input_ids"])
        return (out if isinstance(out, torch.Tensor) else out.pooler_output)[0]


def mixed_items(images):
    return [
        Item(text="<|image_1|> Find the caption that best describes the object.", image=str(images / "img0.png"), box_xyxy=(10.0, 5.0, 60.0, 40.0)),
        Item(text="a dog lying on a wooden table in a kitchen"),
        Item(image=str(images / "img1.png")),
        Item(text="<|image_1|> Represent the image.", image=str(images / "img2.png")),
        Item(text="a cat"),
        Item(text="a red car parked on the street at night, with many more words to make it longer"),
        Item(text="<|image_1|> Describe the region.", image=str(images / "img1.png"), box_xyxy=(0.0, 0.0, 25.0, 30.0)),
    ]


def test_shapes_unit_norm_and_info(model_dir, tiny):
    path, family = model_dir
    _, images = tiny
    embedder = load_embedder(path, family=family)
    out = embedder.encode(mixed_items(images), batch_size=3)
    assert out.shape == (7, 16 if family == "clip" else 32) and out.dtype == torch.float32
    torch.testing.assert_close(out.norm(dim=-1), torch.ones(7))
    assert embedder.info.model_id == path and embedder.info.family == family
    assert embedder.info.options["region"] is None and embedder.info.options["fusion"] == "sum"
    assert embedder.encode([], batch_size=4).shape == (0, out.shape[1])


def test_deterministic_and_batch_size_independent(model_dir, tiny):
    path, family = model_dir
    _, images = tiny
    embedder = load_embedder(path + "+crop", family=family)
    items = mixed_items(images)
    first = embedder.encode(items, batch_size=7)
    torch.testing.assert_close(embedder.encode(items, batch_size=7), first, rtol=0, atol=0)
    for batch_size in (1, 2, 5):
        torch.testing.assert_close(embedder.encode(items, batch_size=batch_size), first, rtol=1e-4, atol=1e-5)
    reloaded = load_embedder(path + "+crop", family=family)
    torch.testing.assert_close(reloaded.encode(items, batch_size=3), first, rtol=1e-4, atol=1e-5)


def test_text_only_is_the_text_tower_without_image_token(model_dir):
    """The fixed protocol strips the image token and uses the tokenizer's own mask."""
    path, family = model_dir
    embedder = load_embedder(path, family=family, protocol="fixed")
    out = embedder.encode([Item(text="<|image_1|> a cat on a mat"), Item(text="a cat on a mat")], batch_size=2)
    expected = F.normalize(direct_features(embedder, text="a cat on a mat"), dim=-1)
    torch.testing.assert_close(out[0], expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out[1], expected, rtol=1e-4, atol=1e-5)


def test_fusion_rules(model_dir, tiny):
    path, family = model_dir
    _, images = tiny
    fixed = {"protocol": "fixed"}
    image = Image.open(images / "img2.png").convert("RGB")
    item = Item(text="<|image_1|> Represent the image.", image=str(images / "img2.png"))
    image_features = direct_features(load_embedder(path, family=family, **fixed), image=image)
    text_features = direct_features(load_embedder(path, family=family, **fixed), text="Represent the image.")
    summed = load_embedder(path, family=family, **fixed).encode([item], 1)[0]
    torch.testing.assert_close(summed, F.normalize(image_features + text_features, dim=-1), rtol=1e-4, atol=1e-5)
    mean = load_embedder(path, family=family, fusion="mean", **fixed).encode([item], 1)[0]
    expected_mean = F.normalize(F.normalize(image_features, dim=-1) + F.normalize(text_features, dim=-1), dim=-1)
    torch.testing.assert_close(mean, expected_mean, rtol=1e-4, atol=1e-5)
    image_only = load_embedder(path, family=family, fusion="image", **fixed).encode([item], 1)[0]
    torch.testing.assert_close(image_only, F.normalize(image_features, dim=-1), rtol=1e-4, atol=1e-5)
    # an item with an image and no text is its image embedding under every rule and protocol
    official = load_embedder(path, family=family)
    torch.testing.assert_close(official.encode([Item(image=item.image)], 1)[0],
                               F.normalize(direct_features(official, image=image), dim=-1), rtol=1e-4, atol=1e-5)
    bare = load_embedder(path, family=family, **fixed).encode([Item(image=item.image)], 1)[0]
    torch.testing.assert_close(bare, F.normalize(image_features, dim=-1), rtol=1e-4, atol=1e-5)
    with pytest.raises(ScarError, match="unknown fusion 'max'"):
        load_embedder(path, family=family, fusion="max")


def official_text_features(embedder, text):
    """The official collator's text input by hand: the literal text, attention mask = ids != pad (the
    end-of-text token is the pad token of both tiny tokenizers), no padding beyond the text itself."""
    tokenizer = embedder.processor.tokenizer
    ids = tokenizer([text], truncation=True, max_length=77, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        out = embedder.model.get_text_features(input_ids=ids, attention_mask=(ids != tokenizer.pad_token_id).long())
    return (out if isinstance(out, torch.Tensor) else out.pooler_output)[0]


def test_official_protocol_keeps_the_image_token_and_hides_end_of_text(model_dir, tiny):
    path, family = model_dir
    _, images = tiny
    official = load_embedder(path, family=family)
    assert official.info.protocol == "official"
    assert type(official.processor.image_processor).__name__.endswith("Pil")  # resized with PIL, as transformers 4
    assert not type(load_embedder(path, family=family, protocol="fixed").processor.image_processor).__name__.endswith("Pil")
    tokenizer = official.processor.tokenizer
    assert tokenizer.pad_token_id == tokenizer.eos_token_id  # the quirk needs pad = end-of-text, as in openai CLIP
    texts = ["<|image_1|> a cat on a mat", "a red car parked on the street at night", "a cat"]
    out = official.encode([Item(text=t) for t in texts], batch_size=3)  # padded inside the batch
    for row, text in enumerate(texts):
        torch.testing.assert_close(out[row], F.normalize(official_text_features(official, text), dim=-1),
                                   rtol=1e-4, atol=1e-5)
    fixed = load_embedder(path, family=family, protocol="fixed").encode([Item(text=texts[0])], 1)[0]
    assert not torch.allclose(out[0], fixed, atol=1e-3)
    item = Item(text="<|image_1|> Represent the image.", image=str(images / "img2.png"))
    image = Image.open(images / "img2.png").convert("RGB")
    expected = direct_features(official, image=image) + official_text_features(official, item.text)
    torch.testing.assert_close(official.encode([item], 1)[0], F.normalize(expected, dim=-1), rtol=1e-4, atol=1e-5)


def test_crop_embeds_exactly_the_box(tiny, tmp_path):
    paths, images = tiny
    path = str(paths["tiny-clip"])
    box = (10.0, 5.0, 60.0, 40.0)
    Image.open(images / "img0.png").convert("RGB").crop((10, 5, 60, 40)).save(tmp_path / "cropped.png")
    cropped = load_embedder(path + "+crop", family="clip").encode([Item(image=str(images / "img0.png"), box_xyxy=box)], 1)
    by_hand = load_embedder(path, family="clip").encode([Item(image=str(tmp_path / "cropped.png"))], 1)
    torch.testing.assert_close(cropped, by_hand, rtol=1e-4, atol=1e-5)
    plain = load_embedder(path, family="clip").encode([Item(image=str(images / "img0.png"), box_xyxy=box)], 1)
    assert not torch.allclose(cropped, plain, atol=1e-3)


def test_circle_embeds_the_marked_full_image(tiny, tmp_path):
    paths, images = tiny
    path = str(paths["tiny-clip"])
    box = (10.0, 5.0, 60.0, 40.0)
    draw_circle(Image.open(images / "img0.png").convert("RGB"), box).save(tmp_path / "circled.png")
    circled = load_embedder(path + "+circle", family="clip").encode([Item(image=str(images / "img0.png"), box_xyxy=box)], 1)
    by_hand = load_embedder(path, family="clip").encode([Item(image=str(tmp_path / "circled.png"))], 1)
    torch.testing.assert_close(circled, by_hand, rtol=1e-4, atol=1e-5)


def test_variants_mix_region_items_and_text_items(tiny):
    """+crop and +circle change only the items with a region; candidates (text) stay the same."""
    paths, images = tiny
    path = str(paths["tiny-clip"])
    items = mixed_items(images)
    plain = load_embedder(path, family="clip").encode(items, 4)
    for variant in ("crop", "circle"):
        embedder = load_embedder(f"{path}+{variant}", family="clip")
        assert embedder.name.endswith(f"+{variant}") and embedder.info.options["region"] == variant
        out = embedder.encode(items, 4)
        assert out.shape == plain.shape
        torch.testing.assert_close(out.norm(dim=-1), torch.ones(len(items)))
        for row, item in enumerate(items):
            if item.has_region:
                assert not torch.allclose(out[row], plain[row], atol=1e-3), (variant, row)
            else:
                torch.testing.assert_close(out[row], plain[row], rtol=1e-4, atol=1e-5)


def test_boxtext_puts_the_box_in_the_text(tiny):
    paths, images = tiny
    path = str(paths["tiny-clip"])
    box_item = Item(text="<|image_1|> Find it.", image=str(images / "img0.png"), box_xyxy=(10.0, 5.0, 60.0, 40.0))
    written = Item(text="<|image_1|> Find it.\nReferring object bbox: [10.0, 5.0, 60.0, 40.0]", image=box_item.image)
    boxtext = load_embedder(path + "+boxtext", family="clip").encode([box_item], 1)
    torch.testing.assert_close(boxtext, load_embedder(path, family="clip").encode([written], 1), rtol=1e-4, atol=1e-5)


def test_fingerprint_follows_variant_and_options(tiny):
    paths, _ = tiny
    path = str(paths["tiny-clip"])
    fingerprints = {
        load_embedder(name, family="clip", **options).info.fingerprint
        for name, options in [(path, {}), (path + "+crop", {}), (path + "+circle", {}), (path + "+boxtext", {}), (path, {"fusion": "mean"})]
    }
    assert len(fingerprints) == 5
    assert load_embedder(path, family="clip").info.fingerprint == load_embedder(path, family="clip").info.fingerprint


def test_image_size_option_resizes_and_interpolates(tiny):
    paths, images = tiny
    path = str(paths["tiny-clip"])
    embedder = load_embedder(path, family="clip", image_size=48)
    assert embedder.info.options["image_size"] == 48
    out = embedder.encode([Item(image=str(images / "img0.png"))], 1)
    native = load_embedder(path, family="clip").encode([Item(image=str(images / "img0.png"))], 1)
    assert out.shape == native.shape and not torch.allclose(out, native, atol=1e-3)


def test_load_errors_are_one_line(tmp_path):
    with pytest.raises(ScarError) as err:
        load_embedder(str(tmp_path), family="clip")
    assert "cannot load clip model from" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ScarError, match=r"unknown option\(s\) image_resolution"):
        load_embedder(str(tmp_path), family="clip", image_resolution="high")
    with pytest.raises(ScarError, match="unknown dtype"):
        load_embedder(str(tmp_path), family="clip", dtype="float8")


def test_missing_image_names_the_file(tiny):
    paths, images = tiny
    embedder = load_embedder(str(paths["tiny-clip"]), family="clip")
    with pytest.raises(ScarError, match="nowhere.png"):
        embedder.encode([Item(image=str(images / "nowhere.png"))], 1)
