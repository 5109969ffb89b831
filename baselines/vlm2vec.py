"""VLM2Vec on Qwen2-VL: a Qwen2-VL embedding model on stock transformers (also VIRTUE's VLM half).

What an item becomes, as in the official code (TIGER-AI-Lab/VLM2Vec branch v1, and sony/virtue):
  - the region variant (`baselines.regions`) is applied; `boxtext` is the default for VLMs;
  - the image is resized to 1344x1344 first (`image_resolution="high"`, V1 eval; "mid" 672, "low" 128,
    "original" keeps it), images under 28 px on a side become 56x56;
  - the Phi-3.5-V image token `<|image_1|>` in the text becomes Qwen2-VL's `<|image_pad|>`, which the
    processor expands to one token per merged patch. The official code uses the bare `<|image_pad|>`
    (no `<|vision_start|>`/`<|vision_end|>`); option `image_token` changes it. No chat template;
  - the processor (min/max pixels 256*28*28 / 1280*28*28 as V1) batches, left padding;
  - image features are scattered into the image-pad slots, M-RoPE position ids come from the model's
    own `get_rope_index`, the language model runs on `inputs_embeds`, and the last position's final
    (normed) hidden state, L2-normalised, is the embedding.
A subclass can add tokens between those steps (`_extend_inputs`); VIRTUE does.

Checkpoints: a folder (or hub id) holding full Qwen2-VL weights loads directly. A folder holding a
PEFT adapter (`adapter_config.json`, as TIGER-Lab/VLM2Vec-Qwen2VL-2B/7B do) is merged into its base
model (`base_model` option, else the adapter's `base_model_name_or_path`), which is what the official
eval does (`lora: true` + `merge_and_unload`); LoRA and DoRA are merged here in a few lines because
peft is not a dependency of this project.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from baselines.regions import apply_region, load_image
from evaluators.protocol import IMAGE_TOKEN, EmbedderInfo, Item
from evaluators.registry import ModelSpec, register, register_family
from scar.errors import ScarError

QWEN_IMAGE_TOKEN = "<|image_pad|>"
RESOLUTIONS = {"high": 1344, "mid": 672, "low": 128, "original": None}
V1_MIN_PIXELS = 256 * 28 * 28
V1_MAX_PIXELS = 1280 * 28 * 28
MIN_SIDE = 28  # smaller images are blown up to 56x56, as the official processing does


def torch_dtype(name: str) -> torch.dtype:
    dtype = getattr(torch, str(name).replace("torch.", ""), None)
    if not isinstance(dtype, torch.dtype):
        raise ScarError(f"unknown dtype {name!r}; use float32, bfloat16 or float16")
    return dtype


def resize_for_resolution(image: Image.Image, resolution: str) -> Image.Image:
    if resolution not in RESOLUTIONS:
        raise ScarError(f"unknown image_resolution {resolution!r}; choose from {', '.join(RESOLUTIONS)}")
    side = RESOLUTIONS[resolution]
    if side is not None:
        image = image.resize((side, side))  # PIL's default filter (bicubic), as the V1 code
    if image.width < MIN_SIDE or image.height < MIN_SIDE:
        image = image.resize((2 * MIN_SIDE, 2 * MIN_SIDE))
    return image


# ---- checkpoint loading ------------------------------------------------------------------------

def _checkpoint_file(model_path: str, filename: str, revision: str | None) -> Path | None:
    """`filename` inside a local folder, or fetched from the hub; None when the checkpoint has none."""
    local = Path(model_path)
    if local.is_dir():
        path = local / filename
        return path if path.is_file() else None
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError

        return Path(hf_hub_download(model_path, filename, revision=revision))
    except EntryNotFoundError:
        return None
    except Exception as exc:  # offline, unknown repo, gated...
        raise ScarError(f"cannot fetch {filename} of {model_path!r} ({exc.__class__.__name__}); "
                        "pass a local directory") from None


def _adapter_module_name(key: str) -> str:
    """PEFT key (old Qwen2-VL layout) -> module path in transformers 5's Qwen2VLForConditionalGeneration."""
    name = key.removeprefix("base_model.model.")
    name = re.sub(r"\.(lora_A|lora_B|lora_magnitude_vector)(\.default)?(\.weight)?$", "", name)
    if name.startswith("visual."):
        return "model." + name
    if name.startswith("model.") and not name.startswith(("model.language_model.", "model.visual.")):
        return "model.language_model." + name.removeprefix("model.")
    return name


