"""Synthetic inputs in the real formats for the loader and build benchmarks (no image files needed).

`write_synthetic_coco(path, n)`: a COCO instances JSON with n polygon annotations, about 5 per image,
COCO-like image sizes and object sizes. `write_synthetic_refer` and `write_synthetic_vg` give
equivalent-size RefCOCO (refer layout) and Visual Genome inputs. `write_images` gives every image
entry a real JPEG of the declared size (one small grey file per size, hard-linked), so the build's
header checks run as on a real dataset; `touch_images` makes empty files (existence only).

    python tests/benchmarks/synthetic_coco.py OUT.json 100000
"""

from __future__ import annotations

import json
import math
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

SIZES = [(640, 480), (640, 427), (500, 375), (480, 640), (640, 360), (427, 640)]
CATEGORIES = ["person", "dog", "cat", "car", "bicycle", "chair", "table", "cup", "bottle", "umbrella",
              "horse", "bench", "bird", "boat", "clock", "vase", "laptop", "book", "bus", "train"]


def _polygon(rng: np.random.Generator, x: float, y: float, w: float, h: float) -> list[float]:
    """A star-shaped polygon filling most of the box (8-24 vertices)."""
    n = int(rng.integers(8, 25))
    angles = np.sort(rng.uniform(0, 2 * math.pi, n))
    radius = rng.uniform(0.6, 1.0, n)
    cx, cy = x + w / 2, y + h / 2
    px = np.clip(cx + np.cos(angles) * radius * w / 2, x, x + w)
    py = np.clip(cy + np.sin(angles) * radius * h / 2, y, y + h)
    return [round(float(v), 2) for pair in zip(px, py) for v in pair]


def synthetic_instances(n_annotations: int, seed: int = 0, per_image: int = 5, prefix: str = "") -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    n_images = max(1, math.ceil(n_annotations / per_image))
    for image_id in range(1, n_images + 1):
        w, h = SIZES[int(rng.integers(len(SIZES)))]
        images.append({"id": image_id, "file_name": f"{prefix}{image_id:012d}.jpg", "width": w, "height": h})
    for ann_id in range(1, n_annotations + 1):
        image = images[(ann_id - 1) // per_image]
        iw, ih = image["width"], image["height"]
        # COCO object sizes are heavy-tailed: many small, some large
        bw = float(min(iw - 2, max(8.0, iw * rng.beta(1.2, 4.0))))
        bh = float(min(ih - 2, max(8.0, ih * rng.beta(1.2, 4.0))))
        bx, by = float(rng.uniform(0, iw - bw)), float(rng.uniform(0, ih - bh))
        poly = _polygon(rng, bx, by, bw, bh)
        xs, ys = poly[0::2], poly[1::2]
        annotations.append({
            "id": ann_id, "image_id": image["id"], "category_id": int(rng.integers(1, len(CATEGORIES) + 1)),
            "iscrowd": 0, "segmentation": [poly],
            "bbox": [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)], "area": bw * bh * 0.6,
        })
    categories = [{"id": i + 1, "name": name, "supercategory": "thing"} for i, name in enumerate(CATEGORIES)]
    return {"images": images, "annotations": annotations, "categories": categories}


def write_synthetic_coco(path: Path, n_annotations: int, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(synthetic_instances(n_annotations, seed)), encoding="utf-8")
    return path


def write_images(instances_path: Path, images_dir: Path) -> int:
    """A real JPEG of the declared size per image entry: one file per distinct size, hard-linked
    (copied where links are not allowed), so 20k images cost a few disk blocks and seconds."""
    import os
    import shutil

    from PIL import Image

    images_dir.mkdir(parents=True, exist_ok=True)
    data = json.loads(instances_path.read_text(encoding="utf-8"))
    templates: dict[tuple[int, int], Path] = {}
    for img in data["images"]:
        size = (img["width"], img["height"])
        if size not in templates:
            templates[size] = images_dir / f".template-{size[0]}x{size[1]}.jpg"
            Image.new("RGB", size, (128, 128, 128)).save(templates[size], quality=50)
        target = images_dir / img["file_name"]
        try:
            os.link(templates[size], target)
        except OSError:
            shutil.copyfile(templates[size], target)
    return len(data["images"])


