"""VLM2Vec (Qwen2-VL) on a tiny random checkpoint saved with save_pretrained, loaded via the registry."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from baselines.tiny.qwen2vl import TINY_PIXELS, write_tiny_qwen2vl
from baselines.vlm2vec import merge_adapter, resize_for_resolution
from evaluators.models.protocol import Item
from evaluators.models.registry import load_embedder, models, resolve

TINY = {"min_pixels": TINY_PIXELS, "max_pixels": TINY_PIXELS}
V2 = "vlm2vec-v2-qwen2vl-2b"


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    folder = write_tiny_qwen2vl(tmp_path_factory.mktemp("qwen2vl"), seed=0)
    Image.new("RGB", (100, 80), (200, 30, 10)).save(folder / "red.png")
    Image.linear_gradient("L").convert("RGB").resize((64, 48)).save(folder / "grad.png")
    return folder


@pytest.fixture(scope="module")
def embedder(ckpt):
    return load_embedder(str(ckpt), family="vlm2vec", **TINY)


def items(ckpt):
    return [
        Item(text="<|image_1|> Represent the given image.", image=str(ckpt / "red.png")),
        Item(text="<|image_1|> Represent the given image.", image=str(ckpt / "grad.png")),
        Item(text="a salad fork lying on a wooden table"),
        Item(text="a dog"),
    ]


def test_registered_names():
    specs = models()
    for size in ("2b", "7b"):
        spec = specs[f"vlm2vec-qwen2vl-{size}"]
        assert spec.hf_id == f"TIGER-Lab/VLM2Vec-Qwen2VL-{size.upper()}"
        assert spec.default_region == "boxtext" and spec.defaults["image_resolution"] == "high"


def test_shapes_norm_and_determinism(ckpt, embedder):
    batch = items(ckpt)
    first = embedder.encode(batch, batch_size=4)
    assert first.shape == (4, 32)
    assert torch.allclose(first.norm(dim=-1), torch.ones(4), atol=1e-5)
    assert torch.equal(first, embedder.encode(batch, batch_size=4))
    # batching and left padding do not change an item's embedding
    one_by_one = torch.cat([embedder.encode([item], batch_size=1) for item in batch])
    assert torch.allclose(first, one_by_one, atol=1e-5)
    assert not torch.allclose(first[0], first[1], atol=1e-3)  # different images, different embeddings


def test_manual_fusion_equals_stock_forward(ckpt):
    """The fixed protocol's step-by-step path (embeddings, scatter, get_rope_index, language model) =
    Qwen2VLModel.forward."""
    embedder = load_embedder(str(ckpt), family="vlm2vec", protocol="fixed", **TINY)
    prepared = [embedder.prepare(item) for item in items(ckpt)]
    enc = embedder.process(prepared)
    with torch.inference_mode():
        stock = torch.nn.functional.normalize(embedder.model.model(**enc).last_hidden_state[:, -1], dim=-1)
        ours = embedder.embed_batch(items(ckpt))
    assert torch.allclose(stock, ours, atol=1e-5)


def test_text_processing(ckpt, embedder):
    prepared = embedder.prepare(Item(text="<|image_1|> Represent the given image.", image=str(ckpt / "red.png")))
    assert prepared.text == "<|image_pad|> Represent the given image."
    assert prepared.image.size == (1344, 1344)  # V1 "high" resize before the processor
    enc = embedder.process([prepared, embedder.prepare(Item(text="a dog"))])
    pad_id = embedder.model.config.image_token_id
    assert int((enc["input_ids"][0] == pad_id).sum()) == 4  # 56x56 pixels -> 2x2 merged tokens
    assert enc["attention_mask"][1, 0] == 0 and enc["attention_mask"][:, -1].all()  # left padding
    assert "<|image_1|>" not in embedder.prepare(Item(text="<|image_1|> x")).text


def test_boxtext_variant_changes_query_only(ckpt):
    emb = load_embedder(f"{ckpt}+boxtext", family="vlm2vec", **TINY)
    item = Item(text="<|image_1|> Find the caption.", image=str(ckpt / "red.png"), box_xyxy=(1.0, 2.0, 30.0, 40.0))
    assert emb.prepare(item).text.endswith("Referring object bbox: [1.0, 2.0, 30.0, 40.0]")
    assert emb.info.name.endswith("+boxtext") and emb.info.options["variant"] == "boxtext"


def test_resolution_resize():
    image = Image.new("RGB", (20, 300))
    assert resize_for_resolution(image, "high").size == (1344, 1344)
    assert resize_for_resolution(image, "original").size == (56, 56)  # under 28 px on a side
    assert resize_for_resolution(Image.new("RGB", (40, 300)), "original").size == (40, 300)


def test_lora_and_dora_merge(ckpt, tmp_path):
    from transformers import Qwen2VLForConditionalGeneration

    model = Qwen2VLForConditionalGeneration.from_pretrained(ckpt)
    q_proj = model.model.language_model.layers[0].self_attn.q_proj
    base = q_proj.weight.detach().clone()
    gen = torch.Generator().manual_seed(1)
    lora_a, lora_b = torch.randn(2, base.shape[1], generator=gen), torch.randn(base.shape[0], 2, generator=gen)
    magnitude = torch.rand(base.shape[0], generator=gen) + 0.5
    prefix = "base_model.model.model.layers.0.self_attn.q_proj"  # the old Qwen2-VL layout peft saved
    (tmp_path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 8}))
    torch.save({f"{prefix}.lora_A.weight": lora_a, f"{prefix}.lora_B.weight": lora_b}, tmp_path / "a.bin")
    assert merge_adapter(model, (tmp_path / "adapter_config.json", tmp_path / "a.bin")) == 1
    expected = base + 4.0 * lora_b @ lora_a
    assert torch.allclose(q_proj.weight, expected, atol=1e-5)

    q_proj.weight.data.copy_(base)
    torch.save({f"{prefix}.lora_A.weight": lora_a, f"{prefix}.lora_B.weight": lora_b,
                f"{prefix}.lora_magnitude_vector": magnitude}, tmp_path / "d.bin")
    merge_adapter(model, (tmp_path / "adapter_config.json", tmp_path / "d.bin"))
    assert torch.allclose(q_proj.weight.norm(dim=1), magnitude, atol=1e-4)  # DoRA: rows get the magnitude
    assert torch.allclose(q_proj.weight, expected / expected.norm(dim=1, keepdim=True) * magnitude[:, None], atol=1e-5)


def test_adapter_folder_loads_onto_base(ckpt, tmp_path):
    """A folder with only an adapter + processor files is merged into its base, as the official eval does."""
    import shutil

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "processor_config.json"):
        shutil.copy(ckpt / name, adapter / name)
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 1, "lora_alpha": 1,
                                                              "base_model_name_or_path": str(ckpt)}))
    key = "base_model.model.lm_head"  # not used by the embedding: the merged model must embed identically
    torch.save({f"{key}.lora_A.weight": torch.ones(1, 32), f"{key}.lora_B.weight": torch.ones(300, 1)},
               adapter / "adapter_model.bin")
    emb = load_embedder(str(adapter), family="vlm2vec", **TINY)
    ref = load_embedder(str(ckpt), family="vlm2vec", **TINY)
    assert torch.allclose(emb.encode(items(ckpt), 4), ref.encode(items(ckpt), 4), atol=1e-6)


def test_official_protocol_positions_pixels_and_resizer(ckpt, embedder):
    """Official (the default): 1-D positions cumsum(mask) - 1 with padding at 1, the checkpoint's own pixel
    limits unless given, PIL resizing; fixed: M-RoPE, V1's limits, torchvision resizing."""
    from baselines.vlm2vec import V1_MAX_PIXELS, V1_MIN_PIXELS

    assert embedder.info.protocol == "official" and not embedder.batch_dependent
    assert type(embedder.processor.image_processor).__name__ == "Qwen2VLImageProcessorPil"
    enc = embedder.process([embedder.prepare(item) for item in items(ckpt)])
    positions = embedder.position_ids(enc)
    mask = enc["attention_mask"]
    assert positions.shape == (3, 4, mask.shape[1]) and torch.equal(positions[0], positions[2])
    row = 3  # "a dog": the shortest row, left-padded
    real = mask[row].bool()
    assert positions[0, row][real].tolist() == list(range(int(real.sum())))
    assert (positions[0, row][~real] == 1).all()
    default = load_embedder(str(ckpt), family="vlm2vec")
    assert default.size is None and default.info.options["max_pixels"] is None
    fixed = load_embedder(str(ckpt), family="vlm2vec", protocol="fixed")
    assert fixed.size["shortest_edge"] == V1_MIN_PIXELS and fixed.size["longest_edge"] == V1_MAX_PIXELS
    assert type(fixed.processor.image_processor).__name__ != "Qwen2VLImageProcessorPil"
    fixed_tiny = load_embedder(str(ckpt), family="vlm2vec", protocol="fixed", **TINY)
    texts = [Item(text="a salad fork lying on a wooden table")]
    assert torch.allclose(fixed_tiny.encode(texts, 1), embedder.encode(texts, 1), atol=1e-6)
    image = items(ckpt)[1:2]
    assert not torch.allclose(fixed.encode(image, 1), default.encode(image, 1), atol=1e-2)