def merge_adapter(model: torch.nn.Module, adapter_dir_files: tuple[Path, Path]) -> int:
    """Merge a PEFT LoRA/DoRA adapter into `model`'s Linear weights in place; returns modules merged."""
    config_file, weights_file = adapter_dir_files
    config = json.loads(config_file.read_text())
    if config.get("peft_type", "LORA") != "LORA":
        raise ScarError(f"{config_file}: only LoRA/DoRA adapters are supported, got {config.get('peft_type')}")
    rank, alpha = int(config["r"]), float(config.get("lora_alpha", config["r"]))
    scaling = alpha / (rank**0.5 if config.get("use_rslora") else rank)
    if weights_file.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(weights_file))
    else:
        state = torch.load(weights_file, map_location="cpu", weights_only=True)
    parts: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        kind = next((k for k in ("lora_A", "lora_B", "lora_magnitude_vector") if f".{k}" in key), None)
        if kind is None:
            raise ScarError(f"{weights_file}: unexpected adapter key {key!r}")
        parts.setdefault(_adapter_module_name(key), {})[kind] = value
    with torch.no_grad():
        for name, p in parts.items():
            try:
                layer = model.get_submodule(name)
            except AttributeError:
                raise ScarError(f"{weights_file}: adapter targets {name!r}, which the base model lacks") from None
            weight = layer.weight.float()
            merged = weight + scaling * (p["lora_B"].float() @ p["lora_A"].float())
            if "lora_magnitude_vector" in p:  # DoRA: rescale each output row to the learned magnitude
                merged = merged * (p["lora_magnitude_vector"].float().view(-1) / merged.norm(dim=1)).view(-1, 1)
            layer.weight.copy_(merged.to(layer.weight.dtype))
    return len(parts)


def load_qwen2vl(model_path: str, revision: str | None, dtype: torch.dtype, device: str,
                 base_model: str | None = None, attn_implementation: str | None = None):
    """(model, processor) from full weights or an adapter folder; eval mode, on `device`."""
    from transformers import AutoProcessor, Qwen2VLForConditionalGeneration

    if attn_implementation is None:
        attn_implementation = "sdpa"
        if device.startswith("cuda"):
            try:
                import flash_attn  # noqa: F401

                attn_implementation = "flash_attention_2"
            except ImportError:
                pass
    adapter_config = _checkpoint_file(model_path, "adapter_config.json", revision)
    weights_from = model_path
    adapter_files = None
    if adapter_config is not None:
        weights_from = base_model or json.loads(adapter_config.read_text()).get("base_model_name_or_path")
        if not weights_from:
            raise ScarError(f"{adapter_config}: adapter names no base model; pass base_model")
        weights = (_checkpoint_file(model_path, "adapter_model.safetensors", revision)
                   or _checkpoint_file(model_path, "adapter_model.bin", revision))
        if weights is None:
            raise ScarError(f"{model_path}: adapter_config.json without adapter_model.safetensors/.bin")
        adapter_files = (adapter_config, weights)
    try:
        model = Qwen2VLForConditionalGeneration.from_pretrained(
            weights_from, revision=revision if weights_from == model_path else None,
            dtype=dtype, attn_implementation=attn_implementation,
        )
        processor = AutoProcessor.from_pretrained(model_path, revision=revision)
    except (OSError, ValueError) as exc:
        raise ScarError(f"cannot load Qwen2-VL from {model_path!r}: {str(exc).splitlines()[0]}") from None
    if adapter_files is not None:
        merge_adapter(model, adapter_files)
    processor.tokenizer.padding_side = "left"
    return model.to(device).eval(), processor


