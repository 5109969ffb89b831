"""Realistic fixtures of the label-map layouts: ADEChallengeData2016 (150 classes, scene list) and
COCO-Stuff `stuffthingmaps` PNGs alone (things and stuff in one map, `labels.txt`), from the same
scene layouts as the JSON writers, so each build holds a few hundred entities of real scene statistics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.realistic.layouts import layouts
from tests.realistic.vocab import ADE_SCENES, COCO_IDS, COCOSTUFF_FOR, COCOSTUFF_IDS

# The SceneParsing benchmark's 150 classes (objectInfo150 order), first name of each.
ADE150 = (
    "wall building sky floor tree ceiling road bed windowpane grass cabinet sidewalk person earth door table mountain "
    "plant curtain chair car water painting sofa shelf house sea mirror rug field armchair seat fence desk rock "
    "wardrobe lamp bathtub railing cushion base box column signboard chest_of_drawers counter sand sink skyscraper "
    "fireplace refrigerator grandstand path stairs runway case pool_table pillow screen_door stairway river bridge "
    "bookcase blind coffee_table toilet flower book hill bench countertop stove palm kitchen_island computer "
    "swivel_chair boat bar arcade_machine hovel bus towel light truck tower chandelier awning streetlight booth "
    "television_receiver airplane dirt_track apparel pole land bannister escalator ottoman bottle buffet poster stage "
    "van ship fountain conveyer_belt canopy washer plaything swimming_pool stool barrel basket waterfall tent bag "
    "minibike cradle oven ball food step tank trade_name microwave pot animal bicycle lake dishwasher screen blanket "
    "sculpture hood sconce vase traffic_light tray ashcan fan pier crt_screen plate monitor bulletin_board shower "
    "radiator glass clock flag"
).split()
_ADE150_FOR = {
    "window": "windowpane", "couch": "sofa", "dining table": "table", "potted plant": "plant", "tv": "television_receiver",
    "pavement": "sidewalk", "dirt": "earth", "playingfield": "field", "motorcycle": "minibike", "sports ball": "ball",
    "wine glass": "glass", "cup": "glass", "railroad": "path", "clouds": "sky",
}  # fmt: skip


def _ade150_index(cat: str) -> int:
    name = _ADE150_FOR.get(cat, cat).replace(" ", "_")
    return ADE150.index(name) + 1 if name in ADE150 else 0


def _image(path: Path, w: int, h: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (w, h), (118, 124, 130)).save(path, quality=50)


def write_ade_challenge(root: Path, n_train: int, n_val: int, seed: int = 0) -> Path:
    """ADEChallengeData2016 under `root` (images/, annotations/ as uint8 class maps, objectInfo150.txt,
    sceneCategories.txt); returns that folder (the build's --root)."""
    base = root / "ADEChallengeData2016"
    scene_lines = []
    for folder, n, tag in (("training", n_train, "train"), ("validation", n_val, "val")):
        for k, lay in enumerate(layouts(n, seed * 7 + (18 if tag == "train" else 19))):
            stem = f"ADE_{tag}_{k + 1:08d}"
            _image(base / "images" / folder / f"{stem}.jpg", lay.width, lay.height)
            labels = lay.label_map()
            classes = np.zeros(labels.shape, np.uint8)
            for i, o in enumerate(lay.objects):
                classes[labels == i + 1] = _ade150_index(o.cat)
            (base / "annotations" / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(classes).save(base / "annotations" / folder / f"{stem}.png")
            scene_lines.append(f"{stem} {ADE_SCENES[lay.scene.name].rsplit('/', 1)[-1]}")
    rows = ["Idx\tRatio\tTrain\tVal\tName"] + [f"{i}\t0.01\t100\t10\t{n.replace('_', ' ')}" for i, n in enumerate(ADE150, 1)]
    (base / "objectInfo150.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (base / "sceneCategories.txt").write_text("\n".join(scene_lines) + "\n", encoding="utf-8")
    return base


def write_cocostuff_maps(root: Path, n_train: int, n_val: int, seed: int = 0) -> tuple[Path, Path]:
    """COCO-Stuff's `stuffthingmaps_trainval2017/{train2017,val2017}/*.png` (value = class id - 1, 255
    unlabeled) and `labels.txt` under root/cocostuff, images under root/images: (--root, --images)."""
    rng = np.random.default_rng(seed + 23)
    base = root / "cocostuff"
    maps = base / "stuffthingmaps_trainval2017"
    for split, n, first in (("train2017", n_train, 3_000), ("val2017", n_val, 900_000)):
        for k, lay in enumerate(layouts(n, seed * 7 + (25 if split.startswith("train") else 26))):
            name = f"{first + k:012d}"
            _image(root / "images" / split / f"{name}.jpg", lay.width, lay.height)
            labels = lay.label_map()
            out = np.full(labels.shape, 255, np.uint8)
            for i, o in enumerate(lay.objects):
                if o.stuff and o.cat in COCOSTUFF_FOR:
                    options = COCOSTUFF_FOR[o.cat]
                    class_id = COCOSTUFF_IDS[options[int(rng.integers(len(options)))]]
                elif not o.stuff and o.cat in COCO_IDS:
                    class_id = COCO_IDS[o.cat]
                else:
                    continue
                out[labels == i + 1] = class_id - 1
            (maps / split).mkdir(parents=True, exist_ok=True)
            Image.fromarray(out).save(maps / split / f"{name}.png")
    names = {**{i: n for n, i in COCO_IDS.items()}, **{i: n for n, i in COCOSTUFF_IDS.items()}}
    (base / "labels.txt").write_text("".join(f"{i}: {names[i]}\n" for i in sorted(names)), encoding="utf-8")
    return base, root / "images"


# Part-level classes of the ADE20K full release: the index counts them in objectPresence (and in
# objectIsPart), although the whole-object _seg.png never shows them.
ADE_PARTS = {
    "person, individual, someone, somebody, mortal, soul": ("head", "eye", "hand", "arm", "leg", "torso", "hair"),
    "car, auto, automobile, machine, motorcar": ("wheel", "door", "window", "headlight", "mirror"),
    "bed": ("pillow", "leg", "headboard"),
    "sofa, couch, lounge": ("arm", "cushion", "seat cushion"),
    "table": ("leg", "drawer", "top"),
    "chair": ("leg", "back", "seat"),
}


def add_ade_parts(release: Path) -> None:
    """Add the part classes of ADE_PARTS to a full-release index written by `writers.write_ade20k`:
    a part is present (as a part) wherever its whole is, and a few part names (mirror, door, window,
    pillow) are also whole objects elsewhere, as in the real index."""
    import pickle

    path = release / "index_ade20k.pkl"
    with open(path, "rb") as f:
        index = pickle.load(f)
    names: list[str] = list(index["objectnames"])
    presence: np.ndarray = index["objectPresence"]
    is_part = np.zeros_like(presence)
    rows: dict[str, list[int]] = {}
    for whole, parts in ADE_PARTS.items():
        if whole not in names:
            continue
        w = names.index(whole)
        for part in parts:
            if part not in names:
                names.append(part)
            rows.setdefault(part, []).append(w)
    grown = np.zeros((len(names), presence.shape[1]), presence.dtype)
    grown[: presence.shape[0]] = presence
    parts_of = np.zeros_like(grown)
    parts_of[: presence.shape[0]] = is_part
    for part, wholes in rows.items():
        p = names.index(part)
        for w in wholes:
            count = grown[w] * (2 if part in ("eye", "hand", "arm", "leg", "wheel", "headlight") else 1)
            grown[p] += count
            parts_of[p] += count
    index.update(objectnames=names, objectPresence=grown, objectIsPart=parts_of)
    with open(path, "wb") as f:
        pickle.dump(index, f, protocol=4)