def test_long_padded_batches_run_one_row_length_at_a_time_on_a_cpu(ckpt, embedder, monkeypatch):
    from evaluators.models import qwen2vl

    batch = items(ckpt) + [Item(text="<|image_1|> a much longer question about the red picture", image=str(ckpt / "red.png"))]
    padded = embedder.encode(batch, len(batch))
    calls = []
    lm = embedder.model.model.language_model
    original = lm.forward

    def counting(*args, **kwargs):
        calls.append(kwargs["inputs_embeds"].shape)
        assert bool(kwargs["attention_mask"].all())  # no padding inside a call
        return original(*args, **kwargs)

    monkeypatch.setattr(qwen2vl, "SPLIT_MIN_TOKENS", 1)
    monkeypatch.setattr(lm, "forward", counting)
    split = embedder.encode(batch, len(batch))
    assert len(calls) == len({shape[1] for shape in calls}) > 1
    assert torch.allclose(split, padded, atol=1e-6)


# ------------------------------------------------------------------ VLM2Vec-V2: the registration's settings


def test_v2_registration_and_its_hub_id():
    spec = models()[V2]
    assert spec.hf_id == "VLM2Vec/VLM2Vec-V2.0" and spec.family == "vlm2vec" and spec.default_region == "boxtext"
    assert spec.defaults == {"image_resolution": "original", "min_pixels": 3136, "max_pixels": 1003520,
                             "base_model": "Qwen/Qwen2-VL-2B-Instruct"}
    assert resolve("VLM2Vec/VLM2Vec-V2.0") == (spec, None)  # the hub id is the registration, settings and name
    assert resolve("VLM2Vec/VLM2Vec-V2.0+crop", "vlm2vec") == (spec, "crop")
    other, _ = resolve("VLM2Vec/VLM2Vec-V2.0", "clip")  # another family: a hub id loaded by that family, as before
    assert other is not spec and other.name == "VLM2Vec/VLM2Vec-V2.0" and other.defaults == {}


