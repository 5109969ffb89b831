"""A small MMEB-V2-shaped fixture in the official layouts: annotations as the hub repositories hold them,
media as the TIGER-Lab/MMEB-V2 release unpacks them. For tests, benchmarks and the parity harness.

By default eleven tasks (`TASKS`), every input kind and both eval types, at least three per group;
`tasks="all"` writes every one of the 78 scored tasks (each parser's own layout):
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
from typing import Any, Iterable

import numpy as np

from evaluators.tasks.mmeb_v2.catalog import BY_NAME, IMAGE, SCORED, VIDEO, VISDOC, Hub, V2Spec
from evaluators.tasks.mmeb_v2.documents import page_file
from evaluators.tasks.mmeb_v2.loaders import FIXTURE_MARKER

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


IMAGE_INSTRUCTIONS = {
    "image_cls": "<|image_1|> Represent the given image for classification",
    "image_qa": "<|image_1|> Represent the given image with the following question:",
    "image_i2t": "<|image_1|> Find an image caption describing the given everyday image.",
    "image_i2i_vg": "<|image_1|> Given an image, find a similar everyday image with the described changes:",
}


def _image_task(w: Writer, spec: V2Spec, n: int) -> None:
    rows = []
    name = spec.name
    if spec.parser in ("image_cls", "image_qa", "image_i2t"):
        labels = [f"{w.words(2)} {i}" for i in range(6)]
        for q in range(n):
            path = f"{name}/val_{q}.png"
            w.image(f"image-tasks/{path}", (64 + 8 * q, 48))
            tgt = [labels[q % 6]] + [x for x in labels if x != labels[q % 6]][:4]
            rows.append({"qry_inst": IMAGE_INSTRUCTIONS[spec.parser], "qry_text": w.words(4) if spec.parser == "image_qa" else "",
                         "qry_img_path": path, "tgt_inst": "", "tgt_text": tgt, "tgt_img_path": [""] * len(tgt)})
    elif spec.parser == "image_t2i":
        pool = [f"{name}/img_{i}.png" for i in range(n + 3)]
        for i, p in enumerate(pool):
            w.image(f"image-tasks/{p}", (56 + 4 * i, 56))
        captioned = name in ("WebQA", "EDIS")
        for q in range(n):
            tgt = [pool[q]] + [p for p in pool if p != pool[q]][:4]
            rows.append({"qry_inst": "Find me an everyday image that matches the given caption:", "qry_text": w.words(6),
                         "qry_img_path": "", "tgt_inst": "<|image_1|> Represent the given image.",
                         "tgt_text": [w.words(3) for _ in tgt] if captioned else [""] * len(tgt), "tgt_img_path": tgt})
    else:  # image_i2i_vg
        captioned = name == "RefCOCO-Matching"
        for q in range(n):
            query = f"{name}/ref_{q}.png"
            w.image(f"image-tasks/{query}", (60, 60))
            tgt = [f"{name}/tgt_{q}_{j}.png" for j in range(4)]
            for p in tgt:
                w.image(f"image-tasks/{p}", (60, 52))
            rows.append({"qry_inst": IMAGE_INSTRUCTIONS["image_i2i_vg"], "qry_text": w.words(5), "qry_img_path": query,
                         "tgt_inst": "<|image_1|> Represent the given image.",
                         "tgt_text": [f'"{w.words(2)}"' for _ in tgt] if captioned else [""] * 4, "tgt_img_path": tgt})
    w.table(spec.hubs[0], rows)


def _video_task(w: Writer, spec: V2Spec, n: int) -> None:
    from evaluators.tasks.mmeb_v2.loaders import _label_corpus

    parser, rows = spec.parser, []
    for q in range(n):
        vid = f"{spec.name.lower().replace('-', '')}_{q:03d}"
        if parser in ("video_classification", "ssv2"):
            labels = [label for label, _ in _label_corpus(spec)]
            w.frames(f"{spec.media}/{vid}")
            row = {"video_id": vid, "pos_text": labels[(q * 3) % len(labels)]}
            if parser == "ssv2":
                row["neg_text"] = [labels[(q * 3 + j) % len(labels)] for j in range(5)]
            rows.append(row)
        elif parser in ("msrvtt", "msvd", "didemo", "youcook2", "vatex"):
            w.frames(f"{spec.media}/{vid}")
            caption = w.words(7)
            rows.append({"msrvtt": {"video_id": vid, "video": f"{vid}.mp4", "caption": caption},
                         "msvd": {"video_id": vid, "video": f"{vid}.avi", "caption": [caption, w.words(4)]},
                         "didemo": {"video": f"videos/{vid}.mp4", "caption": caption},
                         "youcook2": {"id": vid, "video_path": f"validation/{vid}.mp4", "sentence": caption},
                         "vatex": {"videoID": vid, "enCap": [caption, w.words(5)]}}[parser])
        elif parser == "videomme":
            w.frames(f"{spec.media}/{vid}", prefix="", size=(72, 40))
            options = [f"{letter}. {w.words(3)}." for letter in "ABCD"]
            rows.append({"question": w.words(6) + "?", "videoID": vid, "options": options, "answer": "ABCD"[q % 4],
                         "question_id": f"{q:03d}-1", "domain": "Knowledge", "sub_category": "Humanity"})
        elif parser == "nextqa":
            w.frames(f"{spec.media}/{4000 + q}")
            options = {f"a{i}": w.words(3) for i in range(5)}
            rows.append({"video": 4000 + q, "question": w.words(6), "answer": q % 5, "qid": q, "type": "CW", **options})
        elif parser == "egoschema":
            w.frames(f"{spec.media}/{vid}")
            rows.append({"video_idx": vid, "question": w.words(6) + "?", "answer": str(q % 5), "question_idx": vid,
                         "option": [f"{'ABCDE'[i]}. {w.words(3)}" for i in range(5)]})
        elif parser == "activitynetqa":
            w.frames(f"{spec.media}/v_{vid}")
            rows.append({"video_name": vid, "question": w.words(5), "answer": ("yes", "no")[q % 2], "question_id": vid})
        elif parser == "moment_retrieval":
            name = f"{vid}_60.0_210.0"
            base = f"{spec.media}/{name}"
            w.frames(f"{base}/query", n=12)
            w.frames(f"{base}/positive_{q}", n=9)
            for j in range(3):
                w.frames(f"{base}/negative_{j}", n=8)
            rows.append({"query": w.words(6), "video_path": f"videos/{name}.mp4"})
        elif parser == "momentseeker":
            given = (f"clips/{vid}.mp4", f"{vid}.jpg", "")[q % 3]
            if given.endswith(".mp4"):
                w.frames(f"{spec.media}/video_frames/clips_{vid}", n=6)
            elif given:
                w.image(f"{spec.media}/query_{given}", (60, 40))
            pos = [{"output_path": f"pos/{vid}.mp4"}]
            neg = [{"output_path": f"neg/{vid}_{j}.mp4"} for j in range(3)]
            for entry in pos + neg:
                w.frames(f"{spec.media}/video_frames/" + entry["output_path"].replace("/", "_").split(".mp4")[0], n=5)
            rows.append({"query": w.words(6), "positive_frames": pos, "negative_frames": neg, "input_frames": given})
    if parser == "mvbench":
        for hub in spec.hubs:
            video_name = f"{hub.subset}_0.mp4"
            w.frames(f"{spec.media}/{hub.subset}/{video_name}", n=9)
            candidates = [w.words(2) for _ in range(3)]
            w.table(hub, [{"video": video_name, "question": w.words(5) + "?", "candidates": candidates,
                           "answer": candidates[1]}])
        return
    w.table(spec.hubs[0], rows)


def _document_task(w: Writer, spec: V2Spec, n: int) -> None:
    size = n + 3
    if spec.parser == "visrag":
        ids: list[Any] = [f"{spec.name[7:].lower()}_{i}_{'x' * (30 * (i % 3))}.png" for i in range(size)]
    else:
        ids = list(range(100, 100 + size))
    _documents(w, spec.name, ids, n, graded="v2" in spec.name)


def _documents(w: Writer, name: str, ids: list[Any], n: int, graded: bool = False) -> None:
    spec = BY_NAME[name]
    hub = spec.hubs[0]
    corpus = []
    for i, cid in enumerate(ids):
        data = w.image(f"{spec.media}/{page_file(spec, str(cid))}", (90 + 6 * i, 120))
        corpus.append({"corpus-id": cid, "image": {"bytes": data, "path": None}})
    queries, qrels = [], []
    for q in range(n):
        qid = q + 1 if isinstance(ids[0], int) else f"q{q}"
        queries.append({"query-id": qid, "query": w.words(8) + "?", "language": "english"})
        relevant = [ids[q], ids[(q + 3) % len(ids)]] if q % 2 else [ids[q]]
        for j, cid in enumerate(relevant):
            qrels.append({"query-id": qid, "corpus-id": cid, "score": (2 - j if graded else 1)})
    qrels.append({"query-id": queries[0]["query-id"], "corpus-id": ids[-1], "score": 0})  # not relevant: ignored
    w.table(Hub(hub.repo, "corpus", hub.split), corpus)
    w.table(Hub(hub.repo, "queries", hub.split), queries)
    w.table(Hub(hub.repo, "qrels", hub.split), qrels)


WRITERS = {IMAGE: _image_task, VIDEO: _video_task, VISDOC: _document_task}


def write_fixture(root: Path, seed: int = 0, tasks: Iterable[str] | str = TASKS, n: int = N_QUERIES) -> Path:
    """The fixture under `root` (created): `tasks` by official name, or "all" (the 78 scored tasks), `n`
    queries each; returns `root`, the `--mmeb-v2-root` to evaluate it with."""
    w = Writer(Path(root), seed)
    names = [s.name for s in SCORED] if tasks == "all" else list(tasks)
    for name in names:
        spec = BY_NAME[name]
        WRITERS[spec.group](w, spec, n)
    (w.root / FIXTURE_MARKER).write_text(json.dumps({"seed": seed, "tasks": names, "queries": n, "synthetic": True}))
    return w.root
