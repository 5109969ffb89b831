"""Loading Qwen2-VL embedding checkpoints: full weights, or a PEFT LoRA/DoRA adapter merged into its base.

A folder (or hub id) holding full Qwen2-VL weights loads directly. A folder holding a PEFT adapter
(`adapter_config.json`, as TIGER-Lab/VLM2Vec-Qwen2VL-2B/7B do) is merged into its base model
(`base_model`, else the adapter's `base_model_name_or_path`), which is what the official eval does
(`lora: true` + `merge_and_unload`); LoRA and DoRA are merged here in a few lines because peft is not
a dependency of this project.

The image processor: `pil=True` swaps in transformers' PIL-backend Qwen2-VL processor, which resizes
exactly as the official code's (transformers 4.x, PIL) does; transformers 5's default backend resizes
with torchvision and its pixels differ by up to 0.015.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from evaluators.models.checkpoints import checkpoint_file
from evaluators.models.hub import require_hub_model
from scar.core.errors import ScarError


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
                 base_model: str | None = None, attn_implementation: str | None = None, pil: bool = False):
    """(model, processor) from full weights or an adapter folder; eval mode, on `device`."""
    from transformers import AutoProcessor, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessorPil

    if attn_implementation is None:
        attn_implementation = "sdpa"
        if device.startswith("cuda"):
            try:
                import flash_attn  # noqa: F401

                attn_implementation = "flash_attention_2"
            except ImportError:
                pass
    adapter_config = checkpoint_file(model_path, "adapter_config.json", revision)
    weights_from = model_path
    adapter_files = None
    if adapter_config is not None:
        weights_from = base_model or json.loads(adapter_config.read_text()).get("base_model_name_or_path")
        if not weights_from:
            raise ScarError(f"{adapter_config}: adapter names no base model; pass base_model")
        weights = (checkpoint_file(model_path, "adapter_model.safetensors", revision)
                   or checkpoint_file(model_path, "adapter_model.bin", revision))
        if weights is None:
            raise ScarError(f"{model_path}: adapter_config.json without adapter_model.safetensors/.bin")
        adapter_files = (adapter_config, weights)
        require_hub_model(weights_from, None, remedy="--model-option base_model=DIR")
    try:
        model = Qwen2VLForConditionalGeneration.from_pretrained(
            weights_from, revision=revision if weights_from == model_path else None,
            dtype=dtype, attn_implementation=attn_implementation,
        )
        processor = AutoProcessor.from_pretrained(model_path, revision=revision)
        if pil:
            processor.image_processor = Qwen2VLImageProcessorPil.from_pretrained(model_path, revision=revision)
    except (OSError, ValueError) as exc:
        raise ScarError(f"cannot load Qwen2-VL from {model_path!r}: {str(exc).splitlines()[0]}") from None
    if adapter_files is not None:
        merge_adapter(model, adapter_files)
    processor.tokenizer.padding_side = "left"
    return model.to(device).eval(), processor
