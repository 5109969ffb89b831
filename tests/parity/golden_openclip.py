"""OpenCLIP-on-MMEB golden data from TIGER-AI-Lab/VLM2Vec v1 `evaluation/eval_openclip.py` (open_clip_torch 2.26.1).

eval_openclip.py loads `hf-hub:laion/CLIP-ViT-B-16-laion2B-s34B-b88K` with `open_clip.create_model_from_pretrained`
(its `open_clip_config.json` + `open_clip_pytorch_model.bin`: the model, and the eval transform from the
config's preprocess_cfg) and `open_clip.get_tokenizer` (SimpleTokenizer: ftfy + html.unescape cleaning,
lower case, byte-level BPE, 77 tokens padded with 0). The LAION hub repositories also hold the same
weights in transformers' format, which is what the project runs. This writes both, from one tiny model:

  `<out>/openclip/open_clip/`  open_clip's own layout: `open_clip_config.json` (ViT-B-16's shape, tiny:
                                width 32, 2 layers, 64 px, patch 16, GELU, OpenAI mean/std, bicubic,
                                resize mode "shortest") and `open_clip_pytorch_model.bin` (a state dict),
                                plus `bpe_simple_vocab_tiny.txt.gz`: a small merge table in open_clip's
                                BPE file format, which SimpleTokenizer reads through the config's
                                `text_cfg.tokenizer_kwargs.bpe_path` (open_clip's own option; the real
                                model uses the packaged 49k-merge file, same code);
  `<out>/openclip/model/`      transformers' layout (`CLIPModel`, the same weights converted as the LAION
                                HF repositories are: openclip_layout.py),
                                `CLIPTokenizerFast` with the same vocabulary (vocab.json / merges.txt,
                                ids equal to SimpleTokenizer's), `CLIPImageProcessor` shortest edge 64,
                                centre crop 64, bicubic, OpenAI mean/std (LAION's preprocessor config);
  `<out>/openclip/golden.json` the official outputs on OPENCLIP_TASKS of `<out>/dual/mmeb/` (golden_dual.py),
                                batch size 16 (OpenCLIPCollator pads every text to 77 with 0 and the model
                                pools the end-of-text token behind a causal mask: no batch effects).

The conversion is checked here: the open_clip model and the converted transformers model give the same
features (max abs diff recorded as `conversion_max_abs_diff`) on the official tokens and pixels.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import golden_common as common
import golden_dual as dual
from golden_clip import byte_symbols
from golden_common import cases
from openclip_layout import to_transformers

SEED = 48
HUB_ID = "laion/CLIP-ViT-B-16-laion2B-s34B-b88K"
SCRIPT = "evaluation/eval_openclip.py"
BPE_FILE = "bpe_simple_vocab_tiny.txt.gz"
OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_STD = [0.26862954, 0.26130258, 0.27577711]
WIDTH, LAYERS, HEADS, IMAGE, PATCH, EMBED = 32, 2, 2, 64, 16, 32


def merges_for(texts: list[str]) -> list[tuple[str, str]]:
    """Left-to-right merges making each word of `texts` (lower-cased letter runs) one token."""
    words = dict.fromkeys(w for t in texts for w in re.findall(r"[a-z]+", t.lower()) if len(w) > 1)
    merges: list[tuple[str, str]] = []
    seen = set()
    for word in words:
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            pair = (parts[0], parts[1])
            if pair not in seen:
                seen.add(pair)
                merges.append(pair)
            parts = [parts[0] + parts[1]] + parts[2:]
    return merges


def open_clip_config(vocab_size: int) -> dict:
    return {"model_cfg": {"embed_dim": EMBED,
                          "vision_cfg": {"image_size": IMAGE, "layers": LAYERS, "width": WIDTH, "head_width": WIDTH // HEADS,
                                         "patch_size": PATCH},
                          "text_cfg": {"context_length": 77, "vocab_size": vocab_size, "width": WIDTH, "heads": HEADS,
                                       "layers": LAYERS, "tokenizer_kwargs": {"bpe_path": BPE_FILE}}},
            "preprocess_cfg": {"mean": OPENAI_MEAN, "std": OPENAI_STD}}


def build_models(folder: Path, hf_dir: Path, texts: list[str]) -> dict:
    """Both layouts of one tiny random model; -> open_clip's config (as committed)."""
    import torch
    from open_clip.model import CLIP
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizerFast

    merges = merges_for(texts)
    symbols = byte_symbols()
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    assert len(set(vocab)) == len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    hf_dir.mkdir(parents=True, exist_ok=True)
    lines = ["#version: 0.2"] + [f"{a} {b}" for a, b in merges]
    # no newline at the end: SimpleTokenizer would read an empty last line as one more (empty) merge
    (folder / BPE_FILE).write_bytes(gzip.compress("\n".join(lines).encode(), mtime=0))
    config = open_clip_config(len(vocab))
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2) + "\n")

    torch.manual_seed(SEED)
    model = CLIP(EMBED, config["model_cfg"]["vision_cfg"],
                 {k: v for k, v in config["model_cfg"]["text_cfg"].items() if k != "tokenizer_kwargs"}).eval()
    common.randomise_(model, SEED + 1)
    state = {k: v.to(torch.bfloat16) for k, v in model.state_dict().items()}
    torch.save(state, folder / "open_clip_pytorch_model.bin")

    vocab_file, merges_file = hf_dir / "vocab.json", hf_dir / "merges.txt"
    vocab_file.write_text(json.dumps({token: i for i, token in enumerate(vocab)}, ensure_ascii=False))
    merges_file.write_text("\n".join(lines) + "\n")
    tokenizer = CLIPTokenizerFast(vocab_file=str(vocab_file), merges_file=str(merges_file), model_max_length=77)
    assert tokenizer.eos_token_id == len(vocab) - 1 and tokenizer.bos_token_id == len(vocab) - 2
    hf_config = CLIPConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=WIDTH, intermediate_size=4 * WIDTH, num_hidden_layers=LAYERS,
                         num_attention_heads=HEADS, max_position_embeddings=77, hidden_act="gelu",
                         bos_token_id=0, eos_token_id=2, pad_token_id=1),  # legacy eos id 2: pool at argmax, as open_clip
        vision_config=dict(hidden_size=WIDTH, intermediate_size=4 * WIDTH, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                           image_size=IMAGE, patch_size=PATCH, hidden_act="gelu"),
        projection_dim=EMBED)
    hf_model = CLIPModel(hf_config).eval()
    missing, unexpected = hf_model.load_state_dict({k: v.float() for k, v in to_transformers(state).items()}, strict=False)
    if unexpected or [k for k in missing if not k.endswith("position_ids")]:
        raise SystemExit(f"conversion: missing {missing}, unexpected {unexpected}")
    hf_model.to(torch.bfloat16).save_pretrained(hf_dir, safe_serialization=True)
    image_processor = CLIPImageProcessor(size={"shortest_edge": IMAGE}, crop_size={"height": IMAGE, "width": IMAGE},
                                         resample=3, image_mean=OPENAI_MEAN, image_std=OPENAI_STD)
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(hf_dir)
    return config


