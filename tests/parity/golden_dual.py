"""What the SigLIP and OpenCLIP golden generators share: the MMEB-layout fixture and the official run.

Runs in the official venv (tests/parity/requirements-dual.txt). Used by golden_siglip.py and
golden_openclip.py through generate_golden_dual.py.

The fixture, `<out>/dual/mmeb/` (MMEB-eval layout, as golden_clip.py writes it), is ours: five real
MMEB task names, small PNGs, texts built to catch what a re-implementation gets wrong:
  - texts as MMEB stores them, with `<|image_1|>` and newlines;
  - characters where text cleaning differs: curly quotes, HTML entities (once and twice escaped),
    a ligature, full-width letters, mojibake, accents in NFD, an emoji, tabs and runs of spaces;
  - captions past SigLIP's 64 and CLIP's 77 tokens (truncation);
  - exact ties at the top (a candidate repeated), a repeated negative, a query repeated in a task, and
    items repeated across tasks;
  - image sizes whose shortest-side resize leaves an odd crop margin (`(long - side) % 4 == 3` is
    where rounding the centre crop offset differs from flooring it), upscaled small images, L mode.
VOC2007 holds the images in modes other than RGB/L (RGBA and LA with transparency, P); only OpenCLIP runs
it: eval_siglip.py's image processor (transformers 4.46, no `do_convert_rgb` in SigLIP's preprocessor
config) fails on them ("Unable to infer channel dimension format").

The official scripts run as they are (`main()`, their own argument parsers). They load fixed hub ids
(eval_siglip.py: `google/siglip-so400m-patch14-384`, eval_openclip.py:
`hf-hub:laion/CLIP-ViT-B-16-laion2B-s34B-b88K`); the tiny checkpoints are put in a scratch hub cache
under those ids (`HF_HUB_CACHE`, offline), so the unchanged loading code reads them. In memory only:
both scripts import `BLIP2Collator` from `src.collator`, which has none in v1 (nor in e61ae22: the code
release kept it, with copies of `CLIPCollator` / `OpenCLIPCollator` identical to src/collator.py's, in
`evaluation/collator.py`, which needs `lavis`): it gets an unused placeholder class; v1's `EvalDataset`
gets the `model_args` the scripts do not pass (backbone "phi3_v": texts as stored, images unresized, as
in e61ae22 which they were written for); `get_pred` is wrapped to record each pick, and `save_results`
records the accuracies instead of writing next to the model.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import golden_common as common
from golden_clip import official_vectors, pick_margins, write_fixture

SEED = 5
OFFICIAL_FILES = ["evaluation/eval_utils.py", "src/collator.py", "src/dataset.py"]
IMAGE_TARGET = "<|image_1|>\nRepresent the given image."
MIN_MARGIN = 1e-3  # a top-1 pick closer than this to the next distinct candidate would be a coin toss
SIGLIP_TASKS = ["ImageNet-1K", "N24News", "MSCOCO_t2i", "NIGHTS"]
OPENCLIP_TASKS = SIGLIP_TASKS + ["VOC2007"]

WORDS = ("red blue green yellow small large old wooden metal striped round square dog cat bird car truck boat "
         "horse chair table bottle tree house river mountain beach city street market garden kitchen bridge "
         "sports politics science travel food music business health a the of on in with and near under").split()
INSTRUCTION_WORDS = ("represent the given image for classification news with following caption domain find me an "
                     "everyday that matches day to similar provided looks identify object shown").split()
# labels and phrases whose cleaning differs between tokenizers (ftfy / html.unescape / NFKC / punctuation)
SPECIAL_LABELS = [
    "o\u2019clock tower",              # right single quotation mark: ftfy makes it '
    "\u201cquiet\u201d street",        # curly double quotes
    "rock &amp; roll drum",            # an HTML entity
    "fish &amp;amp; chips",            # escaped twice (open_clip unescapes twice)
    "\ufb01re truck",                  # the fi ligature
    "\uff34\uff36 set",                # full-width TV
    "caf\u00c3\u00a9 table",           # mojibake of café
    "cafe\u0301 chair",                # e + combining acute (NFD)
    "dog-house",                       # punctuation inside a word
    "U.S. mail truck",
    "NEW YORK  city",                  # upper case, two spaces
    "garden\tbench",                   # a tab
]
SPECIAL_PHRASES = [
    "it\u2019s a \u201cbig\u201d day &amp; night",
    "the caf\u00e9\u2019s menu \U0001F642 &lt;b&gt;food&lt;/b&gt;",
    "\u00c3\u00a9t\u00c3\u00a9 market   near  the\n\nriver",
    "\ufb01sh \uff26\uff2f\uff2f\uff24 &quot;fresh&quot;",
]
# (width, height): shortest side to 64 then a 64 crop leaves margin int(64*long/short) - 64
IMAGE_SIZES = [(91, 64), (64, 99), (35, 52), (45, 70), (77, 46), (89, 64), (57, 90), (96, 41), (120, 50),
               (50, 83), (40, 58), (72, 60), (64, 64), (81, 57), (30, 47), (48, 77), (28, 24), (100, 60),
               (66, 93), (59, 33), (44, 44), (70, 99), (99, 70), (52, 36)]


def crop_margin(size: tuple[int, int], side: int = 64) -> int:
    short, long = sorted(size)
    return int(side * long / short) - side


class Fixture:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.rng = random.Random(SEED)
        self.images: list[Path] = []
        self.drawn = 0

    def phrase(self, n: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(n))

    def image(self, relative: str, mode: str = "RGB") -> str:
        size = IMAGE_SIZES[self.drawn * 7 % len(IMAGE_SIZES)]  # stride 7: every task gets every kind of margin
        self.drawn += 1
        picture = common.draw_image("dual/" + relative, size)
        if mode in ("RGBA", "LA"):  # transparent towards one corner: alpha from 0 to 255
            import numpy as np
            from PIL import Image

            w, h = picture.size
            alpha = np.clip(np.add.outer(np.arange(h) * 255 / h, np.arange(w) * 255 / w), 0, 255).astype("uint8")
            picture = picture.convert(mode)
            picture.putalpha(Image.fromarray(alpha, "L"))
        elif mode == "P":
            picture = picture.quantize(colors=24, method=0, dither=0)  # median cut, no dithering: deterministic
        elif mode != "RGB":
            picture = picture.convert(mode)
        path = self.root / "images" / relative
        common.save_image_if_changed(picture, path)
        self.images.append(path)
        return relative


def fixture_tasks(f: Fixture) -> dict[str, list[tuple[str, str, list[str], list[str]]]]:
    """Task -> rows (qry_text, qry_img_path, tgt_text, tgt_img_path); the gold candidate is first."""
    tasks = {}
    labels = list(dict.fromkeys(SPECIAL_LABELS + [f.phrase(f.rng.randint(1, 3)) for _ in range(12)]))[:18]
    rows = []
    for i in range(7):
        others = [label for label in labels if label != labels[i]]
        f.rng.shuffle(others)
        texts = [labels[i]] + others[:9]
        if i == 1:
            texts[4] = texts[0]  # the gold repeated: an exact tie, the first index wins
        if i == 2:
            texts[5] = texts[2]  # a repeated negative
        rows.append(("<|image_1|>\nRepresent the given image for classification",
                     f.image(f"ImageNet-1K/{i}.png", "L" if i in (1, 5) else "RGB"), texts, [""] * len(texts)))
    first = rows[0]
    rows.append((first[0], first[1], first[2][:1] + first[2][:0:-1], first[3]))  # the same query again
    tasks["ImageNet-1K"] = rows

    domains = ["sports", "politics", "science", "travel", "food", "music"]
    images = [f.image(f"N24News/{i}.png", "L" if i == 2 else "RGB") for i in range(3)]
    images += [images[1], tasks["ImageNet-1K"][3][1]]  # an image twice in the task, one from another task
    rows = []
    for i, image in enumerate(images):
        words = [6, 30, 70, 12, 45][i]  # 70 and 45 words run past SigLIP's 64 tokens; 70 past CLIP's 77
        caption = f.phrase(words)
        if i != 2:
            caption = SPECIAL_PHRASES[i % len(SPECIAL_PHRASES)] + " " + caption
        texts = [domains[i]] + [d for d in domains if d != domains[i]]
        rows.append(("<|image_1|>\nRepresent the given news image with the following caption for domain "
                     f"classification: {caption}", image, texts, [""] * len(texts)))
    tasks["N24News"] = rows

    pool = [f.image(f"pool/{i}.png", "L" if i == 4 else "RGB") for i in range(12)]
    rows = []
    for i in range(5):
        paths = [pool[i]] + f.rng.sample([p for p in pool if p != pool[i]], 7)
        if i == 0:
            paths[3] = pool[i]  # the gold repeated: an exact tie
        extra = SPECIAL_PHRASES[i - 1] + " " if i else ""
        rows.append((f"Find me an everyday image that matches the given caption: {extra}a {f.phrase(f.rng.randint(3, 9))}.",
                     "", [IMAGE_TARGET] * len(paths), paths))
    tasks["MSCOCO_t2i"] = rows

    rows = []  # the same (text, image) candidates as MSCOCO_t2i: items repeated across tasks
    for i in range(5):
        query = pool[5 + i]
        gold = query if i % 2 == 0 else pool[i]
        paths = [gold] + f.rng.sample([p for p in pool if p not in (query, gold)], 6)
        if i in (0, 2):
            paths[3] = gold  # the query's own image is the likely top pick: a tie at the top
        if i == 1:
            paths[4] = paths[2]  # a repeated negative
        rows.append(("<|image_1|>\nFind a day-to-day image that looks similar to the provided image.", query,
                     [IMAGE_TARGET] * len(paths), paths))
    tasks["NIGHTS"] = rows

    # other image modes: OpenCLIP only (eval_siglip.py fails on them)
    modes = ["RGBA", "P", "LA", "RGBA", "P"]
    classes = ["dog", "cat", "bird", "boat", "horse", "chair", "bottle", "car"]
    rows = []
    for i, mode in enumerate(modes):
        texts = [classes[i]] + [c for c in classes if c != classes[i]]
        rows.append(("<|image_1|>\nIdentify the object shown in the image.", f.image(f"VOC2007/{i}.png", mode),
                     texts, [""] * len(texts)))
    tasks["VOC2007"] = rows
    return tasks


def build_fixture(out: Path) -> tuple[Path, dict, list[Path]]:
    """Write (or keep, when the pixels are the same) `<out>/dual/mmeb`; -> (root, tasks, image paths)."""
    root = out / "dual" / "mmeb"
    fixture = Fixture(root)
    tasks = fixture_tasks(fixture)
    write_fixture(root, tasks)
    return root, tasks, sorted(set(fixture.images))


def task_images(root: Path, tasks: dict) -> list[Path]:
    """The image files `tasks` show."""
    paths = set()
    for rows in tasks.values():
        for _, query_image, _, candidate_images in rows:
            paths.update(p for p in [query_image, *candidate_images] if p)
    return sorted(root / "images" / p for p in paths)


def corpus(tasks: dict) -> list[str]:
    """Every text of the fixture (to train the tiny tokenizers on)."""
    texts = []
    for rows in tasks.values():
        for query, _, candidates, _ in rows:
            texts += [query, *candidates]
    return list(dict.fromkeys(texts + WORDS + INSTRUCTION_WORDS))


# ---- the official run --------------------------------------------------------------------------

def fake_hub(repo_id: str, files: dict[str, Path | bytes]) -> Path:
    """Put `repo_id` at one snapshot (refs/main) into the hub cache `HF_HUB_CACHE` (a scratch folder that
    generate_golden_dual.py sets before huggingface_hub is imported), for `HF_HUB_OFFLINE=1` loading:
    hf_hub_download and transformers' cached_file resolve the hub id to these files, unmodified code."""
    cache = Path(os.environ["HF_HUB_CACHE"])
    folder = cache / ("models--" + repo_id.replace("/", "--"))
    commit = hashlib.sha1(repo_id.encode()).hexdigest()
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        if isinstance(source, bytes):
            (snapshot / name).write_bytes(source)
        else:
            shutil.copyfile(source, snapshot / name)
    (folder / "refs").mkdir(exist_ok=True)
    (folder / "refs" / "main").write_text(commit)
    return snapshot


