"""Registrations of the baselines: CLIP, OpenCLIP, SigLIP and VLM2Vec (imported lazily by evaluators.registry).

This module imports no model code (no torch): `scar models` lists them without loading anything.

Revisions are pinned to "main" of the hub repositories: pass `revision=` (or `--revision`) to pin a
commit for a published run; the result file records whichever was used.
"""

from __future__ import annotations

from evaluators.registry import ModelSpec, register, register_family

LOADER = "baselines.clip:load"

for family in ("clip", "openclip", "siglip"):
    register_family(family, LOADER)

register(
    ModelSpec(
        name="clip-vit-l-14",
        family="clip",
        hf_id="openai/clip-vit-large-patch14",
        loader=LOADER,
        defaults={"image_size": 224, "fusion": "sum"},
        summary="OpenAI CLIP ViT-L/14, 224 px; EOS-token text pooling, CLS image pooling, projection 768",
    )
)
register(
    ModelSpec(
        name="openclip-vit-l-14",
        family="openclip",
        hf_id="laion/CLIP-ViT-L-14-laion2B-s32B-b82K",
        loader=LOADER,
        defaults={"image_size": 224, "fusion": "sum"},
        summary="OpenCLIP ViT-L/14 trained on LAION-2B (HF-format weights), 224 px; pooling as CLIP, projection 768",
    )
)
register(
    ModelSpec(
        name="openclip-vit-b-16",
        family="openclip",
        hf_id="laion/CLIP-ViT-B-16-laion2B-s34B-b88K",
        loader=LOADER,
        defaults={"image_size": 224, "fusion": "sum"},
        summary="OpenCLIP ViT-B/16 LAION-2B (HF-format weights), 224 px: the checkpoint VLM2Vec v1's eval_openclip.py loads",
    )
)
register(
    ModelSpec(
        name="siglip-so400m",
        family="siglip",
        hf_id="google/siglip-so400m-patch14-384",
        loader=LOADER,
        defaults={"image_size": 384, "fusion": "sum"},
        summary="SigLIP So400m/14, 384 px; last-token text pooling (texts padded to 64), attention-pool image head, 1152-d",
    )
)

# VLM2Vec (V1) on Qwen2-VL: the embedder lives in baselines.vlm2vec (imported only to load one)
VLM2VEC_LOADER = "baselines.vlm2vec:load_vlm2vec"
register_family("vlm2vec", VLM2VEC_LOADER)
for _size in ("2b", "7b"):
    register(
        ModelSpec(
            name=f"vlm2vec-qwen2vl-{_size}",
            family="vlm2vec",
            hf_id=f"TIGER-Lab/VLM2Vec-Qwen2VL-{_size.upper()}",
            loader=VLM2VEC_LOADER,
            defaults={"image_resolution": "high", "base_model": f"Qwen/Qwen2-VL-{_size.upper()}-Instruct"},
            default_region="boxtext",
            summary=f"VLM2Vec (V1) on Qwen2-VL-{_size.upper()}: last-token embedding, 1344px images, box as text",
        )
    )