def touch_images(instances_path: Path, images_dir: Path) -> int:
    images_dir.mkdir(parents=True, exist_ok=True)
    data = json.loads(instances_path.read_text(encoding="utf-8"))
    for img in data["images"]:
        (images_dir / img["file_name"]).touch()
    return len(data["images"])


def write_synthetic_refer(root: Path, n_refs: int, dataset: str = "refcoco", seed: int = 0) -> Path:
    """refer layout: every annotation is referred once (90% train, 10% val), 2 sentences each."""
    instances = synthetic_instances(n_refs, seed, prefix="COCO_train2014_")
    refs = []
    for ann in instances["annotations"]:
        split = "val" if ann["image_id"] % 10 == 0 else "train"
        name = CATEGORIES[ann["category_id"] - 1]
        refs.append({
            "ref_id": ann["id"], "ann_id": ann["id"], "image_id": ann["image_id"], "category_id": ann["category_id"],
            "split": split, "file_name": f"COCO_train2014_{ann['image_id']:012d}_{ann['id']}.jpg", "sent_ids": [0, 1],
            "sentences": [{"sent": f"the {name} on the left", "raw": f"The {name} on the left", "tokens": [], "sent_id": 0},
                          {"sent": f"{name} near the middle", "raw": f"{name} near the middle", "tokens": [], "sent_id": 1}],
        })
    folder = root / dataset
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "instances.json").write_text(json.dumps(instances), encoding="utf-8")
    with open(folder / "refs(unc).p", "wb") as f:
        pickle.dump(refs, f, protocol=2)
    return root


def write_synthetic_vg(root: Path, n_objects: int, seed: int = 0, per_image: int = 20) -> Path:
    """Visual Genome JSONs: ~20 objects, 20 regions and 10 relationships per image."""
    rng = np.random.default_rng(seed)
    n_images = max(1, math.ceil(n_objects / per_image))
    image_data, objects, regions, relationships = [], [], [], []
    oid = 0
    for image_id in range(1, n_images + 1):
        w, h = SIZES[int(rng.integers(len(SIZES)))]
        image_data.append({"image_id": image_id, "width": w, "height": h,
                           "url": f"https://cs.stanford.edu/people/rak248/VG_100K/{image_id}.jpg"})
        objs, regs, rels = [], [], []
        for _ in range(min(per_image, n_objects - oid)):
            oid += 1
            bw, bh = int(rng.integers(8, w // 2)), int(rng.integers(8, h // 2))
            x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
            name = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
            objs.append({"object_id": oid, "x": x, "y": y, "w": bw, "h": bh, "names": [name], "synsets": []})
            regs.append({"region_id": oid, "image_id": image_id, "x": x, "y": y, "width": bw, "height": bh,
                         "phrase": f"a {name} in the picture"})
        for a, b in zip(objs[0::2], objs[1::2]):
            rels.append({"relationship_id": a["object_id"], "predicate": "next to",
                         "subject": {"object_id": a["object_id"], "name": a["names"][0]},
                         "object": {"object_id": b["object_id"], "name": b["names"][0]}})
        objects.append({"image_id": image_id, "objects": objs})
        regions.append({"id": image_id, "regions": regs})
        relationships.append({"image_id": image_id, "relationships": rels})
    root.mkdir(parents=True, exist_ok=True)
    for name, data in [("image_data.json", image_data), ("objects.json", objects),
                       ("region_descriptions.json", regions), ("relationships.json", relationships)]:
        (root / name).write_text(json.dumps(data), encoding="utf-8")
    return root


if __name__ == "__main__":
    out = write_synthetic_coco(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100_000)
    print(out)
