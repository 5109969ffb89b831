"""CLIP-on-MMEB golden data from TIGER-AI-Lab/VLM2Vec `evaluation/eval_clip.py` (v1 tree, transformers 4.46.3).

Writes `<out>/clip/model/` (a tiny random CLIP in the openai/clip-vit-* layout: byte-level BPE with
`</w>` word ends, pad = eos = `<|endoftext|>` as the highest id, the legacy `eos_token_id: 2`, 77
positions), `<out>/clip/mmeb/` (an MMEB-eval-layout fixture: `<Task>/test-00000-of-00001.parquet`
with qry_text / qry_img_path / tgt_text / tgt_img_path, images under `images/`, a README whose YAML
lets `datasets.load_dataset(<folder>, <Task>)` read it) and `<out>/clip/golden.json`: per task the
official top-1 pick of every query and num_correct, and every distinct item's official embedding
(L2-normalised; eval_clip.py stores them raw and scores cosines).

The fixture is ours: four real MMEB task names (so both sides run their task logic), texts from a
small word list, small PNGs in RGB, L and RGBA, exact ties (the gold candidate repeated later in its
list, repeated negatives), a query repeated within a task, items repeated across tasks, and
captions longer than the 77-token limit.

eval_clip.py runs as is (`main()`, its own argument parser) with three in-memory changes: v1's
`EvalDataset` requires `model_args`, which eval_clip.py does not pass; it gets one whose backbone is
"phi3_v", which makes v1's dataset behave as the one eval_clip.py was written for (e61ae22, the code
release: texts as stored, images unresized); `get_pred` is wrapped to record each pick; `save_results`
(which would write next to the model folder) records the accuracies instead.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import golden_common as common
from golden_common import cases

SEED = 2
OFFICIAL_FILES = ["evaluation/eval_clip.py", "evaluation/eval_utils.py", "src/collator.py", "src/dataset.py"]
WORDS = ("red blue green yellow small large old wooden metal striped round square dog cat bird car truck boat "
         "horse chair table bottle tree house river mountain beach city street market garden kitchen bridge "
         "sports politics science travel food music business health a the of on in with and near under").split()
INSTRUCTION_WORDS = ("represent the given image for classification news with following caption domain find me "
                     "an everyday that matches day to similar provided looks").split()
IMAGE_TARGET = "<|image_1|>\nRepresent the given image."
LABELS, LABEL_CANDIDATES = 14, 10  # ImageNet-1K: class names, candidates per query
POOL, IMAGE_CANDIDATES = 12, 8  # MSCOCO_t2i / NIGHTS: shared image pool, candidates per query
MIN_MARGIN = 1e-3  # a top-1 pick closer than this to the next distinct candidate would be a coin toss


# ---- the tiny CLIP -----------------------------------------------------------------------------

def byte_symbols() -> list[str]:
    """GPT-2/CLIP's reversible byte -> printable character table, in byte order of the printable ones first."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    codes, extra = printable[:], 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return [chr(c) for c in codes]


def write_clip_tokenizer_files(folder: Path) -> tuple[Path, Path]:
    symbols = byte_symbols()
    vocab = symbols + [s + "</w>" for s in symbols]
    merges: list[tuple[str, str]] = []
    known = set(vocab)
    for word in dict.fromkeys(WORDS + INSTRUCTION_WORDS + ["image", "1"]):
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            pair = (parts[0], parts[1])
            if pair not in merges:
                merges.append(pair)
            merged = parts[0] + parts[1]
            if merged not in known:
                vocab.append(merged)
                known.add(merged)
            parts = [merged] + parts[2:]
    vocab += ["<|startoftext|>", "<|endoftext|>"]  # end-of-text is the highest id, as in openai's vocabulary
    folder.mkdir(parents=True, exist_ok=True)
    vocab_file, merges_file = folder / "vocab.json", folder / "merges.txt"
    vocab_file.write_text(json.dumps({token: i for i, token in enumerate(vocab)}, ensure_ascii=False))
    merges_file.write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    return vocab_file, merges_file