def prepare_official(official: Path) -> None:
    sys.path.insert(0, str(official))
    import src.collator as collator_module
    import src.dataset as dataset_module

    if not hasattr(collator_module, "BLIP2Collator"):  # imported by both scripts, used by neither
        collator_module.BLIP2Collator = type("BLIP2Collator", (), {})

    if getattr(dataset_module.EvalDataset.__init__, "_parity_wrapped", False):
        return
    original_init = dataset_module.EvalDataset.__init__

    def init(self, data_args, model_args=None, subset=None, text_field=None, img_path_field=None):
        original_init(self, data_args, model_args or SimpleNamespace(model_backbone="phi3_v"), subset, text_field,
                      img_path_field)

    init._parity_wrapped = True
    dataset_module.EvalDataset.__init__ = init


def run_official(module, root: Path, tasks: dict, batch_size: int, extra: list[str]) -> tuple[dict, dict, Path]:
    """`module.main()` (an imported evaluation/eval_*.py) on the fixture: ({task: [picks]}, {task: accuracy},
    encode folder)."""
    picks: list[int] = []
    accuracy: dict[str, float] = {}
    original = getattr(module.get_pred, "_parity_original", module.get_pred)

    def get_pred(qry_t, tgt_t, normalization=False):
        scores, pred = original(qry_t, tgt_t, normalization=normalization)
        picks.append(int(pred))
        return scores, pred

    get_pred._parity_original = original
    module.get_pred = get_pred
    module.save_results = lambda results, *args: accuracy.update(results)
    encoded = Path(tempfile.mkdtemp(prefix=f"parity-encoded-bs{batch_size}-"))
    sys.argv = ["eval.py", "--model_name", "unused", "--encode_output_path", str(encoded),
                "--dataset_name", str(root), "--subset_name", *list(tasks), "--dataset_split", "test",
                "--per_device_eval_batch_size", str(batch_size), "--image_dir", str(root / "images"),
                "--embedding_type", "multimodal", "--normalize", "True", *extra,
                "--output_dir", str(encoded / "trainer")]
    module.main()
    per_task, start = {}, 0
    for task, rows in tasks.items():  # get_pred runs once per row, task after task, rows in file order
        per_task[task], start = picks[start:start + len(rows)], start + len(rows)
    if start != len(picks):
        raise SystemExit("the official script scored another number of rows than the fixture has")
    return per_task, accuracy, encoded


