"""An MMEB-eval-shaped data set, generated: ten real task names over the four meta-tasks, in the layout
of a local `TIGER-Lab/MMEB-eval` copy, readable by `scar eval --mmeb-root` and by the official code's
`datasets.load_dataset(root, task, split="test")`. Profiles: `sample` is the offline MMEB sample
(`scar eval --tasks mmeb-sample`, evaluators/tasks/mmeb_sample.py); `clip` and `qwen2vl` are the
fixtures of the speed benchmarks (`tests/benchmarks/mmeb_fixture.py`, `bench_vs_official.py`).

Layout: `<root>/<Task>/test-00000-of-00001.parquet` (`qry_text`, `qry_img_path`, `tgt_text`,
`tgt_img_path`, gold at index 0), `<root>/images/<Task>/...`, `<root>/README.md` (the `configs:` block),
`<root>/corpus.txt` (every text, to train the benchmark models' tokenizers) and `fixture_stats.json`.

What is modelled on MMEB (and what is assumed):
  - task mix and instructions: 3 classification tasks (shared label sets: ImageNet-1K 1000 labels,
    N24News 24 with a caption in the query, VOC2007 20), 3 VQA (OK-VQA, GQA, DocVQA: a text answer list
    per query), 3 retrieval (MSCOCO_i2t, MSCOCO_t2i, VisualNews_t2i) and 1 grounding (RefCOCO: crops as
    candidates), MMEB's instruction texts with the Phi-3.5-V token `<|image_1|>`;
  - candidate counts: 1000 per query where MMEB has 1000 text candidates (answers, captions; drawn
    from a task pool), the real label-set sizes; image candidates come from a per-task pool
    (`image_pool` x queries), scaled down with the query count (MMEB: 1000 per query);
  - image sizes: COCO-like 640x480 / 480x640, ImageNet/VOC-like ~500x375, news photos ~800x530,
    GQA (Visual Genome) 800x600, documents 1700x2200, object crops 60-300 px; JPEG;
  - repeats within a task, from the source datasets' statistics for a 1000-query sample: GQA 2.5
    questions per image (testdev: 12,578 questions on 398 images), DocVQA 1.5 per document, RefCOCO 2
    referring expressions per image (testA: 1,975 on 750 images); the official code encodes each
    (text, image) pair of a task once, so only a repeat with *another text* costs it a second encode;
  - repeats across tasks (an assumption): images.zip holds a folder per task, and tasks built on the
    same source split hold byte-identical copies of the same pictures: MSCOCO_i2t's query images are
    part of MSCOCO_t2i's candidate pool (both from the COCO Karpathy test split). Nothing else is shared.
  - duplicate candidates (exact ties with the gold) every 9th row of the text-candidate tasks.
The `sample` profile shrinks every count (8 queries, 100 text candidates, a 100-label ImageNet set) and
every image side (x0.25) so it is written in seconds and scored by a tiny model on a CPU.
Deterministic for a given profile (and Pillow's JPEG encoder).
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, ImageDraw


@dataclass(frozen=True)
class Profile:
    queries: int  # per task
    text_candidates: int  # per query where MMEB has 1000 text candidates
    image_pool: float  # image-candidate pool of a retrieval/grounding task, in queries
    crops_per_query: int  # grounding candidates per query
    label_set: int = 1000  # ImageNet-1K's classes
    image_scale: float = 1.0  # every picture's sides, after they are drawn at random


PROFILES = {
    "clip": Profile(queries=100, text_candidates=1000, image_pool=3.0, crops_per_query=40),
    "qwen2vl": Profile(queries=4, text_candidates=1000, image_pool=1.5, crops_per_query=6),
    "sample": Profile(queries=8, text_candidates=100, image_pool=2.0, crops_per_query=8, label_set=100,
                      image_scale=0.25),
}

WORDS = ("red blue green small large old young wooden metal striped spotted fluffy tall short round square "
         "dog cat bird car truck boat plane train horse sheep cow bottle chair table sofa plant person bike "
         "tree house river mountain beach city street market field lake bridge tower road garden kitchen "
         "player team match election storm festival museum school hospital court police fire music window "
         "door sign clock bus umbrella bench kite pizza cake phone laptop book vase bowl cup knife fork").split()
NEWS = ["sports", "politics", "science", "travel", "food", "fashion", "music", "business", "health", "technology",
        "art", "education", "world", "opinion", "books", "movies", "television", "theater", "real estate", "style",
        "automobiles", "weddings", "obituaries", "crosswords"]
VOC = ["aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable", "dog",
       "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"]
IMG = "<|image_1|>\n"


class Writer:
    def __init__(self, root: Path, seed: int, image_scale: float = 1.0) -> None:
        self.root = root
        self.image_scale = image_scale
        self.rng = random.Random(seed)
        self.nrng = np.random.default_rng(seed)
        self.tasks: dict[str, list[tuple[str, str, list[str], list[str]]]] = {}
        self.sources: dict[str, Path] = {}  # source picture id -> its first file

    def phrase(self, lo: int, hi: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(lo, hi)))

    def draw(self, w: int, h: int) -> Image.Image:
        gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
        arr = np.empty((h, w, 3), np.uint8)
        for c in range(3):
            a, b, p = self.nrng.uniform(-3, 3, size=3)
            arr[..., c] = (127 + 120 * np.sin(a * gx / w * 3 + b * gy / h * 3 + p * 2)).astype(np.uint8)
        im = Image.fromarray(arr)
        d = ImageDraw.Draw(im)
        for _ in range(self.rng.randint(2, 6)):
            x0, y0 = self.rng.randint(0, w - 4), self.rng.randint(0, h - 4)
            d.rectangle([x0, y0, x0 + self.rng.randint(3, max(4, w // 2)), y0 + self.rng.randint(3, max(4, h // 2))],
                        fill=tuple(self.rng.randint(0, 255) for _ in range(3)))
        return im

    def picture(self, task: str, source: str, size: tuple[int, int]) -> str:
        """A task-folder copy of source picture `source` (drawn once; later copies are byte-identical)."""
        rel = f"{task}/{source}.jpg"
        path = self.root / "images" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if source in self.sources:
            shutil.copyfile(self.sources[source], path)
        else:
            w, h = (max(1, round(side * self.image_scale)) for side in size)
            self.draw(w, h).save(path, quality=90)
            self.sources[source] = path
        return rel

    def crop(self, task: str, name: str, of: str) -> str:
        with Image.open(self.root / "images" / of) as im:
            w, h = im.size
            cw, ch = self.rng.randint(60, min(300, w)), self.rng.randint(60, min(300, h))
            x0, y0 = self.rng.randint(0, w - cw), self.rng.randint(0, h - ch)
            part = im.convert("RGB").crop((x0, y0, x0 + cw, y0 + ch))
        rel = f"{task}/Target/{name}.jpg"
        (self.root / "images" / rel).parent.mkdir(parents=True, exist_ok=True)
        part.save(self.root / "images" / rel, quality=90)
        return rel

    def with_tie(self, row: int, texts: list[str], images: list[str]) -> None:
        if row % 9 == 0 and len(texts) > 2:
            j = self.rng.randint(1, len(texts) - 1)
            texts[j], images[j] = texts[0], images[0]


def coco_size(rng: random.Random) -> tuple[int, int]:
    return (640, 480) if rng.random() < 0.7 else (480, 640)


def build(root: Path, profile: Profile, seed: int = 0) -> dict:
    wr = Writer(root, seed, profile.image_scale)
    rng, q = wr.rng, profile.queries

    def pool(n: int, make) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        while len(out) < n:
            t = make()
            if t not in seen:
                seen.add(t)
                out.append(t)
        return out

    def text_candidates(gold: str, others: list[str], n: int) -> list[str]:
        rest = rng.sample([o for o in others if o != gold], min(n - 1, len(others) - 1))
        return [gold, *rest]

    # classification: image queries, the task's whole label set as candidates
    labels = pool(profile.label_set, lambda: wr.phrase(1, 3))
    for task, inst, classes, size, caption in (
        ("ImageNet-1K", "Represent the given image for classification", labels, lambda: (500, rng.randint(330, 400)), False),
        ("N24News", "Represent the given news image with the following caption for domain classification:", NEWS,
         lambda: (800, rng.randint(500, 560)), True),
        ("VOC2007", "Identify the object shown in the image.", VOC, lambda: (500, rng.randint(330, 400)), False),
    ):
        rows = []
        for i in range(q):
            gold = rng.choice(classes)
            cands = [gold, *[c for c in classes if c != gold]]
            imgs = [""] * len(cands)
            wr.with_tie(i, cands, imgs)
            text = IMG + inst + (" " + wr.phrase(6, 30) + "." if caption else "")
            rows.append((text, wr.picture(task, f"{task}-{i}", size()), cands, imgs))
        wr.tasks[task] = rows

    # VQA: image + question queries, answers as candidates; some images carry several questions
    for task, per_image, size in (("OK-VQA", 1.0, lambda: coco_size(rng)), ("GQA", 2.5, lambda: (800, 600)),
                                  ("DocVQA", 1.5, lambda: (1700, 2200))):
        answers = pool(3 * profile.text_candidates, lambda: wr.phrase(1, 3))
        n_images = max(1, round(q / per_image))
        pictures = [wr.picture(task, f"{task}-{k}", size()) for k in range(n_images)]
        rows = []
        for i in range(q):
            image = pictures[i % n_images]
            gold = rng.choice(answers)
            cands = text_candidates(gold, answers, profile.text_candidates)
            imgs = [""] * len(cands)
            wr.with_tie(i, cands, imgs)
            question = f"{IMG}Represent the given image with the following question: what is the {wr.phrase(2, 6)}?"
            rows.append((question, image, cands, imgs))
        wr.tasks[task] = rows

    # retrieval: the COCO test split feeds both MSCOCO tasks
    coco_pool = max(q + 1, round(profile.image_pool * q))
    coco_sizes = [coco_size(rng) for _ in range(coco_pool)]
    captions = pool(3 * profile.text_candidates, lambda: "a " + wr.phrase(3, 12))
    rows = []
    for i in range(q):
        cands = text_candidates(captions[i], captions[q:], profile.text_candidates)
        imgs = [""] * len(cands)
        wr.with_tie(i, cands, imgs)
        rows.append((IMG + "Find an image caption describing the given everyday image.",
                     wr.picture("MSCOCO_i2t", f"coco-{i}", coco_sizes[i]), cands, imgs))
    wr.tasks["MSCOCO_i2t"] = rows
    for task, source, inst, n_pool, size in (
        ("MSCOCO_t2i", "coco", "Find me an everyday image that matches the given caption: ", coco_pool, coco_sizes),
        ("VisualNews_t2i", "news", "Retrieve an image of this news caption. ", coco_pool, [(800, 530)] * coco_pool),
    ):
        start = q if source == "coco" else 0  # t2i gold images other than i2t's queries; the pool holds both
        pictures = [wr.picture(task, f"{source}-{k}", size[k]) for k in range(n_pool)]
        rows = []
        for i in range(q):
            gold = pictures[(start + i) % n_pool]
            others = [p for p in pictures if p != gold]
            imgs = [gold, *rng.sample(others, len(others))]
            texts = [IMG + "Represent the given image."] * len(imgs)
            caption = captions[start + i] if source == "coco" else wr.phrase(8, 40) + "."
            rows.append((inst + caption, "", texts, imgs))
        wr.tasks[task] = rows

    # grounding: image + referring expression, crops of the picture's objects as candidates
    task, n_images = "RefCOCO", max(1, q // 2)
    pictures = [wr.picture(task, f"{task}-{k}", coco_size(rng)) for k in range(n_images)]
    crops = [wr.crop(task, f"{k}", pictures[k % n_images]) for k in range(max(profile.crops_per_query, q + 1))]
    rows = []
    for i in range(q):
        gold = crops[i]
        imgs = [gold, *rng.sample([c for c in crops if c != gold], profile.crops_per_query - 1)]
        texts = [IMG + "Represent the given cropped image of the object"] * len(imgs)
        rows.append((IMG + f'Select the portion of the image that isolates the object labeled as "{wr.phrase(2, 4)}"',
                     pictures[i % n_images], texts, imgs))
    wr.tasks[task] = rows

    return write(root, wr.tasks)


def write(root: Path, tasks: dict[str, list[tuple[str, str, list[str], list[str]]]]) -> dict:
    schema = pa.schema([("qry_text", pa.string()), ("qry_img_path", pa.string()),
                        ("tgt_text", pa.list_(pa.string())), ("tgt_img_path", pa.list_(pa.string()))])
    yaml = ["---", "configs:"]
    stats: dict[str, dict] = {}
    corpus: set[str] = set()
    for name, rows in tasks.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        table = pa.table([list(col) for col in zip(*rows)], schema=schema)
        pq.write_table(table, root / name / "test-00000-of-00001.parquet")
        yaml += [f"- config_name: {name}", "  data_files:", "  - split: test", f"    path: {name}/test-*"]
        pairs = {(t, p) for r in rows for t, p in [(r[0], r[1]), *zip(r[2], r[3])]}
        corpus.update(t for t, _ in pairs)
        stats[name] = {"queries": len(rows), "candidates_per_query": len(rows[0][2]),
                       "references": sum(1 + len(r[2]) for r in rows),
                       "unique_qry": len({(r[0], r[1]) for r in rows}),
                       "unique_tgt": len({(t, p) for r in rows for t, p in zip(r[2], r[3])}),
                       "image_items": len({(t, p) for t, p in pairs if p})}
    yaml += ["---", "", "MMEB-eval-shaped synthetic data (evaluators/tasks/mmeb_synth.py): not MMEB."]
    (root / "README.md").write_text("\n".join(yaml) + "\n")
    (root / "corpus.txt").write_text("\n".join(sorted(c.replace("\n", " ") for c in corpus)) + "\n", encoding="utf-8")
    (root / "fixture_stats.json").write_text(json.dumps(stats, indent=1))
    return stats
