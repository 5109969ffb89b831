"""Writers of tiny real-format dataset fixtures for the source-loader tests (tmp dirs only).

Each writer returns the paths it made; the tests hold the hand-computed expected values.
"""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


def write_image(path: Path, width: int, height: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), (120, 130, 140)).save(path)
    return path


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ---------------------------------------------------------------- COCO

RECT = [2, 2, 12, 2, 12, 10, 2, 10]  # box [2, 2, 10, 8], area 80, farthest pixel (5, 5) -> (5.5, 5.5)
TRIANGLE = [20, 20, 30, 20, 20, 28]  # box [20, 20, 10, 8], area 10 * 8 / 2 = 40

COCO_CATEGORIES = [{"id": 1, "name": "dog"}, {"id": 2, "name": "traffic_light"}, {"id": 3, "name": "person"}]


def coco_instances() -> dict[str, Any]:
    """Image 1 (40x30, exists) holds two good objects and one of each bad kind."""
    crowd_counts = [30 * 5, 30 * 3, 30 * 32]  # columns 5..7 full: area 90, sums to 30*40
    return {
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 40, "height": 30},
            {"id": 2, "file_name": "missing.jpg", "width": 40, "height": 30},
        ],
        "categories": COCO_CATEGORIES,
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [2, 2, 10, 8], "segmentation": [RECT], "area": 80},
            {"id": 11, "image_id": 1, "category_id": 3, "iscrowd": 1, "bbox": [5, 0, 3, 30],
             "segmentation": {"size": [30, 40], "counts": crowd_counts}, "area": 90},
            {"id": 12, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [1, 1, 4, 4], "segmentation": [[1, 1, 5, 5]]},
            {"id": 13, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [50, 50, 5, 5], "segmentation": [[50, 50, 55, 50, 55, 55]]},
            {"id": 14, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [35, 20, 20, 5], "segmentation": [[35, 20, 55, 20, 55, 25]]},
            {"id": 15, "image_id": 1, "category_id": 99, "iscrowd": 0, "bbox": [1, 1, 4, 4], "segmentation": [RECT]},
            {"id": 16, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [0, 0, 4, 4],
             "segmentation": {"size": [10, 10], "counts": [100]}},
            {"id": 17, "image_id": 1, "category_id": 2, "iscrowd": 0, "bbox": [20, 20, 10, 8], "segmentation": [TRIANGLE], "area": 40},
            {"id": 20, "image_id": 2, "category_id": 1, "iscrowd": 0, "bbox": [2, 2, 10, 8], "segmentation": [RECT]},
            {"id": 30, "image_id": 999, "category_id": 1, "iscrowd": 0, "bbox": [2, 2, 10, 8], "segmentation": [RECT]},
        ],
    }


def write_coco(root: Path, name: str = "instances_val2017.json") -> tuple[Path, Path]:
    """Returns (annotation file, images dir)."""
    images = root / "images"
    write_image(images / "a.jpg", 40, 30)
    return write_json(root / name, coco_instances()), images


# ---------------------------------------------------------------- RefCOCO (refer layout)