def build_model(model_dir: Path) -> None:
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizerFast

    with tempfile.TemporaryDirectory() as scratch:
        vocab_file, merges_file = write_clip_tokenizer_files(Path(scratch))
        tokenizer = CLIPTokenizerFast(vocab_file=str(vocab_file), merges_file=str(merges_file), model_max_length=77)
    assert tokenizer.pad_token == tokenizer.eos_token == "<|endoftext|>"
    config = CLIPConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=77, bos_token_id=0, eos_token_id=2,
                         pad_token_id=1),  # openai's legacy ids: pooling takes the highest token id (end-of-text)
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=64, patch_size=16),
        projection_dim=32)
    torch.manual_seed(SEED)
    model = CLIPModel(config).eval()
    common.randomise_(model, SEED + 1)
    model.to(torch.bfloat16).save_pretrained(model_dir, safe_serialization=True)
    image_processor = CLIPImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64})
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(model_dir)


# ---- the MMEB-layout fixture -------------------------------------------------------------------

class FixtureWriter:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.rng = random.Random(SEED)
        self.images: list[Path] = []

    def phrase(self, n: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(n))

    def image(self, relative: str, mode: str = "RGB") -> str:
        width, height = self.rng.randint(24, 96), self.rng.randint(24, 96)
        picture = common.draw_image(relative, (width, height))
        picture = picture.convert(mode) if mode != "RGB" else picture
        path = self.root / "images" / relative
        common.save_image_if_changed(picture, path)
        self.images.append(path)
        return relative

    def mode(self, index: int) -> str:
        return {1: "L", 4: "RGBA"}.get(index % 6, "RGB")


def fixture_tasks(w: FixtureWriter) -> dict[str, list[tuple[str, str, list[str], list[str]]]]:
    """Task -> rows (qry_text, qry_img_path, tgt_text, tgt_img_path); the gold candidate is first."""
    tasks = {}
    labels = list(dict.fromkeys(w.phrase(w.rng.randint(1, 3)) for _ in range(4 * LABELS)))[:LABELS]
    rows = []
    for i in range(6):
        others = [label for label in labels if label != labels[i]]
        w.rng.shuffle(others)
        texts = [labels[i]] + others[:LABEL_CANDIDATES - 1]
        if i == 1:
            texts[4] = texts[0]  # the gold repeated: an exact tie, the first index wins
        if i == 2:
            texts[5] = texts[2]  # a repeated negative
        rows.append(("<|image_1|>\nRepresent the given image for classification",
                     w.image(f"ImageNet-1K/{i}.png", w.mode(i)), texts, [""] * len(texts)))
    first = rows[0]
    rows.append((first[0], first[1], first[2][:1] + first[2][:0:-1], first[3]))  # the same query again
    tasks["ImageNet-1K"] = rows

    domains = ["sports", "politics", "science", "travel", "food", "music"]
    images = [w.image(f"N24News/{i}.png", w.mode(i + 2)) for i in range(3)]
    images += [images[2], tasks["ImageNet-1K"][2][1]]  # an image twice in the task, one from another task
    rows = []
    for i, image in enumerate(images):
        caption = w.phrase(w.rng.choice([6, 30, 70]))  # 70 words run past the 77-token limit
        texts = [domains[i]] + [d for d in domains if d != domains[i]]
        rows.append(("<|image_1|>\nRepresent the given news image with the following caption for domain "
                     f"classification: {caption}", image, texts, [""] * len(texts)))
    tasks["N24News"] = rows

    pool = [w.image(f"pool/{i}.png", w.mode(i)) for i in range(POOL)]
    rows = []
    for i in range(5):
        paths = [pool[i]] + w.rng.sample([p for p in pool if p != pool[i]], IMAGE_CANDIDATES - 1)
        if i == 0:
            paths[3] = pool[i]  # the gold repeated: an exact tie
        rows.append((f"Find me an everyday image that matches the given caption: a {w.phrase(w.rng.randint(3, 9))}.",
                     "", [IMAGE_TARGET] * len(paths), paths))
    tasks["MSCOCO_t2i"] = rows

    rows = []  # the same (text, image) candidates as MSCOCO_t2i: items repeated across tasks
    for i in range(5):
        query = pool[5 + i]
        gold = query if i % 2 == 0 else pool[i]
        paths = [gold] + w.rng.sample([p for p in pool if p not in (query, gold)], IMAGE_CANDIDATES - 2)
        if i in (0, 2):
            paths[3] = gold  # the query's own image is the likely top pick: a tie at the top
        if i == 1:
            paths[4] = paths[2]  # a repeated negative
        rows.append(("<|image_1|>\nFind a day-to-day image that looks similar to the provided image.", query,
                     [IMAGE_TARGET] * len(paths), paths))
    tasks["NIGHTS"] = rows
    return tasks


