"""Registrations of the baselines, as data: CLIP, OpenCLIP, SigLIP, VLM2Vec (V1) and VLM2Vec-V2 (read by name
by evaluators.models.registry; `FAMILIES` serve `--family F` for local folders and hub ids).

This module imports no model code (no torch): `scar models` lists them without loading anything.

Revisions are pinned to "main" of the hub repositories: pass `revision=` (or `--revision`) to pin a
commit for a published run; the result file records whichever was used.
"""

from __future__ import annotations

from evaluators.models.spec import ModelSpec

LOADER = "baselines.clip:load"
# VLM2Vec (V1) on Qwen2-VL: the embedder lives in baselines.vlm2vec (imported only to load one)
VLM2VEC_LOADER = "baselines.vlm2vec:load_vlm2vec"

FAMILIES = {"clip": LOADER, "openclip": LOADER, "siglip": LOADER, "vlm2vec": VLM2VEC_LOADER}


def _dual_encoder(name: str, family: str, hf_id: str, image_size: int, summary: str) -> ModelSpec:
    return ModelSpec(name=name, family=family, hf_id=hf_id, loader=LOADER,
                     defaults={"image_size": image_size, "fusion": "sum"}, summary=summary)


def _vlm2vec(size: str) -> ModelSpec:
    return ModelSpec(
        name=f"vlm2vec-qwen2vl-{size}",
        family="vlm2vec",
        hf_id=f"TIGER-Lab/VLM2Vec-Qwen2VL-{size.upper()}",
        loader=VLM2VEC_LOADER,
        defaults={"image_resolution": "high", "base_model": f"Qwen/Qwen2-VL-{size.upper()}-Instruct"},
        default_region="boxtext",
        summary=f"VLM2Vec (V1) on Qwen2-VL-{size.upper()}: last-token embedding, 1344px images, box as text",
    )


# VLM2Vec-V2 (TIGER-AI-Lab/VLM2Vec 6e1e1d4): the checkpoint its README releases and its eval scripts score
# (`experiments/public/eval/eval_1gpu.sh`: `VLM2Vec/VLM2Vec-V2.0`, backbone qwen2_vl, `--pooling eos --normalize
# true`), with the eval's data arguments: no pre-resize (`image_resolution` None: the original picture) and the
# processor's pixel limits `resize_min_pixels` 28*28*4 .. `resize_max_pixels` 28*28*1280 (`src/arguments.py`).
# Videos are read as videos (8 frames behind one <|video_pad|>) and pooled like every Qwen2-VL row here: the last
# position's final, normed hidden state, L2-normalised (what `hidden_states[-1]` is on the transformers 4.52.3 the
# official requirements pin; from 4.56 it is the state before the norm, VLM2Vec PR 213).
V2_MIN_PIXELS = 28 * 28 * 4  # 3136
V2_MAX_PIXELS = 28 * 28 * 1280  # 1003520


def _vlm2vec_v2() -> ModelSpec:
    return ModelSpec(
        name="vlm2vec-v2-qwen2vl-2b",
        family="vlm2vec",
        hf_id="VLM2Vec/VLM2Vec-V2.0",
        loader=VLM2VEC_LOADER,
        defaults={"image_resolution": "original", "min_pixels": V2_MIN_PIXELS, "max_pixels": V2_MAX_PIXELS,
                  "base_model": "Qwen/Qwen2-VL-2B-Instruct"},
        default_region="boxtext",
        summary="VLM2Vec-V2.0 on Qwen2-VL-2B (MMEB-V2): images at their own size within 3136..1003520 pixels, "
                "videos as 8 frames, last-token embedding, box as text",
    )


MODELS = (
    _dual_encoder("clip-vit-l-14", "clip", "openai/clip-vit-large-patch14", 224,
                  "OpenAI CLIP ViT-L/14, 224 px; EOS-token text pooling, CLS image pooling, projection 768"),
    _dual_encoder("openclip-vit-l-14", "openclip", "laion/CLIP-ViT-L-14-laion2B-s32B-b82K", 224,
                  "OpenCLIP ViT-L/14 trained on LAION-2B (HF-format weights), 224 px; pooling as CLIP, projection 768"),
    _dual_encoder("openclip-vit-b-16", "openclip", "laion/CLIP-ViT-B-16-laion2B-s34B-b88K", 224,
                  "OpenCLIP ViT-B/16 LAION-2B (HF-format weights), 224 px: the checkpoint VLM2Vec v1's eval_openclip.py loads"),
    _dual_encoder("siglip-so400m", "siglip", "google/siglip-so400m-patch14-384", 384,
                  "SigLIP So400m/14, 384 px; last-token text pooling (texts padded to 64), attention-pool image head, 1152-d"),
    *(_vlm2vec(size) for size in ("2b", "7b")),
    _vlm2vec_v2(),
)