def conversion_check(hf_dir: Path, root: Path, tasks: dict) -> float:
    """Max abs diff between open_clip's features (the model eval_openclip.py loaded) and the converted
    transformers model's, on open_clip's own tokens and pixels of every fixture item."""
    import open_clip
    import torch
    from PIL import Image
    from transformers import CLIPModel

    model, preprocess = open_clip.create_model_from_pretrained(f"hf-hub:{HUB_ID}")
    tokenizer = open_clip.get_tokenizer(f"hf-hub:{HUB_ID}")
    hf = CLIPModel.from_pretrained(hf_dir, torch_dtype=torch.float32).eval()
    texts = sorted({t for rows in tasks.values() for q, _, c, _ in rows for t in [q, *c]})
    paths = dual.task_images(root, tasks)
    with torch.no_grad():
        tokens = tokenizer(texts)
        pixels = torch.stack([preprocess(Image.open(p).convert("RGB") if Image.open(p).mode == "L" else Image.open(p))
                              for p in paths])
        diff_text = (model.encode_text(tokens) - hf.get_text_features(input_ids=tokens)).abs().max()
        diff_image = (model.encode_image(pixels) - hf.get_image_features(pixel_values=pixels)).abs().max()
    return float(max(diff_text, diff_image))


def generate(official: Path, out: Path, commit: str) -> None:
    if not (official / SCRIPT).is_file():
        raise SystemExit(f"{official}: no {SCRIPT} (not a TIGER-AI-Lab/VLM2Vec v1 tree?)")
    root, all_tasks, _ = dual.build_fixture(out)
    tasks = {name: all_tasks[name] for name in dual.OPENCLIP_TASKS}
    folder, hf_dir = out / "openclip" / "open_clip", out / "openclip" / "model"
    config = build_models(folder, hf_dir, dual.corpus(tasks))
    snapshot = dual.fake_hub(HUB_ID, {"open_clip_pytorch_model.bin": folder / "open_clip_pytorch_model.bin",
                                      BPE_FILE: folder / BPE_FILE})
    # the config as committed, but with the BPE file's absolute path (SimpleTokenizer opens it as given)
    config["model_cfg"]["text_cfg"]["tokenizer_kwargs"]["bpe_path"] = str(snapshot / BPE_FILE)
    (snapshot / "open_clip_config.json").write_text(json.dumps(config, indent=2))
    dual.prepare_official(official)
    import evaluation.eval_openclip as eval_openclip

    picks, accuracy, encoded = dual.run_official(eval_openclip, root, tasks, 16, [])
    records = dual.task_records(tasks, picks, accuracy, encoded)
    dual.check_margins("openclip", records)
    conversion = conversion_check(hf_dir, root, tasks)
    print(f"[openclip] open_clip vs converted transformers model: max|d| {conversion:.2e}", flush=True)
    if conversion > 1e-5:
        raise SystemExit("the transformers copy does not compute what the open_clip model computes")
    golden = {"official": dual.provenance("openclip", official, commit, SCRIPT),
              "run": f"{SCRIPT} --embedding_type multimodal --normalize True --per_device_eval_batch_size 16",
              "hub_id": HUB_ID,
              "conversion_max_abs_diff": conversion,
              "tolerance": cases.TOLERANCE,
              "inputs": common.inputs_record({name: [list(row) for row in rows] for name, rows in tasks.items()},
                                             dual.task_images(root, tasks), out),
              "tasks": records}
    common.write_json(out / "openclip" / "golden.json", golden)
