"""COCO and RefCOCO fixtures whose pictures hold as few categories as real COCO pictures do, with their
COCO-Stuff stuff, to measure how many entities the offline generator keeps with and without `--stuff`.

The layouts of tests/realistic are scenes full of cues (an oven, a sink and a refrigerator in every
kitchen); real COCO is not. People are the most common category by far (in 64,115 of the 118,287
train2017 images) and an image holds 3.5 categories on average (Lin et al. 2014) with a long tail:
many pictures show a person and nothing else, or a person with a bag or a phone. Each picture here
starts from a realistic layout (its stuff and its things where they belong) and keeps, by a draw:

- PEOPLE_ONLY: only people (1-3, added where the scene had none);
- PEOPLE_SMALL: people and 1-2 small objects (the scene's own carried things, else a phone, a bag,
  a backpack or a tie);
- FEW: 1-3 of its categories;
- the full layout otherwise.

People carry the same things wherever they are: in every picture, each person holds a phone, a bag,
a backpack or a tie with probability CARRY (so a bag is no sign of the street in the build's own
statistics, as it is none in COCO).

A share CLOSE_UP of the people pictures are close-ups: COCO-Stuff then sees a single stuff class (the
layout's broadest layer, e.g. only a wall). Stuff files are written as COCO-Stuff does (one RLE region
per class per image, 183 "other" over the things, names like "wall-concrete", "sky-other") with
2017-style file names; the RefCOCO instances use 2014-style names, so the two are matched by the
number in the name.

`python -m tests.realistic.coco_stats OUT [--images N]` builds coco and refcoco with and without the
stuff and prints the keep rates (the README's figures).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from tests.realistic.layouts import PERSON, PERSON_ASPECT, Layout, Placed, T, _place_thing, make_layout
from tests.realistic.vocab import COCO_IDS, COCOSTUFF_IDS
from tests.realistic.writers import _coco_document, _image, _json, stuff_annotation, stuff_regions, write_refer_files

PEOPLE_ONLY, PEOPLE_SMALL, FEW = 0.26, 0.12, 0.32
CLOSE_UP = 0.12  # of the people-only and people-and-small-object pictures
CARRY = 0.15
SMALL = ("cell phone", "handbag", "backpack", "tie")
CARRIED = frozenset({"cell phone", "handbag", "backpack", "tie", "umbrella", "cup", "bottle", "book", "frisbee", "sports ball",
                     "tennis racket", "baseball glove", "baseball bat", "skateboard", "surfboard", "skis", "snowboard", "kite"})  # fmt: skip
PERSON_THING = T("person", 1.0, (1, 1), "ground", PERSON, PERSON_ASPECT)
SMALL_THING = {name: T(name, 1.0, (1, 1), "held:person", (0.03, 0.06), (0.6, 1.4)) for name in SMALL}


def _keep(lay: Layout, keep: list[int]) -> Layout:
    """The layout with only these objects (indices into lay.objects), parents renumbered."""
    where = {old: new for new, old in enumerate(keep)}
    objects = [replace(lay.objects[i], parent=where.get(lay.objects[i].parent)) if lay.objects[i].parent is not None
               else lay.objects[i] for i in keep]  # fmt: skip
    return replace(lay, objects=objects)


def coco_like(lay: Layout, rng: np.random.Generator) -> Layout:
    """A realistic layout thinned to what a COCO picture of that place typically annotates."""
    out, people_only = _thinned(lay, rng)
    if not people_only:
        for _ in [o for o in out.objects if o.cat == "person"]:
            if rng.random() < CARRY:
                placed = _place_thing(SMALL_THING[SMALL[int(rng.integers(len(SMALL)))]], out, rng)
                if placed is not None:
                    out.objects.append(placed)
    return out


def _thinned(lay: Layout, rng: np.random.Generator) -> tuple[Layout, bool]:
    """(the layout with fewer things, whether it is a people-only picture)."""
    stuff = [i for i, o in enumerate(lay.objects) if o.stuff]
    things = [i for i, o in enumerate(lay.objects) if not o.stuff]
    u = float(rng.random())
    if u < PEOPLE_ONLY + PEOPLE_SMALL:
        people = [i for i in things if lay.objects[i].cat == "person"][:3]
        if rng.random() < CLOSE_UP and stuff:  # one stuff class: the broadest layer
            stuff = [max(stuff, key=lambda i: (lambda b: (b[2] - b[0]) * (b[3] - b[1]))(lay.objects[i].box))]
        out = _keep(lay, stuff + people)
        for _ in range(0 if people else int(rng.integers(1, 4))):
            placed = _place_thing(PERSON_THING, out, rng)
            if placed is not None:
                out.objects.append(placed)
        if u < PEOPLE_ONLY or not any(o.cat == "person" for o in out.objects):
            return out, True
        own = [lay.objects[i] for i in things if lay.objects[i].cat in CARRIED]
        for _ in range(int(rng.integers(1, 3))):
            if own and rng.random() < 0.6:
                o = own[int(rng.integers(len(own)))]
                thing = T(o.cat, 1.0, (1, 1), "held:person", (0.03, 0.08), (0.5, 1.6))
            else:
                thing = SMALL_THING[SMALL[int(rng.integers(len(SMALL)))]]
            placed = _place_thing(thing, out, rng)
            if placed is not None:
                out.objects.append(placed)
        return out, False
    if u < PEOPLE_ONLY + PEOPLE_SMALL + FEW:
        cats = sorted({lay.objects[i].cat for i in things})
        if cats:
            chosen = set(rng.choice(cats, size=min(len(cats), int(rng.integers(1, 4))), replace=False).tolist())
            return _keep(lay, stuff + [i for i in things if lay.objects[i].cat in chosen]), False
    return _keep(lay, stuff + things), False


def coco_layouts(n: int, seed: int) -> list[Layout]:
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        lay = coco_like(make_layout(rng), rng)
        if any(not o.stuff and o.cat in COCO_IDS for o in lay.objects):  # COCO lists images with annotations
            out.append(lay)
    return out


def stuff_document(lays: list[Layout], names: list[str], ids: list[int], rng: np.random.Generator) -> dict[str, Any]:
    """COCO-Stuff's stuff JSON for these pictures: one RLE region per stuff class, 183 "other" over the things."""
    categories = [{"id": i, "name": n, "supercategory": "stuff"} for n, i in COCOSTUFF_IDS.items()]
    categories.append({"id": 183, "name": "other", "supercategory": "other"})
    images, anns = [], []
    ann_id = 10_000_000
    for lay, name, image_id in zip(lays, names, ids):
        images.append({"id": image_id, "file_name": name, "width": lay.width, "height": lay.height})
        by_class = stuff_regions(lay, rng)
        for cls in sorted(by_class):
            ann = stuff_annotation(ann_id, image_id, cls, by_class[cls], lay)
            if ann is not None:
                anns.append(ann)
                ann_id += 1
    return {"info": {"description": "COCO-Stuff-like fixture"}, "images": images, "annotations": anns, "categories": categories}


