"""Writers of realistic fixtures in each source's public format, from the layouts (temp dirs only).

Every writer takes a root folder, image counts and a seed, writes the annotation files and (blank,
correctly sized) images, and returns what `scar build` needs. The sizes are small enough for a test
(a few hundred entities per source) and the content is what the real releases hold: COCO category
ids and names, COCO-Stuff RLE stuff regions beside COCO things, refer pickles with referring
expressions, Visual Genome objects with parts, attributes, region phrases and relationships, and an
ADE20K full-release index with class/instance-encoded segmentation PNGs.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from tests.fixtures_sources import write_py2_pickle
from tests.realistic.layouts import Layout, Placed, layouts
from tests.realistic.vocab import (
    ADE_NAMES, ADE_SCENES, COCO_IDS, COCO_SUPER, COCOSTUFF_FOR, COCOSTUFF_IDS, PERSON_WORDS, VG_NAMES, VG_PARTS,
    VG_PERSON, VG_PERSON_DEFAULT,
)  # fmt: skip


def _image(path: Path, w: int, h: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (w, h), (118, 124, 130)).save(path, quality=50)


def _json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _xywh(box: tuple[float, float, float, float]) -> list[float]:
    return [round(box[0], 2), round(box[1], 2), round(box[2] - box[0], 2), round(box[3] - box[1], 2)]


def _ellipse_polygon(box: tuple[float, float, float, float], n: int = 16) -> list[float]:
    cx, cy, rx, ry = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return [round(float(v), 2) for xy in zip(cx + rx * np.cos(t), cy + ry * np.sin(t)) for v in xy]


def _things(lay: Layout) -> list[tuple[int, Placed]]:
    return [(i, o) for i, o in enumerate(lay.objects) if not o.stuff and o.cat in COCO_IDS]


def coco_categories() -> list[dict[str, Any]]:
    return [{"id": i, "name": n, "supercategory": COCO_SUPER.get(n, "object")} for n, i in sorted(COCO_IDS.items(), key=lambda kv: kv[1])]


def _coco_document(lays: list[Layout], file_names: list[str], first_image_id: int, first_ann_id: int) -> dict[str, Any]:
    images, anns = [], []
    ann_id = first_ann_id
    for k, (lay, name) in enumerate(zip(lays, file_names)):
        image_id = first_image_id + k
        images.append({"id": image_id, "file_name": name, "width": lay.width, "height": lay.height, "license": 1})
        for _, o in _things(lay):
            poly = _ellipse_polygon(o.box)
            rle = mask_utils.frPyObjects([poly], lay.height, lay.width)
            anns.append({
                "id": ann_id, "image_id": image_id, "category_id": COCO_IDS[o.cat], "iscrowd": 0, "bbox": _xywh(o.box),
                "segmentation": [poly], "area": float(mask_utils.area(mask_utils.merge(rle))),
            })  # fmt: skip
            ann_id += 1
    return {"info": {"description": "realistic fixture"}, "licenses": [], "images": images, "annotations": anns,
            "categories": coco_categories()}  # fmt: skip


# ---------------------------------------------------------------- COCO


def write_coco(root: Path, n_train: int, n_val: int, seed: int = 0) -> tuple[list[Path], Path]:
    """([instances_train2017.json, instances_val2017.json], images dir)."""
    out_files = []
    for split, n, first in (("train2017", n_train, 1_000), ("val2017", n_val, 900_000)):
        lays = layouts(n, seed * 7 + (1 if split.startswith("train") else 2))
        names = [f"{first + k:012d}.jpg" for k in range(n)]
        for lay, name in zip(lays, names):
            _image(root / "images" / split / name, lay.width, lay.height)
        doc = _coco_document(lays, names, first, first * 10)
        out_files.append(_json(root / "annotations" / f"instances_{split}.json", doc))
    return out_files, root / "images"


# ---------------------------------------------------------------- RefCOCO family (refer layout)


def _person_word(rng: np.random.Generator) -> str:
    return PERSON_WORDS[int(rng.integers(len(PERSON_WORDS)))]


def _ref_sentences(dataset: str, lay: Layout, index: int, rng: np.random.Generator) -> list[str]:
    o = lay.objects[index]
    name = _person_word(rng) if o.cat == "person" else o.cat
    same = [p for p in lay.objects if p.cat == o.cat and p is not o]
    cx = (o.box[0] + o.box[2]) / 2
    side = None
    if same:
        others = [(p.box[0] + p.box[2]) / 2 for p in same]
        side = "left" if cx < min(others) else "right" if cx > max(others) else "middle"
    colour = f"{o.colour} " if o.colour else ""
    held = [p.cat for p in lay.objects if p.parent == index]
    if dataset == "refcoco":
        out = [f"{side} {name}" if side else f"{colour}{name}", f"{name} on {side}" if side in ("left", "right") else f"the {colour}{name}"]
    elif dataset == "refcoco+":
        out = [f"{colour}{name}".strip(), f"{name} with {held[0]}" if held else f"{colour}{name} closest to us".strip()]
    else:
        parent = lay.objects[o.parent].cat if o.parent is not None else None
        where = f" on the {parent}" if parent else (f" on the {side}" if side in ("left", "right") else "")
        out = [f"a {colour}{name}{where}".replace("  ", " "), f"the {colour}{name} that is{where or ' in the picture'}".replace("  ", " ")]
    return list(dict.fromkeys(s.strip() for s in out if s.strip()))


def write_refer_files(
    root: Path, dataset: str, lays: list[Layout], ids: list[int], doc: dict[str, Any], rng: np.random.Generator
) -> int:
    """The refer release's instances.json and refs pickle for pictures `lays` with image ids `ids`
    (their COCO document `doc`) under root/<dataset>; returns how many refs were written."""
    refs: list[dict[str, Any]] = []
    ann_ids = iter(a["id"] for a in doc["annotations"])
    split_names = ("train", "val", "testA", "testB") if dataset != "refcocog" else ("train", "val", "test")
    sent_id = 0
    for lay, image_id in zip(lays, ids):
        u = float(rng.random())
        split = "train" if u < 0.7 else split_names[1 + int((u - 0.7) / 0.3 * (len(split_names) - 1))]
        for index, o in _things(lay):
            ann_id = next(ann_ids)
            if (split == "testA" and o.cat != "person") or (split == "testB" and o.cat == "person"):
                continue
            if rng.random() < 0.35 or o.box[2] - o.box[0] < 12:  # refer keeps the larger, nameable objects
                continue
            sents = _ref_sentences(dataset, lay, index, rng)
            refs.append({
                "ref_id": len(refs), "ann_id": ann_id, "image_id": image_id, "category_id": COCO_IDS[o.cat], "split": split,
                "file_name": f"COCO_train2014_{image_id:012d}_{ann_id}.jpg", "sent_ids": list(range(sent_id, sent_id + len(sents))),
                "sentences": [{"sent": s, "raw": s, "tokens": s.split(), "sent_id": sent_id + i} for i, s in enumerate(sents)],
            })  # fmt: skip
            sent_id += len(sents)
    folder = root / dataset
    _json(folder / "instances.json", doc)
    write_py2_pickle(folder / ("refs(umd).p" if dataset == "refcocog" else "refs(unc).p"), refs)
    return len(refs)


def write_refer(root: Path, dataset: str, n_images: int, seed: int = 0) -> tuple[Path, Path, int]:
    """(refer root, images dir, refs written) for refcoco / refcoco+ (refs(unc).p) or refcocog (refs(umd).p)."""
    rng = np.random.default_rng(seed + 11)
    lays = layouts(n_images, seed * 7 + 3)
    names = [f"COCO_train2014_{5000 + k:012d}.jpg" for k in range(n_images)]
    for lay, name in zip(lays, names):
        _image(root / "images" / name, lay.width, lay.height)
    doc = _coco_document(lays, names, 5000, 70_000)
    n_refs = write_refer_files(root, dataset, lays, [5000 + k for k in range(n_images)], doc, rng)
    return root, root / "images", n_refs


# ---------------------------------------------------------------- Visual Genome


def _vg_name(o: Placed, lay: Layout, rng: np.random.Generator) -> str:
    if o.cat == "person":
        options = VG_PERSON.get(lay.scene.name, VG_PERSON_DEFAULT)
    else:
        options = VG_NAMES.get(o.cat, (o.cat,))
    return options[int(rng.integers(len(options)))]


def write_visual_genome(root: Path, n_images: int, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed + 13)
    lays = layouts(n_images, seed * 7 + 4)
    image_data, objects, regions, relationships = [], [], [], []
    object_id = 1_000_000
    for k, lay in enumerate(lays):
        image_id = 2_300_000 + k
        folder = "VG_100K" if k % 3 else "VG_100K_2"
        _image(root / "images" / folder / f"{image_id}.jpg", lay.width, lay.height)
        image_data.append({"image_id": image_id, "width": lay.width, "height": lay.height, "coco_id": None, "flickr_id": None,
                           "url": f"https://cs.stanford.edu/people/rak248/{folder}/{image_id}.jpg"})  # fmt: skip
        objs, regs, rels = [], [], []
        ids: dict[int, int] = {}
        for i, o in enumerate(lay.objects):
            name = _vg_name(o, lay, rng)
            x, y, w, h = (int(round(v)) for v in _xywh(o.box))
            attrs = [o.colour] if o.colour else []
            ids[i] = object_id
            objs.append({"object_id": object_id, "x": x, "y": y, "w": max(w, 1), "h": max(h, 1), "names": [name],
                         "synsets": [], **({"attributes": attrs} if attrs else {})})  # fmt: skip
            object_id += 1
            if rng.random() < 0.5:
                phrase = f"{' '.join(attrs)} {name}".strip() if attrs else f"the {name}"
                if o.parent is not None:
                    phrase += f" on {VG_NAMES.get(lay.objects[o.parent].cat, (lay.objects[o.parent].cat,))[0]}"
                regs.append({"region_id": 9_000_000 + object_id, "image_id": image_id, "phrase": phrase, "x": x, "y": y,
                             "width": max(w, 1), "height": max(h, 1)})  # fmt: skip
            for part, (fx0, fy0, fx1, fy1), coloured in VG_PARTS.get(o.cat, ()):
                if rng.random() < 0.35:
                    continue
                bw, bh = o.box[2] - o.box[0], o.box[3] - o.box[1]
                px, py = o.box[0] + fx0 * bw, o.box[1] + fy0 * bh
                pw, ph = max((fx1 - fx0) * bw, 2), max((fy1 - fy0) * bh, 2)
                part_attrs = [("white", "blue", "black", "red", "green")[int(rng.integers(5))]] if coloured and rng.random() < 0.6 else []
                objs.append({"object_id": object_id, "x": int(px), "y": int(py), "w": int(pw), "h": int(ph), "names": [part],
                             "synsets": [], **({"attributes": part_attrs} if part_attrs else {})})  # fmt: skip
                rels.append({"relationship_id": object_id, "predicate": "has" if part != "shirt" else "wearing",
                             "subject": {"object_id": ids[i], "x": x, "y": y, "w": max(w, 1), "h": max(h, 1), "name": name},
                             "object": {"object_id": object_id, "x": int(px), "y": int(py), "w": int(pw), "h": int(ph), "name": part}})  # fmt: skip
                object_id += 1
        for i, o in enumerate(lay.objects):
            if o.parent is not None and o.parent in ids:
                p = lay.objects[o.parent]
                pred = {"on": "on", "held": "held by", "under": "under", "back": "on"}.get(o.zone.split(":")[0], "near")
                rels.append({"relationship_id": 5_000_000 + ids[i], "predicate": pred,
                             "subject": {"object_id": ids[i], "name": _vg_name(o, lay, rng), **dict(zip("xywh", (int(v) for v in _xywh(o.box))))},
                             "object": {"object_id": ids[o.parent], "name": p.cat, **dict(zip("xywh", (int(v) for v in _xywh(p.box))))}})  # fmt: skip
        objects.append({"image_id": image_id, "objects": objs})
        regions.append({"id": image_id, "regions": regs})
        relationships.append({"image_id": image_id, "relationships": rels})
    for name, data in (("image_data.json", image_data), ("objects.json", objects), ("region_descriptions.json", regions),
                       ("relationships.json", relationships)):  # fmt: skip
        _json(root / name, data)
    return root, root / "images"


# ---------------------------------------------------------------- COCO-Stuff


def _stuff_names(lay: Layout, rng: np.random.Generator) -> dict[int, str]:
    """Object index -> COCO-Stuff class name for every stuff layer (one wall variant per image...)."""
    chosen: dict[str, str] = {}
    out = {}
    for i, o in enumerate(lay.objects):
        if o.stuff and o.cat in COCOSTUFF_FOR:
            if o.cat not in chosen:
                options = COCOSTUFF_FOR[o.cat]
                chosen[o.cat] = "wall-tile" if (o.cat == "wall" and lay.scene.name == "bathroom") else options[int(rng.integers(len(options)))]
            out[i] = chosen[o.cat]
    return out


def stuff_annotation(ann_id: int, image_id: int, cls: str, region: np.ndarray, lay: Layout) -> dict[str, Any] | None:
    """A COCO-Stuff annotation (RLE) of one stuff class's pixels, or None for a region under 16 pixels."""
    if region.sum() < 16:
        return None
    rle = mask_utils.encode(np.asfortranarray(region.astype(np.uint8)))
    return {
        "id": ann_id, "image_id": image_id, "category_id": 183 if cls == "other" else COCOSTUFF_IDS[cls], "iscrowd": 0,
        "segmentation": {"size": [lay.height, lay.width], "counts": rle["counts"].decode("ascii")},
        "area": float(mask_utils.area(rle)), "bbox": [float(v) for v in mask_utils.toBbox(rle)],
    }  # fmt: skip


