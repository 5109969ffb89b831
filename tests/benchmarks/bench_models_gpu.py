"""GPU throughput of full-size VIRTUE-2B and VLM2Vec-2B (random init, no network): items/s, tokens/s,
MFU, and the projected time of a full evaluation (36 MMEB + 5 SCaR tasks).

    .venv/bin/python tests/benchmarks/bench_models_gpu.py                    # both 2B models, bf16, CUDA
    .venv/bin/python tests/benchmarks/bench_models_gpu.py --model vlm2vec --size 7b
    .venv/bin/python tests/benchmarks/bench_models_gpu.py --mmeb-root MMEB-eval --scar-root build/   # exact workload
    .venv/bin/python tests/benchmarks/bench_models_gpu.py --tiny             # tiny dims on CPU: checks it runs

The models are built from configs written in code (Qwen2-VL-2B/7B dims, SAM2.1 Hiera-B+ from the sam2
package's own yaml) with random weights, so nothing is downloaded; the embedders are the real ones
(`evaluators.models.virtue.VirtueEmbedder`, `evaluators.models.qwen2vl.Qwen2VLEmbedder` as VLM2Vec: processor, V1
1344 px resize, pixel limits of each official eval, SAM stream, pooling), in their `official` protocol.
The tokenizer is the generated test tokenizer (token ids differ from Qwen's, costs do not).
FLOPs are counted with torch.utils.flop_counter on one batch of each kind; MFU = achieved / peak.

The projection counts what is encoded (see `workload`): the evaluation's unique items, as the runner
encodes them (each item once across all tasks), by kind; with `--mmeb-root` / `--scar-root` the counts
come from the data itself, otherwise from the catalog under stated assumptions. Items whose picture
was already encoded under another text are timed apart ("repeat"): the vision tower is skipped there.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from baselines.tiny.qwen2vl import build_tokenizer, tiny_qwen2vl_config, tiny_sam2_config  # noqa: E402
from evaluators.models.protocol import EmbedderInfo, Item  # noqa: E402
from evaluators.models.qwen2vl import Qwen2VLEmbedder  # noqa: E402
from evaluators.models.virtue import VIRTUE_MAX_PIXELS, VIRTUE_MIN_PIXELS, VirtueEmbedder  # noqa: E402
from evaluators.models.virtue_sam import SAM_CONFIG, Connector, SegmentationStream  # noqa: E402
from evaluators.tasks.catalog import MMEB_TASKS, SCAR_TASKS  # noqa: E402
from tests.benchmarks.timing import time_encode  # noqa: E402

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


VLM2VEC_PIXELS = (3136, 12845056)  # the Qwen2-VL-Instruct processor's limits, which VLM2Vec's eval keeps


def build_embedder(model: str, size: str, tiny: bool, device: str, dtype: torch.dtype) -> Qwen2VLEmbedder:
    from hydra.utils import instantiate
    from importlib import resources
    from omegaconf import OmegaConf
    from transformers import Qwen2VLForConditionalGeneration, Qwen2VLImageProcessorPil, Qwen2VLProcessor, \
        Qwen2VLVideoProcessor

    tokenizer = build_tokenizer()
    config = qwen_config(size, tokenizer, tiny)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    with torch.device(device):
        qwen = Qwen2VLForConditionalGeneration(config).to(dtype).eval()
    if tiny:
        pixels = (56 * 56, 56 * 56)
    else:
        pixels = (VIRTUE_MIN_PIXELS, VIRTUE_MAX_PIXELS) if model == "virtue" else VLM2VEC_PIXELS
    size_dict = {"shortest_edge": pixels[0], "longest_edge": pixels[1]}
    processor = Qwen2VLProcessor(image_processor=Qwen2VLImageProcessorPil(size=size_dict), tokenizer=tokenizer,
                                 video_processor=Qwen2VLVideoProcessor(size=size_dict))
    processor.tokenizer.padding_side = "left"
    info = EmbedderInfo(name=f"{model}-{size}-random", model_id="random-init", dtype=str(dtype), device=device)
    if model == "vlm2vec":
        return Qwen2VLEmbedder(info.name, qwen, processor, info, "boxtext", "high", min_pixels=pixels[0],
                               max_pixels=pixels[1])
    sam_cfg = OmegaConf.create(tiny_sam2_config()) if tiny else OmegaConf.load(str(resources.files("sam2") / SAM_CONFIG))
    sam = instantiate(sam_cfg.model, _recursive_=True).eval()
    for p in sam.parameters():
        p.requires_grad_(False)
    connector = Connector(int(sam.sam_prompt_encoder.embed_dim), config.text_config.hidden_size)
    stream = SegmentationStream(sam, connector, 3).to(device, dtype).eval()
    return VirtueEmbedder(info.name, qwen, processor, info, "boxtext", "high", min_pixels=pixels[0],
                          max_pixels=pixels[1], stream=stream)


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
    # the same pictures under another instruction: their tower output is cached by then
    repeats = [Item(text="<|image_1|> Represent the given image with the following question: what is shown?",
                    image=item.image) for item in images]
    return {"scar_query": queries, "image": images, "image_repeat": repeats, "text": texts}


def count_tokens(embedder: Qwen2VLEmbedder, items: list[Item]) -> int:
    prepared = [embedder.prepare(item) for item in items]
    enc = embedder.process(prepared)
    seg = (embedder.stream.size // 64) ** 2 if hasattr(embedder, "stream") else 0
    return int(enc["attention_mask"].sum()) + seg * sum(p.image is not None for p in prepared)


def count_flops(embedder: Qwen2VLEmbedder, items: list[Item], batch_size: int) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        embedder.encode(items[:batch_size], batch_size)
    return counter.get_total_flops() / min(batch_size, len(items))


def workload(mmeb_root: Path | None = None, scar_root: Path | None = None, per_task: bool = False
             ) -> tuple[dict[str, int], str]:
    """What a full SCaR + MMEB evaluation encodes, by kind, and where the counts come from.

    Each unique item once over all tasks (`evaluators.encoding.unique_items`, keyed by `Item.key`), which
    is what the runner encodes for a batch-independent model (VLM2Vec); the official code encodes each
    task's unique items, repeats across tasks included, and so does the runner for official VIRTUE,
    whose embeddings depend on their batch (`per_task`: every query row and each task's distinct
    candidates, `evaluators.batching.reference_batches`). Kinds: `scar_query` (image + region), `image` (an item whose picture is new),
    `image_repeat` (a picture already encoded under another text), `text`.
    From the data when a root is given; otherwise from the catalog, assuming (MMEB) every query carries
    its own picture, a task's candidates are one pool of `num_candidates` distinct items shared by its
    queries (classification: its label set; VQA: answer texts; retrieval/grounding: pictures, except
    the i2t tasks' captions), and (SCaR) 9 distinct hard negatives per query plus its gold caption.
    The catalog estimate has no picture repeats, so it leaves the tower cache's saving out."""
    counts = {"scar_query": 0, "image": 0, "image_repeat": 0, "text": 0}
    sources = []
    if mmeb_root is not None or scar_root is not None:
        from evaluators.encoding import unique_items
        from evaluators.models.vision_cache import file_digest
        from evaluators.task_selection import load_tasks

        mmeb = [t for t in MMEB_TASKS if mmeb_root is not None and (mmeb_root / t.name).is_dir()]
        if mmeb_root is not None and len(mmeb) < len(MMEB_TASKS):
            print(f"note: {mmeb_root} holds {len(mmeb)} of the {len(MMEB_TASKS)} MMEB tasks; counting those")
        infos = ([*SCAR_TASKS] if scar_root is not None else []) + mmeb
        tasks = load_tasks(infos, scar_root=scar_root, mmeb_root=mmeb_root, progress=False)
        items, _, references = unique_items(tasks)
        encoded = list(items.values())
        if per_task:
            from evaluators.batching import reference_batches

            encoded = [item for batch in reference_batches(tasks, 16)[0] for item in batch.items]
        seen: set[str] = set()
        for item in encoded:
            if item.image is None:
                counts["text"] += 1
            elif item.has_region:
                counts["scar_query"] += 1
            else:
                counts["image_repeat" if file_digest(item.image) in seen else "image"] += 1
            if item.image is not None:
                seen.add(file_digest(item.image))
        sources = [f"counted from the data: {len(encoded):,} encodes ({'per task, as the reference batches' if per_task else 'unique over all tasks'}) for {references:,} references"]
    if scar_root is None:
        for task in SCAR_TASKS:
            counts["scar_query"] += task.num_queries
            counts["text"] += task.num_queries * task.num_candidates
        sources.append("SCaR from the catalog (10 distinct candidates per query)")
    if mmeb_root is None:
        i2t = {"MSCOCO_i2t", "VisualNews_i2t"}
        for task in MMEB_TASKS:
            counts["image"] += task.num_queries
            text_pool = task.meta_task in ("Classification", "VQA") or task.name in i2t
            counts["text" if text_pool else "image"] += task.num_candidates
        sources.append("MMEB from the catalog (one pool of num_candidates distinct candidates per task)")
    return counts, "; ".join(sources)


def measure(model: str, args: argparse.Namespace, device: str, dtype: torch.dtype, n: int, batch: int) -> dict[str, float]:
    embedder = build_embedder(model, args.size, args.tiny, device, dtype)
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    peak = args.peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)
    print(f"model: {model.upper()}-{args.size}{' (tiny)' if args.tiny else ''}, random init, {dtype}, on {name}; "
          f"batch {batch}, {n} items per kind")
    rates = {}
    with tempfile.TemporaryDirectory() as folder:
        kinds = make_items(Path(folder), n)
        for kind, items in kinds.items():
            if kind == "scar_query" and model == "vlm2vec":
                items = kinds["image"]  # VLM2Vec reads the box as text: a SCaR query costs an image item
            repeat = kind == "image_repeat"
            if repeat:  # the pictures of "image", encoded just before: cached
                embedder.encode(kinds["image"], batch)
            seconds = time_encode(embedder, items, batch, device, warm=not repeat)
            tokens = count_tokens(embedder, items)
            flops = count_flops(embedder, items, batch)
            rates[kind] = n / seconds
            mfu = f"{100 * flops * n / seconds / (peak * 1e12):.1f}%" if peak else "n/a"
            print(f"  {kind:12s} {n / seconds:9.2f} items/s  {tokens / seconds:11.0f} tokens/s  "
                  f"{tokens / n:7.0f} tokens/item  {flops / 1e12:7.3f} TFLOP/item  MFU {mfu}")
    if device == "cuda":
        print(f"  peak memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
    del embedder
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("virtue", "vlm2vec", "both"), default="both")
    parser.add_argument("--size", choices=("2b", "7b"), default="2b")
    parser.add_argument("--tiny", action="store_true", help="tiny dims on CPU, to check the script runs")
    parser.add_argument("--items", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--peak-tflops", type=float, default=None, help="override the device's bf16 peak")
    parser.add_argument("--mmeb-root", type=Path, default=None, help="a local MMEB-eval copy: count its items exactly")
    parser.add_argument("--scar-root", type=Path, default=None, help="a SCaR build or SCaR-Eval folder: count exactly")
    args = parser.parse_args()
    device = "cpu" if args.tiny else "cuda"
    if not args.tiny and not torch.cuda.is_available():
        sys.exit("no CUDA device: run on a GPU machine, or pass --tiny to check the script on CPU")
    dtype = torch.float32 if args.tiny else torch.bfloat16
    n = min(args.items, 4) if args.tiny else args.items
    batch = min(args.batch_size, n)
    for model in (("virtue", "vlm2vec") if args.model == "both" else (args.model,)):
        counts, source = workload(args.mmeb_root, args.scar_root, per_task=model == "virtue")
        rates = measure(model, args, device, dtype, n, batch)
        hours = {kind: counts[kind] / rates[kind] / 3600 for kind in counts}
        print(f"projected full evaluation ({len(SCAR_TASKS)} SCaR + {len(MMEB_TASKS)} MMEB tasks) on one device, "
              f"{model.upper()}-{args.size}; {source}:")
        for kind, count in counts.items():
            print(f"  {kind:12s} {count:>10,d} items  {hours[kind]:8.2f} h")
        print(f"  total        {sum(counts.values()):>10,d} items  {sum(hours.values()):8.2f} h")
        if device == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()


if __name__ == "__main__":
    main()
