"""The official side of `bench_vs_official.py`: runs inside the official VLM2Vec v1 environment
(transformers 4.46.3, the venvs `../shared/parity/` builds), never in the project's.

    python official_driver.py make-clip OUT --corpus CORPUS.txt
    python official_driver.py make-qwen2vl OUT --corpus CORPUS.txt [--hidden 512 --layers 4 ...]
    python official_driver.py eval-clip OFFICIAL_TREE -- <evaluation/eval_clip.py arguments>
    python official_driver.py eval-qwen2vl OFFICIAL_TREE -- <eval.py arguments>

`make-*` write small random-weight checkpoints in the official on-disk layout (with this environment's
transformers, as a released checkpoint would be), tokenizers trained on the fixture's own texts.
`eval-*` run the official script unchanged, through `runpy`, after these in-memory patches (nothing is
written into the official tree):
  CLIP   v1's `eval_clip.py` builds `EvalDataset` without `model_args`, which v1's dataset requires: a
         default `model_args` with backbone `phi3_v` is supplied (keeps `<|image_1|>`, no resize: what the
         original release e61ae22 does unpatched).
  Qwen2-VL  `MMEBModel.load` asks for flash-attention 2 and bfloat16: the language model gets sdpa, the
         vision tower the vendored flash-attention class with `flash_attn_varlen_func` computed by sdpa one
         image at a time (the same block-diagonal attention flash-attn's varlen kernel computes; the
         vendored sdpa class would build one mask over every patch of the batch, 20 GB for 16 images at
         1344 px); float32 instead of bfloat16 on a CPU (`eval.py` casts the model to bf16).
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
from pathlib import Path

QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                 "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]


def corpus_lines(path: str) -> list[str]:
    return [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------- checkpoints


def clip_bpe(lines: list[str], merges_wanted: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """CLIP's byte alphabet (each symbol also with `</w>`) plus greedy merges of the corpus' frequent pairs."""
    from collections import Counter

    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    codes, extra = printable[:], 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    byte_char = dict(zip(printable, (chr(c) for c in codes)))
    symbols = [byte_char[b] for b in sorted(byte_char)]
    vocab_list = symbols + [s + "</w>" for s in symbols]
    words = Counter(w for line in lines for w in line.lower().split())
    spelled = {w: [byte_char[b] for b in w.encode("utf-8")] for w in words}
    for w, s in spelled.items():
        s[-1] += "</w>"
    merges: list[tuple[str, str]] = []
    for _ in range(merges_wanted):
        pairs: Counter = Counter()
        for w, s in spelled.items():
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += words[w]
        if not pairs:
            break
        (a, b), _ = pairs.most_common(1)[0]
        merges.append((a, b))
        vocab_list.append(a + b)
        for w, s in spelled.items():
            i, out = 0, []
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            spelled[w] = out
    vocab_list += ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(vocab_list)}, merges


def make_clip(out: Path, corpus: str, hidden: int, layers: int, image_size: int, patch: int) -> None:
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    vocab, merges = clip_bpe(corpus_lines(corpus), 600)
    raw = out / "_bpe"
    raw.mkdir(exist_ok=True)
    (raw / "vocab.json").write_text(json.dumps(vocab))
    (raw / "merges.txt").write_text("#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n")
    tokenizer = CLIPTokenizerFast(vocab_file=str(raw / "vocab.json"), merges_file=str(raw / "merges.txt"),
                                  model_max_length=77)
    assert tokenizer.pad_token == tokenizer.eos_token == "<|endoftext|>"
    tower = dict(hidden_size=hidden, intermediate_size=4 * hidden, num_hidden_layers=layers,
                 num_attention_heads=max(1, hidden // 32))
    config = CLIPConfig(
        text_config=dict(tower, vocab_size=len(vocab), max_position_embeddings=77,
                         bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
                         pad_token_id=vocab["<|endoftext|>"]),
        vision_config=dict(tower, image_size=image_size, patch_size=patch),
        projection_dim=hidden,
    )
    torch.manual_seed(0)
    CLIPModel(config).eval().save_pretrained(out)
    processor = CLIPImageProcessor(size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size})
    CLIPProcessor(image_processor=processor, tokenizer=tokenizer).save_pretrained(out)
    for f in raw.iterdir():
        f.unlink()
    raw.rmdir()
    print(f"wrote CLIP to {out}: vocab {len(vocab)}, hidden {hidden}, layers {layers}, {image_size} px")


def make_qwen2vl(out: Path, corpus: str, vocab_size: int, hidden: int, layers: int, vision_depth: int,
                 vision_dim: int) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast, Qwen2VLConfig, Qwen2VLForConditionalGeneration, \
        Qwen2VLImageProcessor, Qwen2VLProcessor

    out.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus_lines(corpus), trainer=trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=QWEN_SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    tokenizer = Qwen2TokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                                   unk_token=None, bos_token=None, padding_side="left")
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIALS}
    heads = hidden // 64  # head_dim 64: 32 rotary pairs over (temporal, height, width), as Qwen2-VL's 16/24/24 of 64
    config = Qwen2VLConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=3 * hidden, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=max(1, heads // 4), max_position_embeddings=8192,
        rms_norm_eps=1e-6, rope_theta=1e6, rope_scaling={"type": "mrope", "mrope_section": [8, 12, 12]},
        tie_word_embeddings=True, bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|endoftext|>"],
        pad_token_id=ids["<|endoftext|>"], image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        vision_config=dict(depth=vision_depth, embed_dim=vision_dim, num_heads=max(1, vision_dim // 64), mlp_ratio=4,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2, hidden_size=hidden,
                           in_channels=3),
    )
    torch.manual_seed(0)
    model = Qwen2VLForConditionalGeneration(config).eval()
    with torch.no_grad():  # larger than the default init, so that images, positions and texts move the embedding
        gen = torch.Generator().manual_seed(1)
        for name, p in model.named_parameters():
            if p.ndim >= 2:
                p.copy_(torch.randn(p.shape, generator=gen) * (1.2 / p.shape[-1] ** 0.5))
            elif "norm" in name or "ln_q" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))
    model.save_pretrained(out, safe_serialization=True)
    # The Qwen2-VL-*-Instruct hub processor's limits: a 1344x1344 image keeps its 96x96 patch grid.
    Qwen2VLProcessor(image_processor=Qwen2VLImageProcessor(min_pixels=3136, max_pixels=12845056),
                     tokenizer=tokenizer).save_pretrained(out)
    n = sum(p.numel() for p in model.parameters())
    print(f"wrote Qwen2-VL to {out}: {n / 1e6:.1f}M parameters, vocab {len(tokenizer)}, LM {layers}x{hidden}, "
          f"vision {vision_depth}x{vision_dim}")


# ---------------------------------------------------------------- official evaluations


def patch_clip() -> None:
    import src.dataset as dataset
    from src.arguments import ModelArguments

    original = dataset.EvalDataset.__init__

    def init(self, data_args, model_args=None, *args, **kwargs):
        if model_args is None:
            model_args = ModelArguments(model_name="", model_backbone="phi3_v")
        original(self, data_args, model_args, *args, **kwargs)

    dataset.EvalDataset.__init__ = init


def varlen_sdpa(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q=None, max_seqlen_k=None, *args, **kwargs):
    """flash_attn_varlen_func for (total, heads, dim) tensors: non-causal attention within each sequence."""
    import torch
    import torch.nn.functional as F

    bounds = cu_seqlens_q.tolist()
    out = torch.empty_like(q)
    for start, end in zip(bounds, bounds[1:]):
        block = [t[start:end].transpose(0, 1).unsqueeze(0) for t in (q, k, v)]
        out[start:end] = F.scaled_dot_product_attention(*block).squeeze(0).transpose(0, 1)
    return out


def patch_qwen2vl() -> None:
    import torch

    import src.model as model_module
    import src.model_utils as mu
    import src.vlm_backbone.qwen2_vl.modeling_qwen2_vl as vendored

    vendored.flash_attn_varlen_func = varlen_sdpa
    # the vision tower is built with the model's own attn_implementation: its sdpa class becomes the
    # flash-attention class, which now runs `varlen_sdpa`
    vendored.QWEN2_VL_VISION_ATTENTION_CLASSES["sdpa"] = vendored.VisionFlashAttention2
    cls = mu.backbone2model[mu.QWEN2_VL]
    original = cls.from_pretrained.__func__
    cpu = not torch.cuda.is_available()

    def from_pretrained(klass, *args, **kwargs):
        config = kwargs["config"]
        config._attn_implementation = "sdpa"
        config.vision_config._attn_implementation = "sdpa"
        if cpu:
            kwargs["torch_dtype"] = torch.float32
        return original(klass, *args, **kwargs)

    cls.from_pretrained = classmethod(from_pretrained)
    if cpu:
        to = model_module.MMEBModel.to

        def to_float32(self, *args, **kwargs):
            if kwargs.get("dtype") is torch.bfloat16:
                kwargs["dtype"] = torch.float32
            return to(self, *args, **kwargs)

        model_module.MMEBModel.to = to_float32


def run_official(tree: Path, script: str, argv: list[str], patch) -> None:
    os.chdir(tree)
    sys.path.insert(0, str(tree))
    patch()
    sys.argv = [script, *argv]
    runpy.run_path(str(tree / script), run_name="__main__")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("make-clip")
    p.add_argument("out", type=Path)
    p.add_argument("--corpus", required=True)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--patch", type=int, default=16)
    p = sub.add_parser("make-qwen2vl")
    p.add_argument("out", type=Path)
    p.add_argument("--corpus", required=True)
    p.add_argument("--vocab", type=int, default=8192)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--vision-depth", type=int, default=2)
    p.add_argument("--vision-dim", type=int, default=256)
    for name in ("eval-clip", "eval-qwen2vl"):
        p = sub.add_parser(name)
        p.add_argument("tree", type=Path)
        p.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.command == "make-clip":
        make_clip(args.out, args.corpus, args.hidden, args.layers, args.image_size, args.patch)
    elif args.command == "make-qwen2vl":
        make_qwen2vl(args.out, args.corpus, args.vocab, args.hidden, args.layers, args.vision_depth, args.vision_dim)
    else:
        rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
        if args.command == "eval-clip":
            run_official(args.tree.resolve(), "evaluation/eval_clip.py", rest, patch_clip)
        else:
            run_official(args.tree.resolve(), "eval.py", rest, patch_qwen2vl)


if __name__ == "__main__":
    main()
