"""VLM2Vec on Qwen2-VL (TIGER-AI-Lab/VLM2Vec branch v1, 28fdbdd: the code that trained and scored the
Qwen2-VL checkpoints): the shared Qwen2-VL core (`evaluators.models.qwen2vl`) with VLM2Vec's loading defaults.

Pixel limits per protocol:
  official  the checkpoint processor's own (`AutoProcessor.from_pretrained(model)` at v1 `eval.py:45`:
            Qwen2-VL-Instruct's preprocessor config, 3136 .. 12845056 pixels, so a 1344x1344 image keeps
            2304 image tokens; the 256*28*28 / 1280*28*28 limits v1's `load_processor` passes do not
            take effect there: `src/model_utils.py:72`), PIL resizing (after the 1344x1344 PIL resize of
            `src/dataset.py:134-141`), 1-D position ids (see `evaluators.models.qwen2vl`);
  fixed     the limits v1 meant to set, 256*28*28 .. 1280*28*28 (a 1344x1344 image -> 980x980, 1225
            tokens), transformers' default resizing, Qwen2-VL's M-RoPE.
`min_pixels` / `max_pixels` options override either; `vision_cache_mb` bounds the vision tower's
per-picture cache (`evaluators.models.qwen2vl`; 0 disables it; the embeddings are the same either way);
`preprocess_workers` ("auto", or a count) the processes preparing images (`evaluators.models.preprocess`).
Checkpoints: full Qwen2-VL weights, or the hub's LoRA/DoRA adapter folders merged into `base_model`
(`evaluators.models.qwen2vl_load`). Registered (torch-free) in `baselines.models`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluators.models.checkpoints import display_name, torch_dtype
from evaluators.models.hub import require_hub_model
from evaluators.models.protocol import OFFICIAL_PROTOCOL, EmbedderInfo, check_protocol
from evaluators.models.qwen2vl import QWEN_IMAGE_TOKEN, Qwen2VLEmbedder, resize_for_resolution
from evaluators.models.qwen2vl_load import load_qwen2vl, merge_adapter
from evaluators.models.spec import ModelSpec
from evaluators.models.vision_cache import DEFAULT_BUDGET_MB
from scar.core.errors import ScarError

V1_MIN_PIXELS = 256 * 28 * 28
V1_MAX_PIXELS = 1280 * 28 * 28
UNSET: Any = object()  # "not given": the protocol's own pixel limit


def pixel_limits(protocol: str, min_pixels: Any, max_pixels: Any) -> tuple[int | None, int | None]:
    """The processor limits a protocol uses unless the caller gave its own (None = the checkpoint's)."""
    default = (None, None) if protocol == OFFICIAL_PROTOCOL else (V1_MIN_PIXELS, V1_MAX_PIXELS)
    return (default[0] if min_pixels is UNSET else min_pixels, default[1] if max_pixels is UNSET else max_pixels)


def load_vlm2vec(spec: ModelSpec, variant: str | None, device: str = "cpu", dtype: str = "float32",
                 model_path: str | None = None, image_resolution: str = "high", base_model: str | None = None,
                 image_token: str = QWEN_IMAGE_TOKEN, min_pixels: Any = UNSET, max_pixels: Any = UNSET,
                 attn_implementation: str | None = None, protocol: str = OFFICIAL_PROTOCOL,
                 vision_cache_mb: float = DEFAULT_BUDGET_MB, preprocess_workers: int | str = "auto",
                 **unused: Any) -> Qwen2VLEmbedder:
    if unused:
        raise ScarError(f"{spec.name}: unknown option(s) {', '.join(sorted(unused))}")
    check_protocol(protocol)
    min_pixels, max_pixels = pixel_limits(protocol, min_pixels, max_pixels)
    path = model_path or spec.hf_id
    revision = None if model_path and Path(model_path).is_dir() else spec.revision
    require_hub_model(path, revision)
    model, processor = load_qwen2vl(path, revision, torch_dtype(dtype), device, base_model, attn_implementation,
                                    pil=protocol == OFFICIAL_PROTOCOL)
    options = {"variant": variant, "image_resolution": image_resolution, "image_token": image_token,
               "min_pixels": min_pixels, "max_pixels": max_pixels, "base_model": base_model,
               "image_processor": type(processor.image_processor).__name__}
    info = EmbedderInfo(name=display_name(spec, variant), model_id=path, revision=revision or "",
                        family=spec.family, dtype=dtype, device=device, options=options, protocol=protocol)
    return Qwen2VLEmbedder(info.name, model, processor, info, variant, image_resolution, image_token,
                           min_pixels, max_pixels, protocol=protocol, vision_cache_mb=vision_cache_mb,
                           preprocess_workers=preprocess_workers)


__all__ = ["V1_MIN_PIXELS", "V1_MAX_PIXELS", "load_vlm2vec", "merge_adapter", "pixel_limits", "resize_for_resolution"]