def write_fixture(root: Path, tasks: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("qry_text", pa.string()), ("qry_img_path", pa.string()),
                        ("tgt_text", pa.list_(pa.string())), ("tgt_img_path", pa.list_(pa.string()))])
    readme = ["---", "configs:"]
    for name, rows in tasks.items():
        columns = [list(column) for column in zip(*rows)]
        (root / name).mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(columns, schema=schema), root / name / "test-00000-of-00001.parquet")
        readme += [f"- config_name: {name}", "  data_files:", "  - split: test", f"    path: {name}/test-*"]
    readme += ["---", "", "A synthetic fixture in the TIGER-Lab/MMEB-eval layout, for the SCaR parity tests."]
    (root / "README.md").write_text("\n".join(readme) + "\n")


# ---- the official run --------------------------------------------------------------------------

def run_eval_clip(official: Path, model_dir: Path, root: Path, tasks: dict) -> tuple[dict, dict, Path]:
    """eval_clip.main() on the fixture: ({task: [picks]}, {task: accuracy}, encode folder)."""
    scratch = Path(tempfile.mkdtemp(prefix="parity-clip-"))
    # a fresh datasets cache: a cached copy of an older fixture must never be read back
    os.environ["HF_DATASETS_CACHE"] = str(scratch / "datasets-cache")
    os.environ.setdefault("HF_HOME", str(scratch / "hf-home"))
    sys.path.insert(0, str(official))
    import src.dataset as dataset_module

    original_init = dataset_module.EvalDataset.__init__

    def init(self, data_args, model_args=None, subset=None, text_field=None, img_path_field=None):
        original_init(self, data_args, model_args or SimpleNamespace(model_backbone="phi3_v"), subset, text_field,
                      img_path_field)

    dataset_module.EvalDataset.__init__ = init
    import evaluation.eval_clip as eval_clip

    picks: list[int] = []
    accuracy: dict[str, float] = {}
    original_get_pred = eval_clip.get_pred

    def get_pred(qry_t, tgt_t, normalization=False):
        scores, pred = original_get_pred(qry_t, tgt_t, normalization=normalization)
        picks.append(int(pred))
        return scores, pred

    eval_clip.get_pred = get_pred
    eval_clip.save_results = lambda results, *args: accuracy.update(results)
    encoded = scratch / "encoded"
    encoded.mkdir()
    sys.argv = ["eval_clip.py", "--model_name", str(model_dir), "--encode_output_path", str(encoded),
                "--dataset_name", str(root), "--subset_name", *list(tasks), "--dataset_split", "test",
                "--per_device_eval_batch_size", "16", "--image_dir", str(root / "images"),
                "--embedding_type", "multimodal", "--normalize", "True", "--max_len", "77",
                "--output_dir", str(encoded / "trainer")]
    eval_clip.main()
    per_task, start = {}, 0
    for task, rows in tasks.items():  # get_pred runs once per row, task after task, rows in file order
        per_task[task], start = picks[start:start + len(rows)], start + len(rows)
    assert start == len(picks), "eval_clip.py scored another number of rows than the fixture has"
    return per_task, accuracy, encoded