def write_coco_with_stuff(root: Path, n_train: int, n_val: int, seed: int = 0) -> tuple[list[Path], list[Path], Path]:
    """([instances_train2017, instances_val2017], [stuff_train2017, stuff_val2017], images dir)."""
    rng = np.random.default_rng(seed + 23)
    instances, stuff = [], []
    for split, n, first in (("train2017", n_train, 100_000), ("val2017", n_val, 700_000)):
        lays = coco_layouts(n, seed * 7 + (8 if split.startswith("train") else 9))
        ids = [first + k for k in range(n)]
        names = [f"{i:012d}.jpg" for i in ids]
        for lay, name in zip(lays, names):
            _image(root / "images" / split / name, lay.width, lay.height)
        instances.append(_json(root / "annotations" / f"instances_{split}.json", _coco_document(lays, names, first, first * 10)))
        stuff.append(_json(root / "annotations" / f"stuff_{split}.json", stuff_document(lays, names, ids, rng)))
    return instances, stuff, root / "images"


def write_refer_with_stuff(root: Path, dataset: str, n_images: int, seed: int = 0) -> tuple[Path, Path, Path]:
    """(refer root, images dir, stuff_train2017.json): refs over COCO-like pictures named the 2014 way,
    their stuff in a COCO-Stuff file that names them the 2017 way."""
    rng = np.random.default_rng(seed + 29)
    lays = coco_layouts(n_images, seed * 7 + 10)
    ids = [300_000 + k for k in range(n_images)]
    names = [f"COCO_train2014_{i:012d}.jpg" for i in ids]
    for lay, name in zip(lays, names):
        _image(root / "images" / name, lay.width, lay.height)
    doc = _coco_document(lays, names, ids[0], 3_000_000)
    write_refer_files(root, dataset, lays, ids, doc, rng)
    stuff = _json(root / "stuff" / "stuff_train2017.json", stuff_document(lays, [f"{i:012d}.jpg" for i in ids], ids, rng))
    return root, root / "images", stuff


