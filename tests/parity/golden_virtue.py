"""VIRTUE golden data from sony/virtue `codes/` (vendored Qwen2-VL + SAM2, transformers 4.52.3).

Writes `<out>/virtue/ckpt/` (a released VIRTUE folder's layout: flat Qwen2-VL config saved by the
official vendored class, bf16 safetensors, tokenizer, preprocessor; SAM2.1-shaped tiny SAM at 1024,
`sam2_reducer_and_vlm_layer.pth`, the `virtue_sam` config block) and `<out>/virtue/golden.json`.

Official inputs are built the way the eval builds them: SCaR rows by `scar_image_i2t.data_prepare`,
batches by `MultimodalEvalDataCollator` ("qry" for queries, "cand" for text candidates), embeddings by
`MMEBModel(qry=...)` / `(tgt=...)`. A point query is the demo's (`virtue-example.py`): its text as given,
`point` scaled to SAM's 1024 frame. Per case two references: `first` = the model's first forward call
(`rope_deltas` reset) and `later` = the same input once `rope_deltas` is cached, what every eval batch
after a run's first computes (the reference the project's official protocol reproduces).

In-memory patches (the tree is never written): flash-attention -> sdpa (MMEBModel.load hard-codes it;
no flash-attn on CPU), the model cast to float32 on CPU (eval.py casts to bf16 on GPU; the weights are
bf16-exact), `torch.load` safety check off as eval.py does, a `torchvision.io.write_video` stub and
stub `flash_attn` / `lightning` packages (imported by unrelated modules, never called here).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import golden_common as common
from golden_common import cases

SAM_SIZE = 1024  # the official SAM wrapper hard-codes the 1024 frame's feature sizes
SAM_DIM = 32
SEED = 0
OFFICIAL_FILES = ["src/model/model.py", "src/model/vlm_backbone/qwen2_vl/modeling_qwen2_vl.py",
                  "src/data/collator/eval_collator.py", "src/data/eval_dataset/scar_image_i2t.py",
                  "src/model/processor.py"]
STUBS = {
    "flash_attn": "def flash_attn_varlen_func(*a, **k):\n    raise RuntimeError('flash_attn stub')\n",
    "flash_attn.flash_attn_interface": "def flash_attn_varlen_qkvpacked_func(*a, **k):\n    raise RuntimeError('stub')\n",
    "flash_attn.bert_padding": "def _stub(*a, **k):\n    raise RuntimeError('stub')\n"
                               "unpad_input = pad_input = index_first_axis = _stub\n",
    "lightning": "class LightningDataModule:\n    pass\n\ndef seed_everything(*a, **k):\n    pass\n",
}


def patch_official_runtime() -> None:
    import torch  # noqa: F401
    import torchvision.io
    import transformers.modeling_utils as modeling_utils
    import transformers.trainer as trainer

    trainer.check_torch_load_is_safe = lambda: None
    modeling_utils.check_torch_load_is_safe = lambda: None

    def sdpa_instead_of_flash(cls, config, *args, **kwargs):
        config._attn_implementation = "sdpa"
        for key in getattr(config, "sub_configs", {}):
            sub = getattr(config, key, None)
            if sub is not None:
                sub._attn_implementation = "sdpa"
        return config

    modeling_utils.PreTrainedModel._check_and_enable_flash_attn_2 = classmethod(sdpa_instead_of_flash)
    if not hasattr(torchvision.io, "write_video"):
        torchvision.io.write_video = lambda *a, **k: None


def build_checkpoint(ckpt: Path, hydra_dir: Path) -> None:
    import torch
    from hydra.utils import instantiate
    from omegaconf import OmegaConf
    from src.model.vlm_backbone.qwen2_vl.configuration_qwen2_vl import Qwen2VLConfig
    from src.model.vlm_backbone.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor
    from src.model.vlm_backbone.qwen2_vl.modeling_qwen2_vl import Qwen2VLForConditionalGeneration
    from src.model.vlm_backbone.qwen2_vl.tokenization_qwen2_fast import Qwen2TokenizerFast

    sys.path.insert(0, str(common.HERE.parents[1]))  # the project, for its tiny SAM2 config only
    from baselines.tiny.qwen2vl import tiny_sam2_config

    ckpt.mkdir(parents=True, exist_ok=True)
    bpe = common.qwen2_bpe(cases.TOKENIZER_CORPUS, common.QWEN_SPECIAL_TOKENS, 320)
    tokenizer = Qwen2TokenizerFast(tokenizer_object=bpe, unk_token="<|endoftext|>", eos_token="<|endoftext|>",
                                   pad_token="<|endoftext|>", padding_side="left")
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in common.QWEN_SPECIAL_TOKENS}
    config = Qwen2VLConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=4096, rms_norm_eps=1e-6, rope_theta=10000.0,
        rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
        vision_config=dict(depth=1, embed_dim=16, hidden_size=32, mlp_ratio=2, num_heads=2, patch_size=14,
                           spatial_merge_size=2, temporal_patch_size=2, initializer_range=0.02),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|endoftext|>"], pad_token_id=ids["<|endoftext|>"],
        tie_word_embeddings=False, use_cache=False)
    config._attn_implementation = "sdpa"
    torch.manual_seed(SEED)
    model = Qwen2VLForConditionalGeneration(config).eval()
    common.randomise_(model, SEED + 1)
    model.to(torch.bfloat16).save_pretrained(ckpt, safe_serialization=True)
    tokenizer.save_pretrained(ckpt)
    Qwen2VLImageProcessor().save_pretrained(ckpt)  # Qwen2-VL's defaults; the eval passes its own pixel limits

    sam_config = tiny_sam2_config(image_size=SAM_SIZE, d_model=SAM_DIM)
    (ckpt / "sam2_tiny1024.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(sam_config)))
    official_yaml = OmegaConf.to_yaml(OmegaConf.create(sam_config)).replace("_target_: sam2.", "_target_: src.sam2.")
    (hydra_dir / "official_sam2_tiny1024.yaml").write_text("# @package _global_\n" + official_yaml)
    torch.manual_seed(SEED)
    sam = instantiate(OmegaConf.create(official_yaml).model, _recursive_=True)
    gen = torch.Generator().manual_seed(SEED + 2)
    with torch.no_grad():  # SAM2 initialises these to zeros / tiny values; random ones make them count
        for param in (sam.no_mem_embed, sam.image_encoder.trunk.pos_embed, sam.image_encoder.trunk.pos_embed_window):
            param.copy_(0.5 * torch.randn(param.shape, generator=gen))
    torch.save({"model": common.to_bf16_(dict(sam.state_dict()))}, ckpt / "sam2_tiny1024.pt")

    def rand(*shape: int) -> torch.Tensor:
        fan_in = 1
        for s in shape[1:]:
            fan_in *= s
        return (torch.randn(*shape, generator=gen) / max(fan_in, 1) ** 0.5 if len(shape) > 1
                else 0.1 * torch.randn(*shape, generator=gen))

    connector = {"sam2_reducer": {"weight": rand(SAM_DIM, SAM_DIM, 4, 4), "bias": rand(SAM_DIM)},
                 "sam2vlm_layer": {"0.weight": rand(SAM_DIM, SAM_DIM), "0.bias": rand(SAM_DIM),
                                   "2.weight": rand(32, SAM_DIM), "2.bias": rand(32)}}
    torch.save(common.to_bf16_(connector), ckpt / "sam2_reducer_and_vlm_layer.pth")
    config_file = ckpt / "config.json"
    saved = json.loads(config_file.read_text())
    saved["virtue_sam"] = {"enabled": True, "config_path": "sam2_tiny1024.yaml", "checkpoint": "sam2_tiny1024.pt",
                           "points_per_side": 3, "feature_levels": 2}
    config_file.write_text(json.dumps(saved, indent=2) + "\n")


def load_official(ckpt: Path, hydra_dir: Path):
    import torch
    from hydra import initialize_config_dir
    from src.arguments import DataArguments, ModelArguments
    from src.model.model import MMEBModel
    from src.model.processor import load_processor

    initialize_config_dir(config_dir=str(hydra_dir), version_base=None)
    model_args = ModelArguments(model_name=str(ckpt), model_backbone="qwen2_vl", pooling="eos", normalize=True,
                                lora=False, sam=True)
    model_args.sam_config = {"config_path": "official_sam2_tiny1024.yaml", "checkpoint": str(ckpt / "sam2_tiny1024.pt"),
                             "feature_levels": 2, "points_per_side": 3}
    # image_resolution "high" and the collator's own resize, as configs of the SCaR eval
    data_args = DataArguments(dataset_config="./configs/datasets/eval_scar.yaml", image_resolution="high",
                              resize_use_processor=False)
    processor = load_processor(model_args, data_args)
    model = MMEBModel.load(model_args, is_trainable=False, processor=processor).eval().to("cpu", dtype=torch.float32)
    return model, processor, model_args, data_args


def official_inputs(names: list[str], images: dict[str, Path], collators: dict):
    """(collated batch, side) for a case, as the official eval / demo builds it."""
    from src.data.eval_dataset.scar_image_i2t import data_prepare
    from src.utils import batch_to_device

    items = [cases.VIRTUE_ITEMS[n] for n in names]
    kinds = {item["kind"] for item in items}
    if kinds == {"text"}:
        rows = [{"cand_text": [it["text"]], "cand_image": [None], "dataset_infos": {"cand_name": it["text"]}}
                for it in items]
        return collators["cand"](rows)[0], "cand"
    rows = []
    for it in items:
        if it["kind"] == "text":  # a text-only query beside image queries (an MMEB task may mix them)
            rows.append({"query_text": [it["text"]], "query_image": [None], "cand_text": [["unused candidate"]],
                         "cand_image": [[None]], "dataset_infos": {"cand_names": ["unused candidate"],
                                                                    "label_name": "unused candidate"},
                         "bboxes": [0.0, 0.0, 1.0, 1.0]})
            continue
        bbox = it.get("bbox_xywh", [0.0, 0.0, 1.0, 1.0])  # only scar rows hand theirs to SAM
        batch = {"qry_text": [it["text"]], "qry_image_path": [str(images[it["image"]])],
                 "tgt_text": [["unused candidate"]], "bbox": [bbox]}
        prepared = data_prepare(batch, image_resolution="high", model_backbone="qwen2_vl", image_root="")
        row = {key: prepared[key][0] for key in ("query_text", "query_image", "cand_text", "cand_image",
                                                  "dataset_infos", "bboxes")}
        if it["kind"] != "scar":  # the text as the demo passes it, image token in Qwen2-VL's form
            row["query_text"] = [it["text"].replace("<|image_1|>", "<|image_pad|>")]
        rows.append(row)
    inputs = collators["qry"](rows)[0]
    if kinds == {"scar"}:
        return batch_to_device(inputs, "cpu"), "qry"
    if len(kinds - {"text"}) > 1 or kinds & {"scar", "point"} and "text" in kinds:
        raise ValueError(f"a VIRTUE case mixes kinds {sorted(kinds)}; only no-prompt image rows mix with text rows")
    inputs["bboxes"] = None
    if kinds == {"point"}:
        if len(items) != 1:
            raise ValueError("the official model takes one point per forward: a point case has one item")
        from PIL import Image

        with Image.open(images[items[0]["image"]]) as image:
            width, height = image.size
        x, y = items[0]["point_xy"]
        inputs["point"] = [x / width * SAM_SIZE, y / height * SAM_SIZE]
    return inputs, "qry"


def generate(official: Path, out: Path, commit: str) -> None:
    import torch

    codes = official / "codes" if (official / "codes" / "src" / "model").is_dir() else official
    if not (codes / "src" / "model" / "model.py").is_file():
        raise SystemExit(f"{official}: not a sony/virtue tree (no codes/src/model/model.py)")
    images = common.write_case_images(out)
    common.stub_packages(STUBS)
    sys.path.insert(0, str(codes))
    os.chdir(codes)  # the official code resolves ./configs/... against codes/
    patch_official_runtime()
    from src.data.collator.eval_collator import MultimodalEvalDataCollator

    ckpt = out / "virtue" / "ckpt"
    hydra_dir = Path(tempfile.mkdtemp(prefix="parity-hydra-"))
    build_checkpoint(ckpt, hydra_dir)
    model, processor, model_args, data_args = load_official(ckpt, hydra_dir)
    collators = {side: MultimodalEvalDataCollator(processor, model_args, data_args, side) for side in ("qry", "cand")}
    golden = {"official": common.provenance("virtue", codes, commit, OFFICIAL_FILES),  # paths under codes/
              "reference": "later", "tolerance": cases.TOLERANCE,
              "inputs": common.inputs_record(cases.VIRTUE_ITEMS, list(images.values()), out), "cases": {}}
    for case, names in cases.VIRTUE_CASES.items():
        result = {"items": names}
        for label, reset in (("first", True), ("later", False)):
            inputs, side = official_inputs(names, images, collators)
            if reset:
                model.encoder.rope_deltas = None  # as on the first batch of an eval run
            with torch.no_grad():
                output = model(qry=inputs) if side == "qry" else model(tgt=inputs)
            result[label] = common.vectors(output["qry_reps" if side == "qry" else "tgt_reps"])
        result["input_ids"] = [[int(t) for t in row] for row in inputs["input_ids"]]
        if "pixel_values" in inputs:
            result["images"] = common.image_digests(inputs["pixel_values"], inputs["image_grid_thw"],
                                                    processor.image_processor)
        golden["cases"][case] = result
        print(f"[virtue] {case}: {len(names)} row(s), first/later max|d| "
              f"{max(abs(a - b) for ra, rb in zip(result['first'], result['later']) for a, b in zip(ra, rb)):.2e}",
              flush=True)
    common.write_json(out / "virtue" / "golden.json", golden)
