"""A small MMEB-V2-shaped fixture in the official layouts: annotations as the hub repositories hold them,
media as the TIGER-Lab/MMEB-V2 release unpacks them. For tests, benchmarks and the parity harness.

Eleven tasks, every input kind and both eval types, at least three per group:
  image   ImageNet-1K (image_cls), MSCOCO_t2i (image_t2i), CIRR (image_i2i_vg)            local
  video   Breakfast (video_classification, global over its 10 labels), MSR-VTT (msrvtt, global),
          Video-MME (videomme, local), QVHighlight (moment_retrieval, local)
  visdoc  ViDoRe_arxivqa (vidore), VisRAG_ChartQA (visrag, hashed page names), ViDoSeek-page (vidore),
          ViDoRe_esg_reports_human_labeled_v2 (vidore, graded qrels 1/2)                   global
Pictures are seeded random PNGs (frames 10 per video, so 8 are sampled); texts are made up. A marker
file makes every result computed on it `synthetic` (never shown beside published numbers).
Same seed -> the same files.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from evaluators.tasks.mmeb_v2.catalog import BY_NAME, Hub
from evaluators.tasks.mmeb_v2.loaders import FIXTURE_MARKER, page_file

TASKS = ("ImageNet-1K", "MSCOCO_t2i", "CIRR", "Breakfast", "MSR-VTT", "Video-MME", "QVHighlight",
         "ViDoRe_arxivqa", "VisRAG_ChartQA", "ViDoSeek-page", "ViDoRe_esg_reports_human_labeled_v2")
PARITY_TASKS = TASKS[:-1]  # the graded task's official NDCG depends on PYTHONHASHSEED (see metrics)
N_QUERIES = 5
FRAMES_PER_VIDEO = 10
WORDS = ("red", "blue", "small", "large", "dog", "cat", "car", "tree", "house", "river", "chart", "page", "table",
         "person", "ball", "kitchen", "street", "running", "jumping", "cooking", "reading", "blurry", "bright")


class Writer:
    def __init__(self, root: Path, seed: int) -> None:
        self.root = Path(root)
        self.rng = np.random.default_rng(seed)

    def words(self, n: int) -> str:
        return " ".join(self.rng.choice(WORDS, size=n).tolist())

    def picture(self, size: tuple[int, int]) -> bytes:
        from PIL import Image

        w, h = size
        base = self.rng.integers(0, 256, size=(1, 1, 3))
        noise = self.rng.integers(-60, 60, size=(h, w, 3))
        array = np.clip(base + noise, 0, 255).astype(np.uint8)
        out = io.BytesIO()
        Image.fromarray(array).save(out, format="PNG")
        return out.getvalue()

    def image(self, relative: str, size: tuple[int, int] = (64, 48)) -> bytes:
        data = self.picture(size)
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data

    def frames(self, folder: str, n: int = FRAMES_PER_VIDEO, prefix: str = "frame_", size=(64, 48)) -> None:
        for i in range(n):
            self.image(f"{folder}/{prefix}{i + 1:04d}.png", size)

    def table(self, hub: Hub, rows: list[dict[str, Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        folder = self.root / "annotations" / hub.repo / (hub.subset or "")
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), folder / f"{hub.split}-00000-of-00001.parquet")


def _image_tasks(w: Writer) -> None:
    labels = [f"{w.words(1)} {i}" for i in range(6)]
    rows = []
    for q in range(N_QUERIES):
        path = f"ImageNet-1K/val_{q}.png"
        w.image(f"image-tasks/{path}", (64 + 8 * q, 48))
        tgt = [labels[q % 6]] + [x for x in labels if x != labels[q % 6]][:4]
        rows.append({"qry_inst": "<|image_1|> Represent the given image for classification", "qry_text": "",
                     "qry_img_path": path, "tgt_inst": "", "tgt_text": tgt, "tgt_img_path": [""] * len(tgt)})
    w.table(BY_NAME["ImageNet-1K"].hubs[0], rows)
    pool = [f"MSCOCO_t2i/img_{i}.png" for i in range(8)]
    for i, p in enumerate(pool):
        w.image(f"image-tasks/{p}", (56 + 4 * i, 56))
    rows = []
    for q in range(N_QUERIES):
        tgt = [pool[q]] + [p for p in pool if p != pool[q]][:4]
        rows.append({"qry_inst": "Find me an everyday image that matches the given caption:", "qry_text": w.words(6),
                     "qry_img_path": "", "tgt_inst": "<|image_1|> Represent the given image.", "tgt_text": [""] * 5,
                     "tgt_img_path": tgt})
    w.table(BY_NAME["MSCOCO_t2i"].hubs[0], rows)
    rows = []
    for q in range(N_QUERIES):
        query = f"CIRR/ref_{q}.png"
        w.image(f"image-tasks/{query}", (60, 60))
        tgt = [f"CIRR/tgt_{q}_{j}.png" for j in range(4)]
        for p in tgt:
            w.image(f"image-tasks/{p}", (60, 52))
        rows.append({"qry_inst": "<|image_1|> Given an image, find a similar everyday image with the described changes:",
                     "qry_text": w.words(5), "qry_img_path": query, "tgt_inst": "<|image_1|> Represent the given image.",
                     "tgt_text": [""] * 4, "tgt_img_path": tgt})
    w.table(BY_NAME["CIRR"].hubs[0], rows)


def _video_tasks(w: Writer) -> None:
    from evaluators.tasks.mmeb_v2.loaders import _label_corpus

    spec = BY_NAME["Breakfast"]
    labels = [name for name, _ in _label_corpus(spec)]
    rows = []
    for q in range(N_QUERIES):
        vid = f"P{q:02d}_cam01_{labels[q]}"
        w.frames(f"{spec.media}/{vid}")
        rows.append({"video_id": vid, "pos_text": labels[(q * 3) % len(labels)]})
    w.table(spec.hubs[0], rows)
    spec = BY_NAME["MSR-VTT"]
    rows = []
    for q in range(N_QUERIES):
        vid = f"video{7000 + q}"
        w.frames(f"{spec.media}/{vid}")
        rows.append({"video_id": vid, "video": f"{vid}.mp4", "caption": w.words(7)})
    w.table(spec.hubs[0], rows)
    spec = BY_NAME["Video-MME"]
    rows = []
    for q in range(N_QUERIES):
        vid = f"vmme{q:03d}"
        w.frames(f"{spec.media}/{vid}", prefix="", size=(72, 40))
        options = [f"{letter}. {w.words(3)}." for letter in "ABCD"]
        rows.append({"question": w.words(6) + "?", "videoID": vid, "options": options, "answer": "ABCD"[q % 4],
                     "question_id": f"{q:03d}-1", "domain": "Knowledge", "sub_category": "Humanity"})
    w.table(spec.hubs[0], rows)
    spec = BY_NAME["QVHighlight"]
    rows = []
    for q in range(N_QUERIES):
        name = f"qv_{q:03d}_60.0_210.0"
        base = f"{spec.media}/{name}"
        w.frames(f"{base}/query", n=12)
        w.frames(f"{base}/positive_{q}", n=9)
        for j in range(3):
            w.frames(f"{base}/negative_{j}", n=8)
        rows.append({"query": w.words(6), "video_path": f"videos/{name}.mp4"})
    w.table(spec.hubs[0], rows)


def _documents(w: Writer, name: str, ids: list[Any], graded: bool = False) -> None:
    spec = BY_NAME[name]
    hub = spec.hubs[0]
    corpus = []
    for i, cid in enumerate(ids):
        data = w.image(f"{spec.media}/{page_file(spec, str(cid))}", (90 + 6 * i, 120))
        corpus.append({"corpus-id": cid, "image": {"bytes": data, "path": None}})
    queries, qrels = [], []
    for q in range(N_QUERIES):
        qid = q + 1 if isinstance(ids[0], int) else f"q{q}"
        queries.append({"query-id": qid, "query": w.words(8) + "?", "language": "english"})
        relevant = [ids[q], ids[(q + 3) % len(ids)]] if q % 2 else [ids[q]]
        for j, cid in enumerate(relevant):
            qrels.append({"query-id": qid, "corpus-id": cid, "score": (2 - j if graded else 1)})
    qrels.append({"query-id": queries[0]["query-id"], "corpus-id": ids[-1], "score": 0})  # not relevant: ignored
    w.table(Hub(hub.repo, "corpus", hub.split), corpus)
    w.table(Hub(hub.repo, "queries", hub.split), queries)
    w.table(Hub(hub.repo, "qrels", hub.split), qrels)


def write_fixture(root: Path, seed: int = 0) -> Path:
    """The fixture under `root` (created); returns `root`, the `--mmeb-v2-root` to evaluate it with."""
    w = Writer(Path(root), seed)
    _image_tasks(w)
    _video_tasks(w)
    _documents(w, "ViDoRe_arxivqa", list(range(100, 108)))
    _documents(w, "VisRAG_ChartQA", [f"chart_{i}_{'x' * (30 * (i % 3))}.png" for i in range(8)])
    _documents(w, "ViDoSeek-page", list(range(7)))
    _documents(w, "ViDoRe_esg_reports_human_labeled_v2", list(range(6)), graded=True)
    (w.root / FIXTURE_MARKER).write_text(json.dumps({"seed": seed, "tasks": list(TASKS), "synthetic": True}))
    return w.root
