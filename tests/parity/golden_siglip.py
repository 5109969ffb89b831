"""SigLIP-on-MMEB golden data from TIGER-AI-Lab/VLM2Vec v1 `evaluation/eval_siglip.py` (transformers 4.46.3).

Writes `<out>/siglip/model/` (a tiny random SigLIP in the google/siglip-* layout: `SiglipModel` weights,
a SentencePiece unigram `spiece.model` trained on the fixture's texts with T5's ids (pad 0, eos 1,
unk 2, no bos; NFKC, dummy prefix) as SigLIP's English vocabulary has them, pad = eos = `</s>`,
`model_max_length` 64, 64 text positions; `SiglipImageProcessor` 64x64 bicubic, mean = std = 0.5,
without `do_convert_rgb`, as google/siglip-so400m-patch14-384's preprocessor config),
`<out>/dual/mmeb/` (golden_dual.py) and `<out>/siglip/golden.json`.

eval_siglip.py loads `google/siglip-so400m-patch14-384` (AutoModel, AutoProcessor): the tiny model is put
in a scratch hub cache under that id. It runs twice on SIGLIP_TASKS:
  - batch size 1: the reference. Each text is tokenized alone (CLIPCollator) and pooled on its own last
    position, its end-of-text token (hidden from attention by `input_ids != pad_id`, pad = eos);
  - batch size 16 (informational, `batch16`): CLIPCollator right-pads each batch's texts with pad_id
    and SigLIP pools the last position, so a shorter text is pooled on a padding position whose value
    depends on what else is in its batch (batches come from a set, ordered by string hashes;
    PYTHONHASHSEED=0 makes them repeatable). No run of ours can reproduce that; the project encodes
    every text at its own length, which is what batch size 1 computes.
No `--max_len`: the tokenizer truncates to its `model_max_length`, 64 (SigLIP's position table); with
`--max_len 77` a text past 64 tokens fails in the official code.
"""

from __future__ import annotations

import io
from pathlib import Path

import golden_common as common
import golden_dual as dual
from golden_common import cases

SEED = 14
HUB_ID = "google/siglip-so400m-patch14-384"
SCRIPT = "evaluation/eval_siglip.py"
VOCAB = 320


def canonical(text: str) -> str:
    """SigLIP's text canonicalisation (lower case, punctuation removed, whitespace collapsed): the corpus form."""
    import re
    import string

    return re.sub(r"\s+", " ", text.lower().translate(str.maketrans("", "", string.punctuation))).strip()


def train_spiece(texts: list[str]) -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([canonical(t) for t in texts if canonical(t)]), model_writer=model,
        model_type="unigram", vocab_size=VOCAB, hard_vocab_limit=False, character_coverage=1.0,
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>",
        normalization_rule_name="nmt_nfkc", add_dummy_prefix=True, remove_extra_whitespaces=True,
        num_threads=1, minloglevel=2)
    return model.getvalue()


def build_model(model_dir: Path, texts: list[str]) -> None:
    import torch
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel, SiglipProcessor, SiglipTokenizer

    model_dir.mkdir(parents=True, exist_ok=True)
    spiece = model_dir / "spiece.model"
    spiece.write_bytes(train_spiece(texts))
    tokenizer = SiglipTokenizer(vocab_file=str(spiece), model_max_length=64)
    assert tokenizer.pad_token == tokenizer.eos_token == "</s>" and tokenizer.pad_token_id == 1
    config = SiglipConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=64),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=64, patch_size=16))
    torch.manual_seed(SEED)
    model = SiglipModel(config).eval()
    common.randomise_(model, SEED + 1)
    model.to(torch.bfloat16).save_pretrained(model_dir, safe_serialization=True)
    image_processor = SiglipImageProcessor(size={"height": 64, "width": 64}, resample=3,
                                           image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5])
    SiglipProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(model_dir)


def max_abs_diff(a: dict, b: dict) -> float:
    """Largest component difference between two runs' vectors of the same items."""
    worst = 0.0
    for side in ("qry", "tgt"):
        other = {(t, p): v for t, p, v in b[side]}
        for text, path, vec in a[side]:
            worst = max(worst, max(abs(x - y) for x, y in zip(vec, other[(text, path)])))
    return worst


def generate(official: Path, out: Path, commit: str) -> None:
    if not (official / SCRIPT).is_file():
        raise SystemExit(f"{official}: no {SCRIPT} (not a TIGER-AI-Lab/VLM2Vec v1 tree?)")
    root, all_tasks, _ = dual.build_fixture(out)
    tasks = {name: all_tasks[name] for name in dual.SIGLIP_TASKS}
    model_dir = out / "siglip" / "model"
    build_model(model_dir, dual.corpus(tasks))
    dual.fake_hub(HUB_ID, {p.name: p for p in sorted(model_dir.iterdir())})
    dual.prepare_official(official)
    import evaluation.eval_siglip as eval_siglip

    runs = {}
    for batch_size in (1, 16):
        picks, accuracy, encoded = dual.run_official(eval_siglip, root, tasks, batch_size, [])
        runs[batch_size] = dual.task_records(tasks, picks, accuracy, encoded)
    dual.check_margins("siglip", runs[1])
    batch16 = {}
    for task, record in runs[16].items():
        batch16[task] = {"num_correct": record["num_correct"], "picks": record["picks"],
                         "max_abs_diff_to_batch_size_1": round(max_abs_diff(record["embeddings"], runs[1][task]["embeddings"]), 8)}
        print(f"[siglip] batch 16 {task}: num_correct {record['num_correct']}, picks {record['picks']}, max|d| to "
              f"batch size 1 {batch16[task]['max_abs_diff_to_batch_size_1']:.2e}", flush=True)
    golden = {"official": dual.provenance("siglip", official, commit, SCRIPT),
              "run": f"{SCRIPT} --embedding_type multimodal --normalize True --per_device_eval_batch_size 1 "
                     "(no --max_len: the tokenizer's 64)",
              "hub_id": HUB_ID,
              "tolerance": cases.TOLERANCE,
              "inputs": common.inputs_record({name: [list(row) for row in rows] for name, rows in tasks.items()},
                                             dual.task_images(root, tasks), out),
              "tasks": runs[1],
              "batch16": batch16}
    common.write_json(out / "siglip" / "golden.json", golden)
