"""Fixtures for the evaluation-engine tests: a deterministic test embedder and data-file writers.

The test embedder is not a model: it maps an item to a known vector so tests can compute the
expected scores by hand. Every `#k` in the text adds the unit vector e_k; an image adds e_n where n
is the first number in the image file's name (the image is really opened and decoded, so broken
files fail as they would in a model). The sum is L2-normalised; an item with neither gets e_0.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from PIL import Image

from evaluators.models.protocol import EmbedderInfo, Item
from evaluators.models.registry import ModelSpec, register

TEST_MODEL = "test-hash"
DIM = 32
SCAR_INSTRUCTION = (
    "<|image_1|>\nFind the caption that best describes the object in the bounding box, "
    "considering both local details and global context in the given image."
)


class SimulatedKill(BaseException):
    """Like a KeyboardInterrupt: not an Exception, so nothing on the way catches it."""


class HashEmbedder:
    def __init__(self, name: str, device: str = "cpu", dtype: str = "float32", log: str | None = None,
                 exit_after_calls: int | None = None, raise_after_calls: int | None = None,
                 dim: int = DIM) -> None:  # fmt: skip
        self.name = name
        self.info = EmbedderInfo(name=name, model_id="tests/hash", family="test", dtype=dtype, device=device,
                                 options={"dim": dim})  # fmt: skip
        self.dim = dim
        self.log = log
        self.exit_after_calls = exit_after_calls
        self.raise_after_calls = raise_after_calls
        self.calls = 0

    def vector(self, item: Item) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float64)
        for k in re.findall(r"#(\d+)", item.text):
            v[int(k) % self.dim] += 1.0
        if item.image is not None:
            with Image.open(item.image) as im:
                im.load()
            digits = re.findall(r"\d+", Path(item.image).stem)
            v[int(digits[0]) % self.dim if digits else 0] += 1.0
        if not v.any():
            v[0] = 1.0
        return v / np.linalg.norm(v)

    def encode(self, items: Sequence[Item], batch_size: int) -> torch.Tensor:
        if self.exit_after_calls is not None and self.calls >= self.exit_after_calls:
            os._exit(137)  # a hard kill: no cleanup, no flush
        if self.raise_after_calls is not None and self.calls >= self.raise_after_calls:
            raise SimulatedKill(f"stopped after {self.calls} batches")
        self.calls += 1
        out = torch.tensor(np.stack([self.vector(i) for i in items]), dtype=torch.float32)
        if self.log:
            with open(self.log, "a", encoding="utf-8") as f:
                f.writelines(f"{i.key()}\n" for i in items)
        return out


class StagedHashEmbedder(HashEmbedder):
    """The same vectors through the two-stage protocol; records which threads prepared batches."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepare_threads: list[str] = []

    def prepare_batch(self, items: Sequence[Item]) -> np.ndarray:
        import threading

        self.prepare_threads.append(threading.current_thread().name)
        return np.stack([self.vector(i) for i in items])  # decodes the images, like a real processor

    def forward_batch(self, prepared: np.ndarray) -> torch.Tensor:
        self.calls += 1
        return torch.tensor(prepared, dtype=torch.float32)


class BatchDependentHashEmbedder(HashEmbedder):
    """The hash vectors nudged by the size of the batch they are encoded in (too little to change a
    ranking), like VIRTUE's official position ids; records every batch it is given."""

    batch_dependent = True
    reference_batch_size = 2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[list[str]] = []

    def encode(self, items: Sequence[Item], batch_size: int) -> torch.Tensor:
        assert batch_size == len(items), "a batch-dependent model gets each reference batch whole"
        self.batches.append([i.text or str(i.image) for i in items])
        out = super().encode(items, batch_size)
        return torch.nn.functional.normalize(out + 1e-4 * len(items), dim=-1)


def load_test_embedder(spec: ModelSpec, variant: str | None = None, model_path: str | None = None, **options: Any) -> HashEmbedder:
    name = spec.name + (f"+{variant}" if variant else "")
    if options.pop("batch_dependent", False):
        return BatchDependentHashEmbedder(name, **options)
    if options.pop("staged", False):
        return StagedHashEmbedder(name, **options)
    return HashEmbedder(name, **options)


def register_test_model() -> None:
    register(ModelSpec(name=TEST_MODEL, family="test", hf_id="tests/hash", loader="tests.eval_fixtures:load_test_embedder"))


# ------------------------------------------------------------------ data files