class _Py2Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Writes bytes as Python-2 `str` opcodes, as the original refs(*).p files hold them."""

    dispatch = pickle._Pickler.dispatch.copy()  # type: ignore[attr-defined]

    def save_py2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def _py2(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict):
        return {_py2(k): _py2(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_py2(v) for v in value]
    return value


def write_py2_pickle(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        _Py2Pickler(f, protocol=2).dump(_py2(data))
    return path


def _ref(ref_id: int, ann_id: int, image_id: int, split: str, sents: list[Any]) -> dict[str, Any]:
    return {
        "ref_id": ref_id, "ann_id": ann_id, "image_id": image_id, "category_id": 1, "split": split,
        "file_name": f"COCO_train2014_{image_id:012d}_{ann_id}.jpg",  # the refer suffix: not a real file
        "sent_ids": list(range(len(sents))),
        "sentences": [{"sent": s, "raw": s, "tokens": [], "sent_id": i} for i, s in enumerate(sents)],
    }


def write_refer(root: Path, dataset: str = "refcoco+", split_by: str = "unc") -> tuple[Path, Path]:
    """Returns (refer root, images dir). Refs: 2 train (image 1), 1 val + 1 testA (image 3), bad ones."""
    images = root / "images"
    write_image(images / "COCO_train2014_000000000001.jpg", 40, 30)
    write_image(images / "COCO_train2014_000000000003.jpg", 40, 30)
    instances = {
        "images": [
            {"id": 1, "file_name": "COCO_train2014_000000000001.jpg", "width": 40, "height": 30},
            {"id": 3, "file_name": "COCO_train2014_000000000003.jpg", "width": 40, "height": 30},
        ],
        "categories": COCO_CATEGORIES,
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [2, 2, 10, 8], "segmentation": [RECT]},
            {"id": 11, "image_id": 1, "category_id": 2, "iscrowd": 0, "bbox": [20, 20, 10, 8], "segmentation": [TRIANGLE]},
            {"id": 12, "image_id": 1, "category_id": 3, "iscrowd": 0, "bbox": [30, 0, 5, 5], "segmentation": [[30, 0, 35, 0, 35, 5, 30, 5]]},
            {"id": 30, "image_id": 3, "category_id": 1, "iscrowd": 0, "bbox": [2, 2, 10, 8], "segmentation": [RECT]},
            {"id": 31, "image_id": 3, "category_id": 2, "iscrowd": 0, "bbox": [20, 20, 10, 8], "segmentation": [TRIANGLE]},
        ],
    }
    refs = [
        _ref(100, 10, 1, "train", ["the dog on the left", "brown dog"]),
        _ref(101, 11, 1, "train", ["café sign"]),
        _ref(300, 30, 3, "val", ["dog at top"]),
        _ref(301, 31, 3, "testA", ["the light"]),
        _ref(400, 999, 1, "train", ["nothing there"]),  # ann id points nowhere
        _ref(401, 12, 7, "train", ["no such image"]),  # image id points nowhere
    ]
    raw = _py2(refs)
    raw.append({**_py2(_ref(402, 12, 1, "train", [])), b"sentences": [{b"sent": b"caf\xe9 bad bytes", b"sent_id": 0}]})
    folder = root / dataset
    write_json(folder / "instances.json", instances)
    path = folder / f"refs({split_by}).p"
    folder.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        _Py2Pickler(f, protocol=2).dump(raw)
    return root, images


# ---------------------------------------------------------------- Visual Genome


def write_visual_genome(root: Path, v14: bool = True) -> tuple[Path, Path]:
    """Two images; v14=True uses `image_id`/`object_id`, False the older `id` spellings."""
    images = root / "images"
    write_image(images / "VG_100K" / "1.jpg", 50, 40)
    write_image(images / "VG_100K_2" / "2.jpg", 50, 40)
    iid = "image_id" if v14 else "id"
    oid = "object_id" if v14 else "id"
    image_data = [
        {iid: 1, "width": 50, "height": 40, "url": "https://cs.stanford.edu/people/rak248/VG_100K/1.jpg", "coco_id": None},
        {iid: 2, "width": 50, "height": 40, "url": "https://cs.stanford.edu/people/rak248/VG_100K_2/2.jpg", "coco_id": None},
    ]
    objects = [
        {iid: 1, "objects": [
            {oid: 11, "x": 4, "y": 6, "w": 10, "h": 20, "names": ["man"], "attributes": ["tall"]},
            {oid: 12, "x": 20, "y": 10, "w": 20, "h": 16, "names": ["horse"]},
            {oid: 13, "x": 45, "y": 35, "w": 30, "h": 30, "names": ["tree"]},  # partly outside
        ]},
        {iid: 2, "objects": [{oid: 21, "x": 0, "y": 0, "w": 50, "h": 40, "name": "wall"}]},
        {iid: 9, "objects": [{oid: 91, "x": 0, "y": 0, "w": 5, "h": 5, "names": ["ghost"]}]},
    ]
    rid = "region_id" if v14 else "id"
    regions = [
        {iid: 1, "regions": [
            {rid: 1, "x": 4, "y": 6, "width": 10, "height": 20, "phrase": "a tall man standing"},
            {rid: 2, "x": 0, "y": 0, "width": 50, "height": 40, "phrase": "a sunny field"},
            {rid: 3, "x": 19, "y": 10, "width": 21, "height": 16, "phrase": "brown horse"},
        ]},
    ]
    relationships = [
        {"image_id": 1, "relationships": [
            {"relationship_id": 5, "predicate": "RIDING",
             "subject": {"object_id": 11, "x": 4, "y": 6, "w": 10, "h": 20, "name": "man"},
             "object": {"object_id": 12, "x": 20, "y": 10, "w": 20, "h": 16, "names": ["horse"]}},
        ]},
    ]
    for name, data in [
        ("image_data.json", image_data), ("objects.json", objects),
        ("region_descriptions.json", regions), ("relationships.json", relationships),
    ]:
        write_json(root / name, data)
    return root, images


# ---------------------------------------------------------------- COCO-Stuff


def write_cocostuff(root: Path) -> tuple[Path, Path, Path, Path]:
    """Returns (stuff json, things json, stuffthingmaps dir, images dir) for val2017, one 20x10 image.

    Map: columns 0-9 value 123 (id 124 'grass'), columns 10-19 rows 0-4 value 0 ('person', a thing),
    rows 5-9 of columns 10-19 value 255 (unlabeled).
    """
    images = root / "images"
    write_image(images / "val2017" / "000000000005.jpg", 20, 10)
    label_map = np.full((10, 20), 255, np.uint8)
    label_map[:, :10] = 123
    label_map[:5, 10:] = 0
    maps = root / "stuffthingmaps_trainval2017"
    (maps / "val2017").mkdir(parents=True)
    Image.fromarray(label_map).save(maps / "val2017" / "000000000005.png")
    image = {"id": 5, "file_name": "000000000005.jpg", "width": 20, "height": 10}
    grass = np.zeros((10, 20), np.uint8, order="F")
    grass[:, :10] = 1
    from pycocotools import mask as mask_utils

    grass_rle = mask_utils.encode(grass)
    stuff = {
        "images": [image],
        "categories": [{"id": 124, "name": "grass", "supercategory": "plant"}, {"id": 183, "name": "other"}],
        "annotations": [
            {"id": 1, "image_id": 5, "category_id": 124, "iscrowd": 0, "bbox": [0, 0, 10, 10],
             "segmentation": {"size": [10, 20], "counts": grass_rle["counts"].decode("ascii")}, "area": 100},
            {"id": 2, "image_id": 5, "category_id": 183, "iscrowd": 0, "bbox": [10, 0, 10, 10],
             "segmentation": {"size": [10, 20], "counts": [100, 100]}, "area": 100},
        ],
    }
    things = {
        "images": [image],
        "categories": [{"id": 1, "name": "person"}],
        "annotations": [
            {"id": 7, "image_id": 5, "category_id": 1, "iscrowd": 0, "bbox": [10, 0, 10, 5],
             "segmentation": [[10, 0, 20, 0, 20, 5, 10, 5]], "area": 50},
        ],
    }
    stuff_path = write_json(root / "annotations" / "stuff_val2017.json", stuff)
    things_path = write_json(root / "annotations" / "instances_val2017.json", things)
    return stuff_path, things_path, maps, images


# ---------------------------------------------------------------- ADE20K


def ade_seg_png(path: Path, class_map: np.ndarray, instance_map: np.ndarray) -> Path:
    """_seg.png encoding: R/10*256 + G = class index (1-based into objectnames), B = instance."""
    rgb = np.zeros(class_map.shape + (3,), np.uint8)
    rgb[..., 0] = (class_map // 256) * 10
    rgb[..., 1] = class_map % 256
    rgb[..., 2] = instance_map
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)
    return path


def write_ade20k_full(root: Path) -> Path:
    """ADE20K_2021_17_01 layout. One training image (30x20) with three instances, one val image.

    train image: rows 0-9 'wall' (class 1, instance B=1); rows 10-19 cols 0-14 'chair' (class 300,
    B=2, R=10 G=44); rows 10-19 cols 15-29 'chair' (class 300, B=3). val image: all 'wall'.
    """
    release = root / "ADE20K_2021_17_01"
    folder_train = "ADE20K_2021_17_01/images/ADE/training/home_or_hotel/living_room"
    folder_val = "ADE20K_2021_17_01/images/ADE/validation/urban/street"
    cls = np.zeros((20, 30), np.int64)
    inst = np.zeros((20, 30), np.uint8)
    cls[:10], inst[:10] = 1, 1
    cls[10:, :15], inst[10:, :15] = 300, 2
    cls[10:, 15:], inst[10:, 15:] = 300, 3
    write_image(root / folder_train / "ADE_train_00000001.jpg", 30, 20)
    ade_seg_png(root / folder_train / "ADE_train_00000001_seg.png", cls, inst)
    write_image(root / folder_val / "ADE_val_00000001.jpg", 30, 20)
    ade_seg_png(root / folder_val / "ADE_val_00000001_seg.png", np.ones((20, 30), np.int64), np.ones((20, 30), np.uint8))
    names = [f"thing{i}" for i in range(400)]
    names[0], names[299] = "wall", "chair, seat"
    index = {
        "filename": ["ADE_train_00000001.jpg", "ADE_val_00000001.jpg"],
        "folder": [folder_train, folder_val],
        "scene": ["/home_or_hotel/living_room", "/urban/street"],
        "objectnames": names,
        "objectPresence": np.zeros((400, 2), dtype=np.int64),
    }
    release.mkdir(parents=True, exist_ok=True)
    with open(release / "index_ade20k.pkl", "wb") as f:
        pickle.dump(index, f, protocol=4)
    return release


def write_ade_challenge(root: Path) -> Path:
    """ADEChallengeData2016: one 20x10 training image: cols 0-9 class 1 'wall', cols 10-19 class 3
    'sky' except a 2x2 block of class 0 (other) at rows 0-1, cols 18-19."""
    base = root / "ADEChallengeData2016"
    write_image(base / "images" / "training" / "ADE_train_00000001.jpg", 20, 10)
    ann = np.zeros((10, 20), np.uint8)
    ann[:, :10] = 1
    ann[:, 10:] = 3
    ann[:2, 18:] = 0
    (base / "annotations" / "training").mkdir(parents=True)
    Image.fromarray(ann).save(base / "annotations" / "training" / "ADE_train_00000001.png")
    (base / "objectInfo150.txt").write_text(
        "Idx\tRatio\tTrain\tVal\tName\n1\t0.1\t1\t1\twall\n2\t0.1\t1\t1\tbuilding, edifice\n3\t0.1\t1\t1\tsky\n",
        encoding="utf-8",
    )
    (base / "sceneCategories.txt").write_text("ADE_train_00000001 living_room\n", encoding="utf-8")
    return base
