"""VLM2Vec (Qwen2-VL) golden data from TIGER-AI-Lab/VLM2Vec branch v1 (transformers 4.46.3).

Writes `<out>/vlm2vec/ckpt/` (merged Qwen2-VL weights in transformers' layout, bf16 safetensors, a
Qwen2-style tokenizer and a Qwen2VLProcessor whose pixel limits are MIN_PIXELS..MAX_PIXELS) and
`<out>/vlm2vec/golden.json`.

Official path, as `eval.py` runs it: `AutoProcessor.from_pretrained(ckpt)`, the backbone from the config,
`MMEBModel.load`, `EvalDataset.__getitem__` (image token swap, `_get_image`: 1344x1344 for
`image_resolution=high`) over our rows, `EvalCollator`, `model(qry=...)` for every batch (eval.py encodes
candidates through `qry` too). The dataset object is made without `load_dataset` (its rows are ours).
Per case two references: `first` (rope_deltas reset: the first batch of a run) and `later` (rope_deltas
cached: every later batch); the project must match both.

MAX_PIXELS is below the 1344x1344 input, so the processor really resizes (PIL in transformers 4.x) and a
query costs 256 image tokens; the hub's Qwen2-VL-Instruct value (12845056) would keep 2304 tokens and
never resize. In-memory patches: flash-attention -> sdpa and bf16 -> float32 in the backbone's
`from_pretrained` (MMEBModel.load hard-codes both; the weights are bf16-exact).
"""

from __future__ import annotations

import sys
from pathlib import Path

import golden_common as common
from golden_common import cases

SEED = 0
MIN_PIXELS = 56 * 56  # Qwen2-VL-Instruct's own
MAX_PIXELS = 256 * 28 * 28  # 1344x1344 -> 448x448, 16x16 merged tokens
OFFICIAL_FILES = ["eval.py", "src/model.py", "src/dataset.py", "src/collator.py", "src/model_utils.py",
                  "src/vlm_backbone/qwen2_vl/modeling_qwen2_vl.py"]


def build_checkpoint(ckpt: Path) -> None:
    import torch
    from transformers import (Qwen2TokenizerFast, Qwen2VLConfig, Qwen2VLForConditionalGeneration,
                              Qwen2VLImageProcessor, Qwen2VLProcessor)

    ckpt.mkdir(parents=True, exist_ok=True)
    bpe = common.qwen2_bpe(cases.TOKENIZER_CORPUS, common.QWEN_SPECIAL_TOKENS, 320)
    tokenizer = Qwen2TokenizerFast(tokenizer_object=bpe, unk_token=None, bos_token=None, eos_token="<|endoftext|>",
                                   pad_token="<|endoftext|>", padding_side="left")
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in common.QWEN_SPECIAL_TOKENS}
    config = Qwen2VLConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=4096, rms_norm_eps=1e-6, rope_theta=10000.0,
        rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]}, tie_word_embeddings=False,
        bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|endoftext|>"], pad_token_id=ids["<|endoftext|>"],
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        vision_config=dict(depth=1, embed_dim=16, num_heads=2, mlp_ratio=2, patch_size=14, spatial_merge_size=2,
                           temporal_patch_size=2, hidden_size=32, in_channels=3))
    torch.manual_seed(SEED)
    model = Qwen2VLForConditionalGeneration(config).eval()
    common.randomise_(model, SEED + 1)
    model.to(torch.bfloat16).save_pretrained(ckpt, safe_serialization=True)
    image_processor = Qwen2VLImageProcessor(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    Qwen2VLProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(ckpt)


def patch_backbone_loading() -> None:
    import torch
    import src.model_utils as model_utils

    backbone = model_utils.backbone2model[model_utils.QWEN2_VL]
    original = backbone.from_pretrained.__func__

    def from_pretrained(cls, *args, **kwargs):
        config = kwargs["config"]
        config._attn_implementation = "sdpa"
        config.vision_config._attn_implementation = "sdpa"
        kwargs["torch_dtype"] = torch.float32
        return original(cls, *args, **kwargs)

    backbone.from_pretrained = classmethod(from_pretrained)


def generate(official: Path, out: Path, commit: str) -> None:
    import torch

    if not (official / "src" / "collator.py").is_file() or "class EvalCollator" not in (official / "src" / "collator.py").read_text():
        raise SystemExit(f"{official}: not a TIGER-AI-Lab/VLM2Vec v1 tree (no EvalCollator in src/collator.py)")
    images = common.write_case_images(out)
    ckpt = out / "vlm2vec" / "ckpt"
    build_checkpoint(ckpt)
    sys.path.insert(0, str(official))
    patch_backbone_loading()
    import src.model_utils as model_utils
    from transformers import AutoConfig, AutoProcessor
    from src.arguments import DataArguments, ModelArguments
    from src.collator import EvalCollator
    from src.dataset import EvalDataset
    from src.model import MMEBModel

    model_args = ModelArguments(model_name=str(ckpt), pooling="eos", normalize=True, lora=False)
    data_args = DataArguments(image_dir="", image_resolution="high")
    processor = AutoProcessor.from_pretrained(model_args.model_name, trust_remote_code=True,
                                              num_crops=model_args.num_crops)
    model_args.model_backbone = model_utils.get_backbone_name(hf_config=AutoConfig.from_pretrained(str(ckpt)))
    model = MMEBModel.load(model_args).eval().to("cpu", dtype=torch.float32)
    collator = EvalCollator(data_args=data_args, model_args=model_args, processor=processor)
    dataset = object.__new__(EvalDataset)  # its __getitem__ / _get_image on our rows, no load_dataset
    dataset.data_args, dataset.model_args, dataset.backbone = data_args, model_args, model_args.model_backbone

    golden = {"official": common.provenance("vlm2vec", official, commit, OFFICIAL_FILES),
              "pixels": {"min": MIN_PIXELS, "max": MAX_PIXELS}, "tolerance": cases.TOLERANCE,
              "inputs": common.inputs_record(cases.VLM2VEC_ITEMS, list(images.values()), out), "cases": {}}
    for case, names in cases.VLM2VEC_CASES.items():
        result = {"items": names}
        for label, reset in (("first", True), ("later", False)):
            dataset.paired_dataset = [{"text": cases.VLM2VEC_ITEMS[n]["text"],
                                       "img_path": str(images[cases.VLM2VEC_ITEMS[n]["image"]])
                                       if cases.VLM2VEC_ITEMS[n].get("image") else ""} for n in names]
            batch = collator([dataset[i] for i in range(len(names))])
            if reset:
                model.encoder.rope_deltas = None
            with torch.no_grad():
                result[label] = common.vectors(model(qry=batch)["qry_reps"])
        result["input_ids"] = [[int(t) for t in row] for row in batch["input_ids"]]
        if any(g is not None for g in batch["image_grid_thw"]):
            result["images"] = common.image_digests(batch["pixel_values"], batch["image_grid_thw"],
                                                    processor.image_processor)
        golden["cases"][case] = result
        print(f"[vlm2vec] {case}: {len(names)} row(s), length {len(result['input_ids'][0])}", flush=True)
    common.write_json(out / "vlm2vec" / "golden.json", golden)