def picture_stats(lays: list[Layout]) -> dict[str, float]:
    """What the fixture's pictures annotate, to compare with COCO's statistics."""
    cats = [sorted({o.cat for o in lay.objects if not o.stuff and o.cat in COCO_IDS}) for lay in lays]
    n = len(cats) or 1
    people_only = sum(c == ["person"] for c in cats)
    people_small = sum(len(c) in (2, 3) and "person" in c and set(c) - {"person"} <= CARRIED for c in cats)
    return {
        "images": len(cats),
        "with people": sum("person" in c for c in cats) / n,
        "people only": people_only / n,
        "people + 1-2 small objects": people_small / n,
        "1-3 categories": sum(1 <= len(c) <= 3 for c in cats) / n,
        "categories per image": sum(len(c) for c in cats) / n,
    }


def keep_rates(root: Path, n_images: int, seed: int = 0, workers: int = 1) -> dict[str, dict[str, Any]]:
    """Build coco and refcoco with and without --stuff: {"coco": {"without": ..., "with": ...}, ...},
    each {"entities", "samples", "keep", "scene_methods", "rejections"}."""
    from scar.build.config import BuildConfig
    from scar.build.pipeline import build
    from scar.generate.offline import OfflineGenerator
    from scar.sources import resolve_source
    from scar.sources.base import SourceOptions

    instances, stuff, images = write_coco_with_stuff(root / "raw" / "coco", n_images * 3 // 4, n_images // 4, seed)
    refer_root, refer_images, refer_stuff = write_refer_with_stuff(root / "raw" / "refer", "refcoco", n_images, seed)
    options = {
        "coco": SourceOptions(annotations=tuple(instances), images=images),
        "refcoco": SourceOptions(root=refer_root, images=refer_images),
    }
    stuff_of = {"coco": tuple(stuff), "refcoco": (refer_stuff,)}
    out: dict[str, dict[str, Any]] = {}
    for name, opts in options.items():
        for mode in ("without", "with"):
            folder = root / f"build-{name}-{mode}"
            config = BuildConfig(source=resolve_source(name), out=folder, source_options=replace(opts, stuff=stuff_of[name] if mode == "with" else ()),
                                 seed=seed, progress=False, workers=workers, audit=False)  # fmt: skip
            build(config, OfflineGenerator(seed=seed))
            splits = json.loads((folder / "stats.json").read_text())["sources"][name]["splits"]
            entities = sum(s["entities"] for s in splits.values())
            samples = sum(s["samples"] for s in splits.values())
            methods: dict[str, int] = {}
            rejections: dict[str, int] = {}
            for s in splits.values():
                for k, v in (s.get("scene_methods") or {}).items():
                    methods[k] = methods.get(k, 0) + v
                for k, v in s["rejections"]["counts"].items():
                    rejections[k] = rejections.get(k, 0) + v
            out.setdefault(name, {})[mode] = {
                "entities": entities, "samples": samples, "keep": samples / max(entities, 1),
                "scene_methods": dict(sorted(methods.items(), key=lambda kv: (-kv[1], kv[0]))),
                "rejections": dict(sorted(rejections.items(), key=lambda kv: (-kv[1], kv[0]))),
            }  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--images", type=int, default=400, help="pictures per source (coco: 3/4 train, 1/4 val)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    print(json.dumps(picture_stats(coco_layouts(args.images, args.seed * 7 + 8)), indent=1), file=sys.stderr)
    rates = keep_rates(args.out, args.images, args.seed, args.workers)
    print(json.dumps(rates, indent=1))
    for name, modes in rates.items():
        for mode, r in modes.items():
            print(f"{name} {mode} stuff: {r['entities']} entities -> {r['samples']} samples ({r['keep']:.1%})", file=sys.stderr)


if __name__ == "__main__":
    main()
