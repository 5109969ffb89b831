"""Our own reproduction of how the official sony/virtue code reads SCaR files (written from reading
`src/data/eval_dataset/scar_image_i2t.py`, `src/data/dataset/scar_dataset.py` and their configs; not a copy).

What it keeps of the originals, because an export must survive exactly this:
- both read one file with `datasets.load_dataset("parquet", data_files=...)` and take its `train` split;
- eval: `<dataset dir>/<dataset_name>.parquet`; per row `qry_text` (str), `qry_image_path` joined to
  `image_root` with `os.path.join`, `tgt_text` (a list: candidates in order, label = index 0), `bbox`
  xywh turned into `[x1, y1, x2, y2]` by indexing, printed into the query as a Python list; then only
  the prepared columns are kept (extra columns are harmless);
- train: `<dataset_name>/<subset_name>.parquet`; per row `qry`, `qry_image_path`, `pos_text`,
  `pos_image_path`, `neg_text`, `neg_image_path`, `bbox` (an empty image path means no image); the
  map drops `qry, qry_image_path, pos_image_path, segmentation, category, image_id` (and
  `neg_image_path`) by name, so each must exist, batches of 2048 with the last partial batch dropped;
  then a cast to fixed features. The original casts an iterable dataset, which (datasets 5.2) drops a
  leftover column silently; `Dataset.cast` here refuses one, so an export is held to exactly the
  columns the loader names, which reads the same under any `datasets` version.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from datasets import Features, Sequence, Value, load_dataset

IMAGE_TOKEN = "<|image_1|>"
QWEN2_VL_IMAGE = "<|image_pad|>"  # the image token the official processor puts first for Qwen2-VL

_IMAGE = {"paths": Sequence(Value("string")), "bytes": Sequence(Value("binary")),
          "resolutions": Sequence(Sequence(Value("int32"), length=2))}
TRAIN_FEATURES = Features({
    "query_text": Value("string"), "query_image": _IMAGE,
    "pos_text": Value("string"), "pos_image": _IMAGE,
    "neg_text": Value("string"), "neg_image": _IMAGE,
    "bbox": Sequence(Value("float32"), length=4),
    "global_dataset_name": Value("string"),
})
TRAIN_DROPPED = ["qry", "qry_image_path", "pos_image_path", "segmentation", "category", "image_id"]


def _corners(bbox: Any) -> list:
    return [bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1] + bbox[3]]


def read_eval(dataset_dir: Path, dataset_name: str, image_root: str) -> list[dict[str, Any]]:
    """The prepared eval rows: query text, query image path, candidates, label, box corners."""
    rows = load_dataset("parquet", data_files=f"{dataset_dir}/{dataset_name}.parquet")["train"]

    def prepare(batch: dict[str, list]) -> dict[str, list]:
        out: dict[str, list] = {"query_text": [], "query_image": [], "cand_text": [], "cand_image": [],
                                "dataset_infos": [], "bboxes": []}
        for text, path, candidates, bbox in zip(batch["qry_text"], batch["qry_image_path"], batch["tgt_text"],
                                                batch["bbox"]):
            corners = _corners(bbox)
            text = text.replace(IMAGE_TOKEN, "")
            prompt = QWEN2_VL_IMAGE + " " + (" " + text if text else "")  # the backbone's token, then the text
            prompt = prompt.replace(" \n", "\n") + "\n"
            out["query_text"].append([f"{prompt}Referring object bbox: {corners}"])
            out["query_image"].append([{"bytes": [None], "paths": [os.path.join(image_root, path)],
                                        "resolutions": [None]}])
            out["cand_text"].append(candidates)
            out["cand_image"].append([None] * len(candidates))
            out["dataset_infos"].append({"cand_names": candidates, "label_name": candidates[0]})
            out["bboxes"].append(corners)
        return out

    prepared = rows.map(prepare, batched=True, batch_size=256, drop_last_batch=False, load_from_cache_file=False)
    prepared = prepared.select_columns(["query_text", "query_image", "cand_text", "cand_image", "dataset_infos",
                                        "bboxes"])
    return list(prepared)


def read_train(dataset_name: Path, subset_name: str, image_dir: str, batch_size: int = 2048) -> list[dict[str, Any]]:
    """The prepared training rows, cast to the loader's features."""
    rows = load_dataset("parquet", data_files=f"{dataset_name}/{subset_name}.parquet")["train"]
    dropped = TRAIN_DROPPED + (["neg_image_path"] if "neg_image_path" in rows.column_names else [])

    def image(path: str | None) -> dict[str, list]:
        return {"bytes": [None], "paths": [os.path.join(image_dir, path) if path else None], "resolutions": [None]}

    def prepare(batch: dict[str, list]) -> dict[str, list]:
        n = len(batch["qry"])
        out: dict[str, list] = {k: [] for k in ("query_text", "query_image", "pos_text", "pos_image", "neg_text",
                                                 "neg_image", "bbox")}
        for qry, qry_path, pos, pos_path, neg, neg_path, bbox in zip(
                batch["qry"], batch["qry_image_path"], batch["pos_text"], batch["pos_image_path"],
                batch.get("neg_text", [""] * n), batch.get("neg_image_path", [None] * n), batch.get("bbox", [None] * n)):
            if (not qry and not qry_path) or (not pos and not pos_path):
                continue
            corners = _corners(bbox)
            qry = qry.replace(IMAGE_TOKEN, QWEN2_VL_IMAGE)  # the backbone's token first, so the strip finds none
            out["query_text"].append(f"{qry.replace(IMAGE_TOKEN, '')}\nReferring object bbox: {corners}")
            out["pos_text"].append(pos)
            out["neg_text"].append(neg)
            out["query_image"].append(image(qry_path))
            out["pos_image"].append(image(pos_path))
            out["neg_image"].append(image(neg_path))
            out["bbox"].append(corners)
        out["global_dataset_name"] = [f"scar/{subset_name}"] * len(out["query_text"])
        return out

    if rows.num_rows < batch_size:
        return []  # the only batch is partial and dropped (then `datasets` keeps the input columns of no rows)
    prepared = rows.map(prepare, batched=True, batch_size=batch_size, remove_columns=dropped, drop_last_batch=True,
                        load_from_cache_file=False)
    return list(prepared.cast(TRAIN_FEATURES))