def stuff_regions(lay: Layout, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """COCO-Stuff class name -> its pixels in the picture, "other" over the things (as the stuff files have it)."""
    labels = lay.label_map()
    by_class: dict[str, np.ndarray] = {}
    for i, cls in _stuff_names(lay, rng).items():
        region = labels == i + 1
        by_class[cls] = by_class[cls] | region if cls in by_class else region
    things = np.isin(labels, [i + 1 for i, o in enumerate(lay.objects) if not o.stuff])
    if things.any():
        by_class["other"] = things
    return by_class


def write_cocostuff(root: Path, n_train: int, n_val: int, seed: int = 0) -> tuple[list[Path], Path]:
    """([stuff_train, instances_train, stuff_val, instances_val] JSONs, images dir)."""
    rng = np.random.default_rng(seed + 17)
    stuff_categories = [{"id": i, "name": n, "supercategory": "stuff"} for n, i in COCOSTUFF_IDS.items()] + [
        {"id": 183, "name": "other", "supercategory": "other"}]  # fmt: skip
    files = []
    for split, n, first in (("train2017", n_train, 2_000), ("val2017", n_val, 800_000)):
        lays = layouts(n, seed * 7 + (5 if split.startswith("train") else 6))
        names = [f"{first + k:012d}.jpg" for k in range(n)]
        images, stuff_anns = [], []
        ann_id = first * 100
        for k, (lay, name) in enumerate(zip(lays, names)):
            image_id = first + k
            _image(root / "images" / split / name, lay.width, lay.height)
            images.append({"id": image_id, "file_name": name, "width": lay.width, "height": lay.height})
            for cls, region in stuff_regions(lay, rng).items():
                ann = stuff_annotation(ann_id, image_id, cls, region, lay)
                if ann is not None:
                    stuff_anns.append(ann)
                    ann_id += 1
        files.append(_json(root / "annotations" / f"stuff_{split}.json",
                           {"images": images, "annotations": stuff_anns, "categories": stuff_categories}))  # fmt: skip
        files.append(_json(root / "annotations" / f"instances_{split}.json", _coco_document(lays, names, first, first * 10)))
    return files, root / "images"


# ---------------------------------------------------------------- ADE20K (full release)


def _ade_seg(path: Path, labels: np.ndarray, lay: Layout, class_of: dict[int, int]) -> None:
    cls = np.zeros(labels.shape, np.int64)
    inst = np.zeros(labels.shape, np.uint8)
    for i in range(len(lay.objects)):
        region = labels == i + 1
        if i in class_of and region.any():
            cls[region] = class_of[i]
            inst[region] = (i % 250) + 1
    rgb = np.zeros(labels.shape + (3,), np.uint8)
    rgb[..., 0] = (cls // 256) * 10
    rgb[..., 1] = cls % 256
    rgb[..., 2] = inst
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)


def write_ade20k(root: Path, n_train: int, n_val: int, seed: int = 0) -> Path:
    """ADE20K_2021_17_01 layout under `root`; returns the release folder (holding index_ade20k.pkl)."""
    names: list[str] = []
    index: dict[str, list[Any]] = {"filename": [], "folder": [], "scene": []}
    present: list[tuple[int, int]] = []  # (class index, image column): one per instance

    def class_index(generic: str) -> int:
        name = ADE_NAMES.get(generic, generic)
        if name not in names:
            names.append(name)
        return names.index(name) + 1

    for split, n, tag in (("training", n_train, "train"), ("validation", n_val, "val")):
        for k, lay in enumerate(layouts(n, seed * 7 + (8 if tag == "train" else 9))):
            scene = ADE_SCENES[lay.scene.name]
            folder = f"ADE20K_2021_17_01/images/ADE/{split}{scene}"
            filename = f"ADE_{tag}_{k + 1:08d}.jpg"
            _image(root / folder / filename, lay.width, lay.height)
            class_of = {i: class_index(o.cat) for i, o in enumerate(lay.objects)}
            present += [(c, len(index["filename"])) for c in class_of.values()]
            _ade_seg(root / folder / filename.replace(".jpg", "_seg.png"), lay.label_map(), lay, class_of)
            index["filename"].append(filename)
            index["folder"].append(folder)
            index["scene"].append(scene)
    release = root / "ADE20K_2021_17_01"
    release.mkdir(parents=True, exist_ok=True)
    presence = np.zeros((len(names), len(index["filename"])), dtype=np.int64)
    for c, col in present:
        presence[c - 1, col] += 1
    full = {**index, "objectnames": names, "objectPresence": presence}
    with open(release / "index_ade20k.pkl", "wb") as f:
        pickle.dump(full, f, protocol=4)
    return release