# ---- the embedder --------------------------------------------------------------------------------

@dataclass
class Prepared:
    """One item as the model will see it."""

    text: str
    image: Image.Image | None  # after the region variant and the resolution resize
    original_size: tuple[int, int] | None  # (w, h) of the image file, the frame of the item's region


class Qwen2VLEmbedder:
    family = "vlm2vec"

    def __init__(self, name: str, model: Any, processor: Any, info: EmbedderInfo, variant: str | None,
                 image_resolution: str = "high", image_token: str = QWEN_IMAGE_TOKEN,
                 min_pixels: int | None = V1_MIN_PIXELS, max_pixels: int | None = V1_MAX_PIXELS) -> None:
        self.name = name
        self.info = info
        self.model = model
        self.processor = processor
        self.variant = variant
        self.image_resolution = image_resolution
        self.image_token = image_token
        self.size = None
        if min_pixels is not None or max_pixels is not None:
            size = dict(processor.image_processor.size)
            if min_pixels is not None:
                size["shortest_edge"] = int(min_pixels)
            if max_pixels is not None:
                size["longest_edge"] = int(max_pixels)
            self.size = size
        resize_for_resolution(Image.new("RGB", (1, 1)), image_resolution)  # validates the option

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    # -- item -> text/image --
    def prepare(self, item: Item) -> Prepared:
        image = load_image(item.image) if item.image else None
        original_size = image.size if image is not None else None
        image, text = apply_region(image, item.text, item, self.variant)
        if image is None:
            text = text.replace(IMAGE_TOKEN, "")
        else:
            image = resize_for_resolution(image, self.image_resolution)
            text = text.replace(IMAGE_TOKEN, self.image_token) if IMAGE_TOKEN in text else f"{self.image_token} {text}"
        return Prepared(text=text, image=image, original_size=original_size)

    def process(self, prepared: Sequence[Prepared], to_device: bool = True) -> dict[str, torch.Tensor]:
        images = [p.image for p in prepared if p.image is not None]
        kwargs: dict[str, Any] = {"padding": True, "return_tensors": "pt"}
        if images:
            kwargs["images"] = images
            if self.size is not None:
                kwargs["size"] = self.size
        encoded = self.processor(text=[p.text for p in prepared], **kwargs)
        if not to_device:
            return dict(encoded)
        return {key: value.to(self.device) for key, value in encoded.items()}

    # -- model steps (stock transformers modules, called one by one) --
    def input_embeddings(self, enc: dict[str, torch.Tensor]) -> torch.Tensor:
        core = self.model.model
        embeds = core.get_input_embeddings()(enc["input_ids"])
        if "pixel_values" in enc:
            features = core.get_image_features(enc["pixel_values"], enc["image_grid_thw"], return_dict=True)
            features = torch.cat(features.pooler_output, dim=0).to(embeds.device, embeds.dtype)
            image_mask, _ = core.get_placeholder_mask(enc["input_ids"], inputs_embeds=embeds, image_features=features)
            embeds = embeds.masked_scatter(image_mask, features)
        return embeds

    def position_ids(self, enc: dict[str, torch.Tensor]) -> torch.Tensor:
        position_ids, _ = self.model.model.get_rope_index(
            enc["input_ids"], mm_token_type_ids=enc["mm_token_type_ids"],
            image_grid_thw=enc.get("image_grid_thw"), attention_mask=enc["attention_mask"],
        )
        return position_ids  # (3, batch, length)

    def _extend_inputs(self, prepared: Sequence[Prepared], items: Sequence[Item], enc: dict[str, torch.Tensor],
                       embeds: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Hook for extra input tokens (VIRTUE's segmentation stream); VLM2Vec adds none."""
        return embeds, attention_mask, position_ids

    def embed_batch(self, items: Sequence[Item]) -> torch.Tensor:
        return self.forward_batch(self.prepare_batch(items))

    def prepare_batch(self, items: Sequence[Item]) -> tuple[Sequence[Item], list[Prepared], dict[str, torch.Tensor]]:
        """Images decoded, regions applied, processor run (tensors stay on the CPU until forward)."""
        prepared = [self.prepare(item) for item in items]
        return items, prepared, self.process(prepared, to_device=False)

    def forward_batch(self, batch: tuple[Sequence[Item], list[Prepared], dict[str, torch.Tensor]]) -> torch.Tensor:
        items, prepared, enc = batch
        enc = {key: value.to(self.device) for key, value in enc.items()}
        with torch.inference_mode():
            return self._forward(items, prepared, enc)

    def _forward(self, items: Sequence[Item], prepared: Sequence[Prepared], enc: dict[str, torch.Tensor]) -> torch.Tensor:
        embeds = self.input_embeddings(enc)
        position_ids = self.position_ids(enc)
        embeds, attention_mask, position_ids = self._extend_inputs(
            prepared, items, enc, embeds, enc["attention_mask"], position_ids)
        out = self.model.model.language_model(
            inputs_embeds=embeds, attention_mask=attention_mask, position_ids=position_ids, use_cache=False)
        last = out.last_hidden_state[:, -1]  # left padding: the last position is every row's last token
        return F.normalize(last.float(), dim=-1).cpu()

    def encode(self, items: Sequence[Item], batch_size: int) -> torch.Tensor:
        if not items:
            return torch.empty(0, self.model.config.text_config.hidden_size)
        with torch.inference_mode():
            return torch.cat([self.embed_batch(items[i:i + batch_size])
                              for i in range(0, len(items), max(1, batch_size))])


def _display_name(spec: ModelSpec, variant: str | None) -> str:
    return f"{spec.name}+{variant}" if variant else spec.name


def load_vlm2vec(spec: ModelSpec, variant: str | None, device: str = "cpu", dtype: str = "float32",
                 model_path: str | None = None, image_resolution: str = "high", base_model: str | None = None,
                 image_token: str = QWEN_IMAGE_TOKEN, min_pixels: int | None = V1_MIN_PIXELS,
                 max_pixels: int | None = V1_MAX_PIXELS, attn_implementation: str | None = None,
                 **unused: Any) -> Qwen2VLEmbedder:
    if unused:
        raise ScarError(f"{spec.name}: unknown option(s) {', '.join(sorted(unused))}")
    path = model_path or spec.hf_id
    revision = None if model_path and Path(model_path).is_dir() else spec.revision
    model, processor = load_qwen2vl(path, revision, torch_dtype(dtype), device, base_model, attn_implementation)
    options = {"variant": variant, "image_resolution": image_resolution, "image_token": image_token,
               "min_pixels": min_pixels, "max_pixels": max_pixels, "base_model": base_model}
    info = EmbedderInfo(name=_display_name(spec, variant), model_id=path, revision=revision or "",
                        family=spec.family, dtype=dtype, device=device, options=options)
    return Qwen2VLEmbedder(info.name, model, processor, info, variant, image_resolution, image_token,
                           min_pixels, max_pixels)


_LOADER = "baselines.vlm2vec:load_vlm2vec"
register_family("vlm2vec", _LOADER)
for _size in ("2b", "7b"):
    register(ModelSpec(
        name=f"vlm2vec-qwen2vl-{_size}",
        family="vlm2vec",
        hf_id=f"TIGER-Lab/VLM2Vec-Qwen2VL-{_size.upper()}",
        loader=_LOADER,
        defaults={"image_resolution": "high", "base_model": f"Qwen/Qwen2-VL-{_size.upper()}-Instruct"},
        default_region="boxtext",
        summary=f"VLM2Vec (V1) on Qwen2-VL-{_size.upper()}: last-token embedding, 1344px images, box as text",
    ))
