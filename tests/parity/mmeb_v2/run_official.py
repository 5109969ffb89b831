"""Run the official VLM2Vec main `eval.py` on an MMEB-V2-layout fixture, on a CPU (official venv).

usage: run_official.py OFFICIAL_TREE SCRATCH FIXTURE CKPT OUT TASK[,TASK...] [BATCH]

SCRATCH receives a copy of OFFICIAL_TREE with the changes a float32 CPU run needs, as text replacements
(VLM2VEC_V2_NOTES.md): `flash_attention_2` -> `eager` and bfloat16 -> float32 in src/model/model.py, the
model cast in eval.py to float32, the two unconditional `flash_attn` imports of the InternVideo2 backbone
(imported even for qwen2_vl, never used by it) made optional. In memory: the tensor-parallel check of
official_patches.py, and
`datasets.load_dataset(repo, config, split=...)` answered from FIXTURE/annotations/<repo>/<config>/ (the
loaders themselves unchanged). The task config is written from the project's catalog for the tasks named
(the official yaml entries' keys and roots), and `eval.py` runs as `__main__` with the arguments of
`experiments/public/eval/eval_1gpu.sh` (`--pooling eos --normalize true --model_backbone qwen2_vl`,
batch 16) plus the data args' pixel limits 3136 / 1003520.
"""
import json
import os
import runpy
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).parent
official, scratch, fixture, ckpt, out = (Path(a).resolve() for a in sys.argv[1:6])
tasks = sys.argv[6].split(",")
batch = sys.argv[7] if len(sys.argv) > 7 else "16"

if scratch.exists():
    shutil.rmtree(scratch)
shutil.copytree(official, scratch, ignore=shutil.ignore_patterns(".git"))
REPLACE = {
    "src/model/model.py": [('"flash_attention_2"', '"eager"'), ("torch.bfloat16", "torch.float32")],
    "eval.py": [("model = model.to(training_args.device, dtype=torch.bfloat16)",
                 "model = model.to(training_args.device, dtype=torch.float32)")],
    "src/model/baseline_backbone/internvideo2/modeling_internvideo2.py": [
        ("from flash_attn.flash_attn_interface import flash_attn_varlen_qkvpacked_func\n",
         "try:\n    from flash_attn.flash_attn_interface import flash_attn_varlen_qkvpacked_func\nexcept ImportError:\n"
         "    flash_attn_varlen_qkvpacked_func = None\n"),
        ("from flash_attn.bert_padding import unpad_input, pad_input\n",
         "try:\n    from flash_attn.bert_padding import unpad_input, pad_input\nexcept ImportError:\n"
         "    unpad_input = pad_input = None\n")],
}
for rel, pairs in REPLACE.items():
    path = scratch / rel
    text = path.read_text()
    for old, new in pairs:
        if old not in text:
            raise SystemExit(f"patch failed: {old!r} not in {rel}")
        text = text.replace(old, new)
    path.write_text(text)

sys.path.insert(0, str(HERE))
import official_patches  # noqa: E402,F401
import datasets  # noqa: E402

_original = datasets.load_dataset


def local_load_dataset(path, name=None, split=None, **kwargs):
    if path in ("json", "parquet", "csv"):
        return _original(path, name, split=split, **kwargs)
    base = fixture / "annotations" / path / (name or "")
    files = sorted(str(p) for p in base.glob(f"{split}-*.parquet")) if split else []
    if not files:
        raise FileNotFoundError(f"fixture has no {path} {name} {split} under {base}")
    import pyarrow as pa
    import pyarrow.parquet as pq

    return datasets.Dataset(pa.concat_tables([pq.read_table(f) for f in files]))


datasets.load_dataset = local_load_dataset

sys.path.insert(0, str(os.environ.get("PARITY_PROJECT", HERE.parents[2])))
from evaluators.tasks.mmeb_v2.catalog import BY_NAME  # noqa: E402  (plain data; no project model code)

config = {}
for task in tasks:
    spec = BY_NAME[task]
    entry = {"dataset_parser": spec.parser, "dataset_name": spec.dataset, "eval_type": spec.eval_type}
    if spec.group == "video":
        if spec.parser == "moment_retrieval":
            entry.update(video_root="", clip_root="", frame_root=spec.media, num_negative_clips=9,
                         max_video_frames_saved=64, max_clip_frames_saved=8, num_video_frames=8, num_clip_frames=8)
        elif spec.parser == "momentseeker":
            entry.update(video_root="", clip_root="", frame_root=spec.media, num_negative_clips=9, num_video_frames=8)
        else:
            entry.update(video_root=spec.video_root, frame_root=spec.media, max_frames_saved=64, num_frames=8,
                         num_sample_per_subset=spec.sample if spec.sample else "None")
    else:
        entry["image_root"] = spec.media
        if spec.group == "image":
            entry["dataset_split"] = "test"
    config[task] = entry
out.mkdir(parents=True, exist_ok=True)
(out / "tasks.yaml").write_text(json.dumps(config, indent=1))  # JSON is YAML
os.chdir(scratch)
sys.path.insert(0, str(scratch))
sys.argv = ["eval.py", "--pooling", "eos", "--normalize", "true", "--model_backbone", "qwen2_vl",
            "--model_name", str(ckpt), "--per_device_eval_batch_size", batch, "--dataset_config", str(out / "tasks.yaml"),
            "--encode_output_path", str(out), "--data_basedir", str(fixture), "--output_dir", str(out / "trainer"),
            "--resize_min_pixels", "3136", "--resize_max_pixels", "1003520", "--dataloader_num_workers", "0"]
runpy.run_path(str(scratch / "eval.py"), run_name="__main__")