def official_vectors(encoded: Path, task: str) -> dict[str, list]:
    import pickle

    import numpy as np

    out = {}
    for side in ("qry", "tgt"):
        with open(encoded / f"{task}_{side}", "rb") as handle:
            array, paired = pickle.load(handle)
        unit = array.astype(np.float64) / np.linalg.norm(array.astype(np.float64), axis=1, keepdims=True)
        out[side] = sorted([pair["text"], pair["img_path"], [float(v) for v in vec]] for pair, vec in zip(paired, unit))
    return out


def pick_margins(rows, vectors: dict) -> tuple[list[float], int]:
    """Per query: score of the pick minus the best score of a candidate that is a different item;
    and how many queries have their top score twice (the same item repeated: the first index wins)."""
    import numpy as np

    qry = {(t, p): np.array(v) for t, p, v in vectors["qry"]}
    tgt = {(t, p): np.array(v) for t, p, v in vectors["tgt"]}
    margins, ties = [], 0
    for qt, qp, texts, paths in rows:
        scores = [float(tgt[(t, p)] @ qry[(qt, qp)]) for t, p in zip(texts, paths)]
        best = int(np.argmax(scores))
        top = (texts[best], paths[best])
        others = [s for (t, p), s in zip(zip(texts, paths), scores) if (t, p) != top]
        margins.append(scores[best] - max(others) if others else 1.0)
        ties += list(zip(texts, paths)).count(top) > 1
    return margins, ties


def generate(official: Path, out: Path, commit: str) -> None:
    if not (official / "evaluation" / "eval_clip.py").is_file():
        raise SystemExit(f"{official}: no evaluation/eval_clip.py (not a TIGER-AI-Lab/VLM2Vec tree?)")
    model_dir, root = out / "clip" / "model", out / "clip" / "mmeb"
    build_model(model_dir)
    writer = FixtureWriter(root)
    tasks = fixture_tasks(writer)
    write_fixture(root, tasks)
    picks, accuracy, encoded = run_eval_clip(official, model_dir, root, tasks)
    golden = {"official": common.provenance("clip", official, commit, OFFICIAL_FILES),
              "run": "evaluation/eval_clip.py --embedding_type multimodal --normalize True --max_len 77 "
                     "--per_device_eval_batch_size 16",
              "tolerance": cases.TOLERANCE,
              "inputs": common.inputs_record({name: [list(row) for row in rows] for name, rows in tasks.items()},
                                             sorted(set(writer.images)), out),
              "tasks": {}}
    for task, rows in tasks.items():
        vectors = official_vectors(encoded, task)
        num_correct = sum(pick == 0 for pick in picks[task])
        if round(accuracy[task] / 100 * len(rows)) != num_correct:
            raise SystemExit(f"{task}: eval_clip.py accuracy {accuracy[task]} disagrees with its picks")
        margins, ties = pick_margins(rows, vectors)
        if min(margins) < MIN_MARGIN:
            raise SystemExit(f"{task}: a top-1 pick is within {MIN_MARGIN} of another item; change SEED")
        golden["tasks"][task] = {"queries": len(rows), "num_correct": num_correct, "picks": picks[task],
                                 "min_pick_margin": round(min(margins), 6), "ties_at_top": ties, "embeddings": vectors}
        print(f"[clip] {task}: {len(rows)} queries, num_correct {num_correct}, picks {picks[task]}, "
              f"min margin {min(margins):.4f}, ties at the top {ties}", flush=True)
    common.write_json(out / "clip" / "golden.json", golden)