@pytest.fixture(scope="module")
def v2(ckpt):
    return load_embedder(V2, model_path=str(ckpt))  # the registered spec on the tiny weights: no network


def test_v2_spec_passes_its_settings_through(ckpt, v2, tmp_path):
    assert v2.info.name == f"{V2}+boxtext" and v2.info.protocol == "official" and v2.info.family == "vlm2vec"
    options = v2.info.options
    assert (options["image_resolution"], options["min_pixels"], options["max_pixels"]) == ("original", 3136, 1003520)
    assert v2.size["shortest_edge"] == 3136 and v2.size["longest_edge"] == 1003520  # not the checkpoint's own limits
    image = v2.prepare(Item(text="<|image_1|> Represent the given image.", image=str(ckpt / "red.png")))
    assert image.image.size == (100, 80)  # the original picture, no 1344x1344 pre-resize
    enc = v2.process([image])
    assert int((enc["input_ids"][0] == v2.model.config.image_token_id).sum()) == 12  # 112x84 -> 4x3 merged tokens
    frames = []
    for i in range(3):
        frames.append(str(tmp_path / f"f{i}.png"))
        Image.new("RGB", (64, 48), (40 * i, 10, 200)).save(frames[-1])
    video = v2.prepare(Item(text="<|image_1|> Represent the video.", image=frames[1], frames=tuple(frames)))
    assert v2.reads_video and video.video and video.text.startswith("<|video_pad|>")
    enc = v2.process([video])
    assert int((enc["input_ids"][0] == v2.model.config.video_token_id).sum()) == 8  # 3 frames -> 2 x 4x4 / 4


def test_v2_pools_the_last_tokens_post_norm_state(ckpt, v2):
    captured = []
    norm = v2.model.model.language_model.norm
    handle = norm.register_forward_hook(lambda module, inputs, output: captured.append(output))
    batch = [Item(text="a dog running across the grass"), Item(text="a red car", image=str(ckpt / "grad.png"))]
    try:
        out = v2.encode(batch, batch_size=2)
    finally:
        handle.remove()
    expected = torch.nn.functional.normalize(captured[-1][:, -1].float(), dim=-1).cpu()
    assert torch.allclose(out, expected, atol=1e-6)
