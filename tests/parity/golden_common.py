"""Helpers shared by the golden generators (golden_virtue.py, golden_vlm2vec.py, golden_clip.py).

Runs in an official code's venv: only the standard library, torch, numpy, PIL and tokenizers.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import platform
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
import cases  # noqa: E402  (sibling module; the CLI puts this folder on sys.path)

PINNED = {  # the official commits the golden files are made from
    "virtue": ("sony/virtue", "36d8a8b9efcc8027f2011c01d3cc17ab851c981c"),
    "vlm2vec": ("TIGER-AI-Lab/VLM2Vec", "28fdbdd68a66374ec1b53207ad7a24b9979f1ab6"),  # branch v1
    "clip": ("TIGER-AI-Lab/VLM2Vec", "28fdbdd68a66374ec1b53207ad7a24b9979f1ab6"),
}
QWEN_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                       "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]


# ---- inputs ------------------------------------------------------------------------------------

def draw_image(name: str, size: tuple[int, int]):
    """A small synthetic scene: smooth background, a few solid shapes, mild noise (compresses well)."""
    import numpy as np
    from PIL import Image, ImageDraw

    width, height = size
    seed = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([90 + 100 * x / width, 120 + 80 * y / height, 160 - 60 * (x + y) / (width + height)], -1)
    base += rng.normal(0, 6, base.shape)
    image = Image.fromarray(np.clip(base, 0, 255).astype("uint8"), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(5):
        x0, y0 = int(rng.integers(0, max(1, width - 20))), int(rng.integers(0, max(1, height - 20)))
        x1 = x0 + int(rng.integers(min(12, width // 4), max(13, width // 2)))
        y1 = y0 + int(rng.integers(min(12, height // 4), max(13, height // 2)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    draw.line((0, height - 1, width - 1, height // 3), fill=(250, 240, 30), width=5)
    return image


def save_image_if_changed(image, path: Path) -> None:
    """Keep the committed file when its pixels are already these (PNG bytes vary across Pillow versions)."""
    import numpy as np
    from PIL import Image

    if path.is_file():
        with Image.open(path) as old:
            if old.mode == image.mode and np.array_equal(np.asarray(old), np.asarray(image)):
                return
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def write_case_images(out: Path) -> dict[str, Path]:
    paths = {}
    for name, size in cases.IMAGES.items():
        paths[name] = out / "images" / f"{name}.png"
        save_image_if_changed(draw_image(name, size), paths[name])
    return paths


# ---- weights -----------------------------------------------------------------------------------

def randomise_(model, seed: int, gains: dict[str, float] | None = None) -> None:
    """O(1)-scale random weights, rounded to bfloat16-representable values.

    The default std-0.02 init makes a tiny model's output nearly independent of its input; with
    weights ~ N(0, 1/fan_in) every position, pixel and prompt moves the embedding. Values that are
    exact in bf16 load losslessly whichever dtype a side loads them in. `gains`: parameter-name
    substring -> factor on that matrix's scale (the first match counts)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            gain = next((g for key, g in (gains or {}).items() if key in name), 1.0)
            if param.dim() >= 2:
                value = torch.randn(param.shape, generator=gen) * gain / math.sqrt(param[0].numel())
            elif "norm" in name or "ln_" in name or name.endswith("layer_norm.weight"):
                value = 1 + 0.1 * torch.randn(param.shape, generator=gen)
            else:
                value = 0.1 * torch.randn(param.shape, generator=gen)
            param.copy_(value.to(torch.bfloat16).float())


def to_bf16_(tensors: dict) -> dict:
    """Floating tensors of a (nested) state dict stored as bfloat16: half the bytes on disk; a float32
    model loading them gets the bf16-rounded values exactly."""
    import torch

    for key, value in tensors.items():
        if isinstance(value, dict):
            to_bf16_(value)
        elif torch.is_tensor(value) and value.is_floating_point():
            tensors[key] = value.to(torch.bfloat16)
    return tensors


# Qwen2's pre-tokenization split (the pattern in every Qwen2 tokenizer.json); with NFC and byte-level
# encoding after it, the same pipeline transformers 4.x reads from tokenizer.json and 5.x rebuilds itself.
QWEN2_SPLIT = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"""
               r"""\s*[\r\n]+|\s+(?!\S)|\s+""")


def qwen2_bpe(corpus: list[str], special_tokens: list[str], vocab_size: int):
    """A deterministic Qwen2-style byte-level BPE (`tokenizers`) trained on `corpus`: a few hundred tokens."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus, trainer=trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special_tokens, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    return tok


# ---- official-side runtime helpers -------------------------------------------------------------

def stub_packages(names_to_source: dict[str, str]) -> str:
    """Write throw-away stub packages (for imports the official code makes but never uses on this path)
    into a temp folder and put it on sys.path; returns the folder."""
    folder = tempfile.mkdtemp(prefix="parity-stubs-")
    for dotted, source in names_to_source.items():
        parts = dotted.split(".")
        package = Path(folder, *parts[:-1]) if len(parts) > 1 else Path(folder)
        target = Path(folder, *parts) / "__init__.py" if len(parts) == 1 else package / f"{parts[-1]}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source)
    sys.path.insert(0, folder)
    return folder


def file_digests(root: Path, relative_paths: list[str]) -> dict[str, str]:
    return {rel: hashlib.sha256((root / rel).read_bytes()).hexdigest()[:16] for rel in relative_paths}


def provenance(model: str, official: Path, commit: str, files: list[str]) -> dict:
    repo, pinned = PINNED[model]
    versions = {}
    for package in ("torch", "transformers", "tokenizers", "pillow", "numpy", "datasets"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return {"repo": repo, "commit": commit or pinned, "files_sha256_16": file_digests(official, files),
            "python": platform.python_version(), "packages": versions, "device": "cpu", "dtype": "float32"}


def inputs_record(items: dict, images: list[Path], out: Path) -> dict:
    """What the golden vectors were computed from (image paths relative to `out`); the tests refuse
    golden data whose inputs drifted."""
    return {"items": items, "images": {path.relative_to(out).as_posix(): cases.pixel_digest(path)
                                       for path in sorted(images)}}


def image_digests(pixel_values, grids, image_processor) -> list[str]:
    """`cases.qwen_image_digest` of every image of an official Qwen2-VL batch (rows without one skipped);
    pixel_values per row (a list, or a tensor stacked over rows) or concatenated over images."""
    import numpy as np

    grids = list(grids) if grids is not None else []
    if not isinstance(pixel_values, (list, tuple)) and np.asarray(pixel_values).ndim == 2:  # concatenated
        sizes = [int(np.prod(np.asarray(g).reshape(-1)[:3])) for g in grids]
        pixel_values = np.split(np.asarray(pixel_values), np.cumsum(sizes)[:-1])
    return [cases.qwen_image_digest(np.asarray(rows), grid, image_processor.image_mean, image_processor.image_std)
            for rows, grid in zip(pixel_values, grids) if grid is not None]


def vectors(tensor) -> list[list[float]]:
    return [[float(v) for v in row] for row in tensor.detach().float().cpu()]


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1) + "\n")
