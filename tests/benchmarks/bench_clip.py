"""Throughput of the dual-encoder embedder at full size (random weights, no download).

Builds CLIP ViT-L/14 (224 px) and SigLIP So400m/14 (384 px) from their published dimensions with
random weights, wraps them in baselines.clip.DualEncoderEmbedder with the tiny checkpoints'
processors resized to the real image size, and times image items (+crop: image loading and the
region included) and text items. Prints items/s and the projected encode time of SCaR-Eval
(47,145 region queries + at most 471,450 candidate captions; fewer after dedupe).

    .venv/bin/python tests/benchmarks/bench_clip.py [--device cuda] [--dtype bfloat16] [--images 64] [--texts 256]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.timing import time_encode  # noqa: E402

SCAR_QUERIES = 47_145
SCAR_CANDIDATES = 10 * SCAR_QUERIES

FULL_SIZE = {
    "clip-vit-l-14": dict(
        family="clip",
        image_size=224,
        text=dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, max_position_embeddings=77),
        vision=dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16, image_size=224, patch_size=14),
        projection_dim=768,
    ),
    "siglip-so400m": dict(
        family="siglip",
        image_size=384,
        text=dict(vocab_size=32000, hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16, max_position_embeddings=64, pad_token_id=1, bos_token_id=1, eos_token_id=1),
        vision=dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16, image_size=384, patch_size=14),
    ),
}


def build(name: str, tiny_dir: Path, device: str, dtype: str):
    from transformers import AutoProcessor, CLIPConfig, CLIPModel, SiglipConfig, SiglipModel

    from baselines.clip import DualEncoderEmbedder, text_settings, torch_dtype
    from evaluators.models.protocol import EmbedderInfo

    spec = FULL_SIZE[name]
    if spec["family"] == "clip":
        config = CLIPConfig(text_config=spec["text"], vision_config=spec["vision"], projection_dim=spec["projection_dim"])
        model_class = CLIPModel
    else:
        config = SiglipConfig(text_config=spec["text"], vision_config=spec["vision"])
        model_class = SiglipModel
    config._attn_implementation = "sdpa"
    model = model_class(config).to(device=device, dtype=torch_dtype(dtype)).eval()
    processor = AutoProcessor.from_pretrained(tiny_dir)
    size = spec["image_size"]
    if spec["family"] == "clip":
        processor.image_processor.size = {"shortest_edge": size}
        processor.image_processor.crop_size = {"height": size, "width": size}
    else:
        processor.image_processor.size = {"height": size, "width": size}
    padding, max_length = text_settings(spec["family"], model)
    info = EmbedderInfo(name=f"{name}+crop", model_id="random-init", family=spec["family"], dtype=dtype, device=device)
    return DualEncoderEmbedder(model, processor, info, "crop", "sum", padding, max_length, size)


def main() -> None:
    from baselines.tiny import ensure_tiny_models
    from evaluators.models.protocol import Item

    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", default=None)
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--models", default="clip-vit-l-14,siglip-so400m")
    args = parser.parse_args()
    dtype = args.dtype or ("bfloat16" if args.device.startswith("cuda") else "float32")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tiny = ensure_tiny_models(root / "models")
        rng = np.random.default_rng(0)
        image_items = []
        for index in range(args.images):
            path = root / f"img{index}.jpg"
            Image.fromarray(rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8), "RGB").save(path, quality=90)
            image_items.append(
                Item(text="<|image_1|> Find the caption that best describes the object in the bounding box.", image=str(path), box_xyxy=(100.0, 80.0, 420.0, 400.0))
            )
        text_items = [Item(text=f"a small red object {i} resting on a wooden table in a sunlit kitchen") for i in range(args.texts)]
        print(f"device={args.device} dtype={dtype} torch={torch.__version__} threads={torch.get_num_threads()}", flush=True)
        for name in args.models.split(","):
            family = FULL_SIZE[name]["family"]
            embedder = build(name, tiny["tiny-clip" if family == "clip" else "tiny-siglip"], args.device, dtype)
            image_s = time_encode(embedder, image_items, args.batch_size, args.device)
            text_s = time_encode(embedder, text_items, args.batch_size, args.device)
            image_rate, text_rate = args.images / image_s, args.texts / text_s
            projected = SCAR_QUERIES / image_rate + SCAR_CANDIDATES / text_rate
            print(
                f"{name:15s} image+text queries {image_rate:8.1f} items/s | captions {text_rate:8.1f} items/s | "
                f"SCaR-Eval encode <= {projected / 3600:.2f} h",
                flush=True,
            )
            del embedder
            if args.device.startswith("cuda"):
                torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