def task_records(tasks: dict, picks: dict, accuracy: dict, encoded: Path, with_vectors: bool = True) -> dict:
    out = {}
    for task, rows in tasks.items():
        vectors = official_vectors(encoded, task)
        num_correct = sum(pick == 0 for pick in picks[task])
        if round(accuracy[task] / 100 * len(rows)) != num_correct:
            raise SystemExit(f"{task}: the official accuracy {accuracy[task]} disagrees with its picks")
        margins, ties = pick_margins(rows, vectors)
        out[task] = {"queries": len(rows), "num_correct": num_correct, "picks": picks[task],
                     "min_pick_margin": round(min(margins), 6), "ties_at_top": ties}
        if with_vectors:
            out[task]["embeddings"] = vectors
    return out


def check_margins(label: str, records: dict) -> None:
    for task, record in records.items():
        print(f"[{label}] {task}: {record['queries']} queries, num_correct {record['num_correct']}, picks "
              f"{record['picks']}, min margin {record['min_pick_margin']:.4f}, ties at the top {record['ties_at_top']}",
              flush=True)
        if record["min_pick_margin"] < MIN_MARGIN:
            raise SystemExit(f"{label} {task}: a top-1 pick is within {MIN_MARGIN} of another item; change a SEED")


def provenance(model: str, official: Path, commit: str, script: str) -> dict:
    import importlib.metadata

    record = common.provenance("clip", official, commit, [script, *OFFICIAL_FILES])  # the same VLM2Vec v1 tree
    for package in ("open_clip_torch", "sentencepiece", "ftfy", "protobuf", "torchvision"):
        try:
            record["packages"][package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return record
