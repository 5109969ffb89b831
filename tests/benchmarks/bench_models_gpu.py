"""GPU throughput of full-size VIRTUE-2B (random init, no network): items/s, tokens/s, MFU, projections.

    .venv/bin/python tests/benchmarks/bench_models_gpu.py             # VIRTUE-2B, bf16, CUDA
    .venv/bin/python tests/benchmarks/bench_models_gpu.py --size 7b   # VIRTUE-7B if it fits
    .venv/bin/python tests/benchmarks/bench_models_gpu.py --tiny      # tiny dims on CPU: checks it runs

The model is built from configs written in code (Qwen2-VL-2B/7B dims, SAM2.1 Hiera-B+ from the sam2
package's own yaml) with random weights, so nothing is downloaded; the embedder is the real
`evaluators.virtue.VirtueEmbedder` (processor, V1 1344 px resize, SAM stream, fusion, pooling).
The tokenizer is the generated test tokenizer (token ids differ from Qwen's, costs do not).
FLOPs are counted with torch.utils.flop_counter on one batch of each kind; MFU = achieved / peak.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from baselines.tiny_qwen2vl import build_tokenizer, tiny_qwen2vl_config, tiny_sam2_config  # noqa: E402
from evaluators.protocol import EmbedderInfo, Item  # noqa: E402
from evaluators.tasks.catalog import MMEB_TASKS, SCAR_TASKS  # noqa: E402
from evaluators.virtue import VIRTUE_MAX_PIXELS, VIRTUE_MIN_PIXELS, VirtueEmbedder  # noqa: E402
from evaluators.virtue_sam import SAM_CONFIG, Connector, SegmentationStream  # noqa: E402

QWEN2VL_DIMS = {  # from the public Qwen2-VL-{2B,7B}-Instruct config.json files
    "2b": dict(text=dict(vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                         num_attention_heads=12, num_key_value_heads=2, max_position_embeddings=32768,
                         rms_norm_eps=1e-6),
               vision_hidden=1536, tie=True),
    "7b": dict(text=dict(vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                         num_attention_heads=28, num_key_value_heads=4, max_position_embeddings=32768,
                         rms_norm_eps=1e-6),
               vision_hidden=3584, tie=False),
}
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense, SXM


def qwen_config(size: str, tokenizer, tiny: bool):
    if tiny:
        return tiny_qwen2vl_config(tokenizer)
    dims = QWEN2VL_DIMS[size]
    text = dict(dims["text"], rope_parameters={"rope_type": "default", "rope_theta": 1e6,
                                               "mrope_section": [16, 24, 24]})
    vision = dict(depth=32, embed_dim=1280, hidden_size=dims["vision_hidden"], num_heads=16, mlp_ratio=4,
                  patch_size=14, spatial_merge_size=2, temporal_patch_size=2)
    return tiny_qwen2vl_config(tokenizer, text=text, vision=vision, tie_word_embeddings=dims["tie"])


def build_embedder(size: str, tiny: bool, device: str, dtype: torch.dtype) -> VirtueEmbedder:
    from hydra.utils import instantiate
    from importlib import resources
    from omegaconf import OmegaConf
    from transformers import Qwen2VLForConditionalGeneration, Qwen2VLImageProcessor, Qwen2VLProcessor, \
        Qwen2VLVideoProcessor

    tokenizer = build_tokenizer()
    config = qwen_config(size, tokenizer, tiny)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2VLForConditionalGeneration(config).to(dtype).eval()
    pixels = (56 * 56, 56 * 56) if tiny else (VIRTUE_MIN_PIXELS, VIRTUE_MAX_PIXELS)
    size_dict = {"shortest_edge": pixels[0], "longest_edge": pixels[1]}
    processor = Qwen2VLProcessor(image_processor=Qwen2VLImageProcessor(size=size_dict), tokenizer=tokenizer,
                                 video_processor=Qwen2VLVideoProcessor(size=size_dict))
    processor.tokenizer.padding_side = "left"
    if tiny:
        sam_cfg = OmegaConf.create(tiny_sam2_config())
    else:
        sam_cfg = OmegaConf.load(str(resources.files("sam2") / SAM_CONFIG))
    sam = instantiate(sam_cfg.model, _recursive_=True).eval()
    for p in sam.parameters():
        p.requires_grad_(False)
    connector = Connector(int(sam.sam_prompt_encoder.embed_dim), config.text_config.hidden_size)
    stream = SegmentationStream(sam, connector, 3).to(device, dtype).eval()
    info = EmbedderInfo(name=f"virtue-{size}-random", model_id="random-init", dtype=str(dtype), device=device)
    return VirtueEmbedder(info.name, model, processor, info, "boxtext", "high", min_pixels=pixels[0],
                          max_pixels=pixels[1], stream=stream, compat="fixed")


def make_items(folder: Path, n: int) -> dict[str, list[Item]]:
    from PIL import Image

    gen = torch.Generator().manual_seed(0)
    queries, images, texts = [], [], []
    for i in range(n):
        path = folder / f"{i}.png"
        Image.fromarray(torch.randint(0, 255, (480, 640, 3), generator=gen, dtype=torch.uint8).numpy()).save(path)
        text = ("<|image_1|> Find the caption that best describes the object in the bounding box, considering "
                "both local details and global context in the given image.\nReferring object bbox: "
                f"[{10 + i}.0, 20.0, 300.0, 400.0]")
        queries.append(Item(text=text, image=str(path), box_xyxy=(10.0 + i, 20.0, 300.0, 400.0)))
        images.append(Item(text="<|image_1|> Represent the given image.", image=str(path)))
        texts.append(Item(text=f"a salad fork number {i} lying on a wooden table in a sunlit kitchen"))
    return {"scar_query": queries, "image": images, "text": texts}


def count_tokens(embedder: VirtueEmbedder, items: list[Item]) -> int:
    prepared = [embedder.prepare(item) for item in items]
    enc = embedder.process(prepared)
    seg = (embedder.stream.size // 64) ** 2
    return int(enc["attention_mask"].sum()) + seg * sum(p.image is not None for p in prepared)


def count_flops(embedder: VirtueEmbedder, items: list[Item], batch_size: int) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        embedder.encode(items[:batch_size], batch_size)
    return counter.get_total_flops() / min(batch_size, len(items))


def time_kind(embedder: VirtueEmbedder, items: list[Item], batch_size: int, device: str) -> float:
    embedder.encode(items[:batch_size], batch_size)  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    embedder.encode(items, batch_size)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def workload() -> dict[str, int]:
    """Items to encode for a full SCaR + MMEB eval, without dedupe across candidates (an upper bound)
    except classification, whose candidates are the task's label set. MMEB assumption: every query
    carries an image, candidates of Retrieval/Grounding are images, of Classification/VQA texts."""
    counts = {"scar_query": 0, "image": 0, "text": 0}
    for task in SCAR_TASKS:
        counts["scar_query"] += task.num_queries
        counts["text"] += task.num_queries * task.num_candidates
    for task in MMEB_TASKS:
        counts["image"] += task.num_queries
        if task.meta_task == "Classification":
            counts["text"] += task.num_candidates
        elif task.meta_task == "VQA":
            counts["text"] += task.num_queries * task.num_candidates
        else:
            counts["image"] += task.num_queries * task.num_candidates
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("2b", "7b"), default="2b")
    parser.add_argument("--tiny", action="store_true", help="tiny dims on CPU, to check the script runs")
    parser.add_argument("--items", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--peak-tflops", type=float, default=None, help="override the device's bf16 peak")
    args = parser.parse_args()
    device = "cpu" if args.tiny else "cuda"
    if not args.tiny and not torch.cuda.is_available():
        sys.exit("no CUDA device: run on a GPU machine, or pass --tiny to check the script on CPU")
    dtype = torch.float32 if args.tiny else torch.bfloat16
    n = min(args.items, 4) if args.tiny else args.items
    batch = min(args.batch_size, n)
    embedder = build_embedder(args.size, args.tiny, device, dtype)
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    peak = args.peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)
    print(f"model: VIRTUE-{args.size}{' (tiny)' if args.tiny else ''}, random init, {dtype}, on {name}; "
          f"batch {batch}, {n} items per kind")
    rates = {}
    with tempfile.TemporaryDirectory() as folder:
        kinds = make_items(Path(folder), n)
        for kind, items in kinds.items():
            seconds = time_kind(embedder, items, batch, device)
            tokens = count_tokens(embedder, items)
            flops = count_flops(embedder, items, batch)
            rates[kind] = n / seconds
            mfu = f"{100 * flops * n / seconds / (peak * 1e12):.1f}%" if peak else "n/a"
            print(f"  {kind:10s} {n / seconds:9.2f} items/s  {tokens / seconds:11.0f} tokens/s  "
                  f"{tokens / n:7.0f} tokens/item  {flops / 1e12:7.3f} TFLOP/item  MFU {mfu}")
    if device == "cuda":
        print(f"  peak memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
    counts = workload()
    hours = {kind: counts[kind] / rates[kind] / 3600 for kind in counts}
    print("projected full eval on one device (no cross-task dedupe, see workload()):")
    for kind, count in counts.items():
        print(f"  {kind:10s} {count:>10,d} items  {hours[kind]:8.2f} h")
    print(f"  total      {sum(counts.values()):>10,d} items  {sum(hours.values()):8.2f} h")


if __name__ == "__main__":
    main()