def write_image(path: Path, size: tuple[int, int] = (8, 6), color: tuple[int, int, int] = (200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


def scar_row(image: str, candidates: Sequence[str], bbox: Sequence[float] = (1.0, 2.0, 3.0, 4.0), **extra: Any) -> dict:
    return {"qry_text": SCAR_INSTRUCTION, "qry_image_path": image, "tgt_text": list(candidates), "bbox": list(bbox), **extra}


def write_parquet(path: Path, rows: Sequence[dict], schema: pa.Schema | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(list(rows), schema=schema), path)
    return path


def candidates(gold: str, *negatives: str, filler: str = "#20 filler") -> list[str]:
    """Gold first, then the given negatives, padded to 10 with distinct filler texts."""
    out = [gold, *negatives]
    out += [f"{filler} {i}" for i in range(10 - len(out))]
    return out


def scar_fixture(root: Path) -> dict[str, Any]:
    """A `scar build`-shaped folder with RefCOCO+ (4 queries) and expected scores under both tie rules.

    q0 img1 gold #1: correct. q1 img2 gold #5, #2 at index 3: wrong (official rank 2; strict: the 8
    zero-score negatives tie with the gold, rank 10). q2 img3 gold #3 ties with index 4 "#3 ...":
    correct officially, rank 2 strictly. q3 img4 gold #4: correct.
    """
    images = root / "images"
    for n in (1, 2, 3, 4):
        write_image(images / "coco" / f"img{n}.png", size=(4 + n, 4))
    rows = [
        scar_row("coco/img1.png", candidates("a #1 cat on a mat")),
        scar_row("coco/img2.png", candidates("a #5 dog", "#6 x", "#7 y", "the #2 thing")),
        scar_row("coco/img3.png", candidates("a #3 bird", "#6 x", "#7 y", "#8 z", "another #3 bird")),
        scar_row("coco/img4.png", candidates("the #4 cup"), bbox=(10.5, 20.0, 30.25, 40.0)),
    ]
    write_parquet(root / "refcoco+" / "eval-00000.parquet", rows[:3])
    write_parquet(root / "refcoco+" / "eval-00001.parquet", rows[3:])
    return {
        "official": {"precision@1": 3 / 4, "recall@5": 4 / 4, "mrr": (1 + 1 / 2 + 1 + 1) / 4, "num_correct": 3},
        "strict": {"precision@1": 2 / 4, "recall@5": 3 / 4, "mrr": (1 + 1 / 10 + 1 / 2 + 1) / 4, "num_correct": 2},
    }


def mmeb_row(qry_text: str, qry_img: str, tgt_text: Sequence[str], tgt_img: Sequence[str]) -> dict:
    return {"qry_text": qry_text, "qry_img_path": qry_img, "tgt_text": list(tgt_text), "tgt_img_path": list(tgt_img)}


def mmeb_fixture(root: Path) -> dict[str, Any]:
    """An MMEB-eval-shaped folder: N24News (3 queries, shared labels) and MSCOCO_t2i (2 queries).

    N24News: q1 img1 [#1,#2,#3] right; q2 img2 [#3,#2,#1] wrong; q3 img3 [#3,#1,#2] right -> 2/3.
    MSCOCO_t2i: "#2" over [img2,img1,img3] right; "#1" over [img3,img1,img2] wrong -> 1/2.
    Unique items: 3 + 3 labels + 2 + 3 images = 11 for 20 references.
    """
    images = root / "images"
    for n in (1, 2, 3):
        write_image(images / "n24" / f"news{n}.jpg", size=(10 * n, 10))
        write_image(images / "coco" / f"pic{n}.png", size=(6, 6 + n))
    q = "<|image_1|> Represent the given news image with the following caption for domain classification: "
    lab = ["#1 label", "#2 label", "#3 label"]
    n24 = [
        mmeb_row(q + "a", "n24/news1.jpg", [lab[0], lab[1], lab[2]], [""] * 3),
        mmeb_row(q + "b", "n24/news2.jpg", [lab[2], lab[1], lab[0]], [""] * 3),
        mmeb_row(q + "c", "n24/news3.jpg", [lab[2], lab[0], lab[1]], [""] * 3),
    ]
    t = "<|image_1|> Represent the given image."
    t2i = [
        mmeb_row("Find me an everyday image that matches the given caption: #2", "", [t] * 3,
                 ["coco/pic2.png", "coco/pic1.png", "coco/pic3.png"]),  # fmt: skip
        mmeb_row("Find me an everyday image that matches the given caption: #1", "", [t] * 3,
                 ["coco/pic3.png", "coco/pic1.png", "coco/pic2.png"]),  # fmt: skip
    ]
    write_parquet(root / "N24News" / "test-00000-of-00001.parquet", n24)
    write_parquet(root / "MSCOCO_t2i" / "test-00000-of-00001.parquet", t2i)
    return {"N24News": 2 / 3, "MSCOCO_t2i": 1 / 2, "unique": 11, "references": 20}


def eval_args(argv: Sequence[str]) -> argparse.Namespace:
    from evaluators.cli import add_eval_arguments

    return add_eval_arguments(argparse.ArgumentParser()).parse_args(list(argv))


def distributed_worker(rank: int, world_size: int, port: int, argv: Sequence[str]) -> None:
    """Entry of one spawned rank: join a gloo group through the torchrun env variables, run eval."""
    os.environ.update(
        {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": str(world_size),
         "RANK": str(rank), "LOCAL_RANK": str(rank)}  # fmt: skip
    )
    from evaluators.cli import run_eval

    register_test_model()
    run_eval(eval_args(argv))
