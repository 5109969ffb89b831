"""COCO-Stuff as scene evidence for coco and the refcoco family (`--stuff`), how each scene was inferred
(stats.json "scene_methods"), and scene wording with no invented adjective."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from pycocotools import mask as mask_utils

from scar.build.config import BuildConfig
from scar.build.pipeline import build, generator_prior
from scar.cli import main
from scar.core.errors import InputFileError, ScarError
from scar.core.schema import Entity, Rejected, Sample
from scar.generate.offline import OfflineGenerator
from scar.generate.offline.generator import default_scenes
from scar.generate.offline.scenes import BY_CATEGORIES, BY_LABEL, BY_ODDS, BY_SIDE, WITH_CONTEXT
from scar.sources import SourceOptions, make_source, resolve_source
from scar.sources.stuff import StuffEvidence, name_number
from tests.fixtures_sources import write_image, write_json
from tests.realistic import coco_stats
from tests.realistic.vocab import COCOSTUFF_IDS

REPO = Path(__file__).resolve().parents[1]
W, H = 400, 300
THINGS = (("person", 1, (10, 100, 60, 160)), ("dog", 18, (200, 200, 60, 40)), ("chair", 62, (300, 150, 50, 80)))
METHODS = {m + extra for m in (BY_CATEGORIES, BY_SIDE, BY_ODDS) for extra in ("", WITH_CONTEXT)} | {BY_LABEL}
STUFF_CATEGORIES = [{"id": i, "name": n, "supercategory": "stuff"} for n, i in COCOSTUFF_IDS.items()] + [
    {"id": 183, "name": "other", "supercategory": "other"}]  # fmt: skip


def _rect(box: tuple[float, float, float, float]) -> list[list[float]]:
    x, y, w, h = box
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def _stuff_ann(ann_id: int, image_id: Any, name: str, box: tuple[int, int, int, int], size: tuple[int, int] = (W, H)) -> dict[str, Any]:
    """One COCO-Stuff region (RLE of a rectangle), as the release writes it."""
    mask = np.zeros((size[1], size[0]), np.uint8)
    x, y, w, h = box
    mask[y : y + h, x : x + w] = 1
    rle = mask_utils.encode(np.asfortranarray(mask))
    return {"id": ann_id, "image_id": image_id, "category_id": 183 if name == "other" else COCOSTUFF_IDS[name], "iscrowd": 0,
            "segmentation": {"size": [size[1], size[0]], "counts": rle["counts"].decode("ascii")},
            "area": float(mask_utils.area(rle)), "bbox": [float(v) for v in box]}  # fmt: skip


def _stuff_file(path: Path, images: list[tuple[Any, str]], stuff: dict[Any, list[str]]) -> Path:
    """A stuff JSON: (id, file name) per image; per image id, stuff names laid out as horizontal bands."""
    anns: list[dict[str, Any]] = []
    for image_id, names in stuff.items():
        for k, name in enumerate(names):
            band = H // max(len(names), 1)
            anns.append(_stuff_ann(len(anns) + 1, image_id, name, (0, k * band, W, band)))
    doc = {"images": [{"id": i, "file_name": n, "width": W, "height": H} for i, n in images], "annotations": anns,
           "categories": STUFF_CATEGORIES}  # fmt: skip
    return write_json(path, doc)


def _person_dog_chair(root: Path, n: int = 3) -> tuple[Path, Path]:
    """COCO val2014 instances: n images, each a person, a dog and a chair (no category says indoor or outdoor)."""
    images, anns = [], []
    for i in range(1, n + 1):
        name = f"COCO_val2014_{i:012d}.jpg"
        write_image(root / "images" / name, W, H)
        images.append({"id": i, "file_name": name, "width": W, "height": H})
        for cat, cid, box in THINGS:
            anns.append({"id": 100 * i + cid, "image_id": i, "category_id": cid, "iscrowd": 0, "bbox": list(box),
                         "segmentation": _rect(box), "area": float(box[2] * box[3])})  # fmt: skip
    cats = [{"id": cid, "name": cat} for cat, cid, _ in THINGS]
    return write_json(root / "instances_val2014.json", {"images": images, "annotations": anns, "categories": cats}), root / "images"


def _generate(source_name: str, options: SourceOptions) -> list[tuple[Entity, Sample | Rejected]]:
    source = make_source(source_name, options)
    gen = OfflineGenerator(seed=0)
    out = []
    for split in ("train", "eval"):
        records = iter(source.iter_records(split))
        first = next(records, None)
        if first is None:
            continue
        generator_prior(gen, source, split)  # as the build does: once the loader has parsed its files
        out += [(r, gen.generate_one(r)) for r in (first, *records) if isinstance(r, Entity)]
    return out


def _side(scene: str) -> bool | None:
    """True/False when a gold scene phrase says indoor/outdoor (neutral or a table scene), else None."""
    table = default_scenes()
    if scene.endswith("an indoor scene"):
        return True
    if scene.endswith("an outdoor scene"):
        return False
    names = [n for n in table.names if scene.endswith(" " + n)]
    return table.scenes[max(names, key=len)].indoor if names else None


# ---------------------------------------------------------------- evidence turns rejections into golds


def test_stuff_turns_a_picture_without_scene_evidence_into_golds(tmp_path: Path) -> None:
    instances, images = _person_dog_chair(tmp_path)
    # the stuff release names the same pictures the 2017 way under other ids; picture 3 has no stuff entry
    stuff = _stuff_file(tmp_path / "stuff_train2017.json", [(5001, "000000000001.jpg"), (5002, "000000000002.jpg")],
                        {5001: ["sky-other", "grass"], 5002: ["wall-tile", "floor-tile"]})  # fmt: skip
    without = _generate("coco", SourceOptions(annotations=(instances,), images=images))
    assert len(without) == 9 and all(isinstance(r, Rejected) and r.reason == "no scene evidence" for _, r in without)
    with_stuff = _generate("coco", SourceOptions(annotations=(instances,), images=images, stuff=(stuff,)))
    by_image: dict[str, list[Sample | Rejected]] = {}
    for e, r in with_stuff:
        by_image.setdefault(e.image_id, []).append(r)
    for image_id, indoor in (("1", False), ("2", True)):
        assert all(isinstance(s, Sample) for s in by_image[image_id]), by_image[image_id]
        for s in by_image[image_id]:
            assert isinstance(s, Sample)
            assert _side(s.gold.scene) is indoor, s.gold.text
            assert s.scene_method is not None and s.scene_method.endswith(WITH_CONTEXT)
            assert s.entity.context == (("grass", "sky-other") if image_id == "1" else ("floor-tile", "wall-tile"))
            # scene swaps are on the other side
            for neg, kind in zip(s.negatives, s.neg_types):
                if kind == "scene":
                    assert _side(neg[len(f"{s.gold.object} {s.gold.relation} "):]) is (not indoor), neg
    assert all(isinstance(r, Rejected) and r.reason == "no scene evidence" for r in by_image["3"])


def test_stuff_evidence_keeps_realistic_person_only_pictures_true(tmp_path: Path) -> None:
    """On COCO-like pictures of people and little else: the stuff keeps them, and says their true side."""
    instances, stuff, images = coco_stats.write_coco_with_stuff(tmp_path / "raw", 80, 0, seed=4)
    lays = coco_stats.coco_layouts(80, 4 * 7 + 8)
    truth = {str(100_000 + k): lay.scene.indoor for k, lay in enumerate(lays)}
    opts = SourceOptions(annotations=(instances[0],), images=images)
    without = {e.id: r for e, r in _generate("coco", opts)}
    with_stuff = {e.id: (e, r) for e, r in _generate("coco", replace(opts, stuff=(stuff[0],)))}
    people_only = [i for i, (e, _) in with_stuff.items() if {e.category, *(n.category for n in e.neighbours)} == {"person"}]
    assert len(people_only) >= 15
    rescued = [i for i in people_only if isinstance(without[i], Rejected) and isinstance(with_stuff[i][1], Sample)]
    assert len(rescued) >= 0.5 * len(people_only)
    for i in rescued:
        e, s = with_stuff[i]
        assert isinstance(s, Sample) and _side(s.gold.scene) is truth[e.image_id], (s.gold.text, e.context)


# ---------------------------------------------------------------- matching


def test_matching_by_2014_and_2017_names_and_by_id(tmp_path: Path) -> None:
    path = _stuff_file(
        tmp_path / "stuff_val2017.json",
        [(9001, "000000000042.jpg"), (7, "kitchen.jpg"), ("12", "photo-12.jpg")],
        {9001: ["grass", "sky-other", "other"], 7: ["wall-tile"], "12": ["road"]},
    )
    doc = json.loads(path.read_text())
    doc["annotations"].append(_stuff_ann(99, 9001, "snow", (0, 0, 10, 10)))  # 0.08% of the picture: no evidence
    write_json(path, doc)
    stuff = StuffEvidence([path])
    assert name_number("COCO_train2014_000000000042.jpg") == name_number("000000000042.jpg") == 42
    assert stuff.find(42, "COCO_train2014_000000000042.jpg")[1] == ("grass", "sky-other")  # 2014 name, other id
    assert stuff.find(1, "000000000042.jpg")[1] == ("grass", "sky-other")  # 2017 name
    assert stuff.find("9001", None)[1] == ("grass", "sky-other")  # id alone, as a string
    assert stuff.find(9001, "COCO_train2014_000000000043.jpg") == (None, ())  # same id, names of two pictures
    assert stuff.find(7, "COCO_val2014_000000000099.jpg")[1] == ("wall-tile",)  # its name has no number: by id
    assert stuff.find(12, "x.jpg")[1] == ("road",)
    assert stuff.find(8, "y.jpg") == (None, ())


def test_coco_panoptic_stuff_counts_too(tmp_path: Path) -> None:
    """A panoptic JSON (segments_info; stuff = isthing 0, names ending in -merged) gives the same evidence."""
    doc = {
        "images": [{"id": 42, "file_name": "000000000042.jpg", "width": W, "height": H}],
        "annotations": [{"image_id": 42, "file_name": "000000000042.png", "segments_info": [
            {"id": 1, "category_id": 1, "area": 5000, "bbox": [0, 0, 50, 100], "iscrowd": 0},
            {"id": 2, "category_id": 187, "area": 60000, "bbox": [0, 0, W, 150], "iscrowd": 0},
            {"id": 3, "category_id": 193, "area": 50000, "bbox": [0, 150, W, 150], "iscrowd": 0}]}],
        "categories": [{"id": 1, "name": "person", "isthing": 1}, {"id": 187, "name": "sky-other-merged", "isthing": 0},
                       {"id": 193, "name": "grass-merged", "isthing": 0}],
    }  # fmt: skip
    stuff = StuffEvidence([write_json(tmp_path / "panoptic_val2017.json", doc)])
    names = stuff.find(42, "COCO_val2014_000000000042.jpg")[1]
    assert names == ("grass", "sky-other")
    table = default_scenes()
    tax = OfflineGenerator().taxonomy
    choice = table.choose(None, ["person"], context=[tax.resolve(n) or n for n in names])
    assert (choice.name, choice.indoor, choice.method) == (None, False, BY_SIDE + WITH_CONTEXT)


def test_refcoco_finds_the_stuff_of_its_2014_named_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, images, stuff = coco_stats.write_refer_with_stuff(tmp_path, "refcoco", 30, seed=2)
    entities = [e for e, _ in _generate("refcoco", SourceOptions(root=root, images=images, stuff=(stuff,)))]
    assert entities and all(e.context for e in entities)
    assert all(e.image_path.startswith("COCO_train2014_") for e in entities)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all("COCO-Stuff scene evidence for" in line and "warning" not in line for line in lines)
    for line in lines:
        matched, _, total = line.split("evidence for ")[1].split(" images")[0].partition(" of ")
        assert matched == total


def test_an_unmatched_stuff_file_is_a_one_line_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    instances, images = _person_dog_chair(tmp_path)
    stuff = _stuff_file(tmp_path / "stuff_other.json", [(77, "000000000777.jpg")], {77: ["grass"]})
    records = list(make_source("coco", SourceOptions(annotations=(instances,), images=images, stuff=(stuff,))).iter_records("eval"))
    assert all(not r.context for r in records if isinstance(r, Entity))
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "scar build: warning: coco eval: none of the 3 images is in the --stuff files (stuff_other.json: 0); they are "
        "matched by the number in the file name or by image id: are they the same COCO images?"
    ]


def test_bad_stuff_files_stop_with_one_line_naming_the_file(tmp_path: Path) -> None:
    instances, images = _person_dog_chair(tmp_path)
    for path, expected in (
        (instances, "no COCO-Stuff stuff category"),  # a things file given as --stuff
        (write_json(tmp_path / "list.json", [1, 2]), "not a COCO-Stuff annotation file"),
        (tmp_path / "missing.json", "file not found"),
    ):
        source = make_source("coco", SourceOptions(annotations=(instances,), images=images, stuff=(path,)))
        with pytest.raises(InputFileError) as info:
            list(source.iter_records("eval"))
        assert str(path) in str(info.value) and expected in str(info.value) and "\n" not in str(info.value)


def test_the_cli_takes_stuff_only_for_sources_on_coco_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["build", "--out", str(tmp_path / "out"), "--stuff", str(tmp_path / "s.json")]
    assert main([*argv, "--source", "cocostuff", "--annotations", str(tmp_path / "x.json")]) == 2
    assert main([*argv, "--source", "vg", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == "scar: error: --source cocostuff does not use --stuff (it takes --root, --images, --annotations)"
    assert err[1].startswith("scar: error: --source vg does not use --stuff")


# ---------------------------------------------------------------- stats.json, manifest, determinism


def test_stats_count_how_each_scene_was_inferred(tmp_path: Path) -> None:
    instances, stuff, images = coco_stats.write_coco_with_stuff(tmp_path / "raw", 60, 20, seed=1)
    opts = SourceOptions(annotations=tuple(instances), images=images)
    for mode, options in (("without", opts), ("with", replace(opts, stuff=tuple(stuff)))):
        out = tmp_path / mode
        build(BuildConfig(source=resolve_source("coco"), out=out, source_options=options, seed=0, progress=False, workers=2, shard_size=150,
                          audit=False), OfflineGenerator(seed=0))  # fmt: skip
        splits = json.loads((out / "stats.json").read_text())["sources"]["coco"]["splits"]
        for split in splits.values():
            methods = split["scene_methods"]
            assert set(methods) <= METHODS and sum(methods.values()) == split["samples"]
            assert any(k.endswith(WITH_CONTEXT) for k in methods) is (mode == "with")
            assert list(methods.values()) == sorted(methods.values(), reverse=True)
        if mode == "with":
            manifest = json.loads((out / "coco" / ".build-manifest.json").read_text())
            assert manifest["source_options"]["stuff"] == ["stuff_train2017.json", "stuff_val2017.json"]
            # a rerun into the same folder with other evidence would mix rows made two ways
            with pytest.raises(ScarError, match="other settings"):
                build(BuildConfig(source=resolve_source("coco"), out=out, source_options=replace(options, stuff=(stuff[0],)), seed=0,
                                  progress=False, workers=1, audit=False), OfflineGenerator(seed=0))  # fmt: skip


def test_stuff_builds_are_the_same_under_any_hash_seed(tmp_path: Path) -> None:
    instances, stuff, images = coco_stats.write_coco_with_stuff(tmp_path / "raw", 50, 20, seed=5)
    args = [*(a for f in instances for a in ("--annotations", str(f))), *(a for f in stuff for a in ("--stuff", str(f))),
            "--images", str(images), "--no-progress", "--no-audit"]  # fmt: skip
    rows = []
    for seed, workers in (("1", "1"), ("2", "2")):
        out = tmp_path / f"out{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-m", "scar", "build", "--source", "coco", *args, "--out", str(out), "--workers", workers],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert "COCO-Stuff scene evidence for 50 of 50 images" in done.stderr
        rows.append([pq.read_table(p).to_pylist() for p in sorted(out.glob("coco/*.parquet"))])
        rows.append(json.loads((out / "stats.json").read_text())["sources"]["coco"]["splits"])
    assert rows[0] == rows[2] and rows[1] == rows[3]


# ---------------------------------------------------------------- the keep rate (README figures)


def test_keep_rate_on_coco_like_pictures(tmp_path: Path) -> None:
    rates = coco_stats.keep_rates(tmp_path, 600, seed=0, workers=2)
    for name in ("coco", "refcoco"):
        without, with_stuff = rates[name]["without"], rates[name]["with"]
        assert with_stuff["entities"] == without["entities"] >= 900
        assert with_stuff["keep"] >= 0.95, (name, with_stuff)
        assert without["keep"] < 0.8 < with_stuff["keep"]  # person-only pictures are lost without the stuff
        assert with_stuff["rejections"].get(f"{name}: no scene evidence", 0) < without["rejections"][f"{name}: no scene evidence"] / 10


# ---------------------------------------------------------------- no invented adjective


def _scene_phrases() -> set[str]:
    """Every scene part a caption may end with: each table scene and neutral phrase, framed or not."""
    table = default_scenes()
    out = set()
    for name in table.names:
        prep, np_ = table.phrase(name, table.scenes[name].indoor)
        out |= {f"{prep} {np_}", np_}
    for side in (True, False):
        prep, np_ = table.phrase(None, side)
        out |= {f"{prep} {np_}", np_}
    return out


def test_no_scene_adjective_in_golds_or_swaps(tmp_path: Path) -> None:
    phrases = _scene_phrases()
    assert "on a beach" in phrases and "an indoor scene" in phrases
    instances, stuff, images = coco_stats.write_coco_with_stuff(tmp_path / "raw", 40, 0, seed=6)
    results = _generate("coco", SourceOptions(annotations=(instances[0],), images=images, stuff=(stuff[0],)))
    results += _generate("demo", SourceOptions(images=tmp_path / "demo", extra={"demo_images": 30}))
    samples = [r for _, r in results if isinstance(r, Sample)]
    assert len(samples) > 100
    for s in samples:
        gold_scene = s.gold.scene
        assert gold_scene in phrases, s.gold.text
        for neg, kind in zip(s.negatives, s.neg_types):
            if kind == "scene":
                assert neg[len(f"{s.gold.object} {s.gold.relation} "):] in phrases, neg


def test_a_source_label_keeps_its_own_words() -> None:
    """An adjective the source gives (its scene label) is evidence and stays; the table adds none."""
    table = default_scenes()
    choice = table.choose("sunny_terrace", ["chair"])
    assert choice.name == "sunny terrace" and choice.method == BY_LABEL
    assert table.phrase(choice.name, choice.indoor) == ("in", "a sunny terrace")
    assert table.phrase("beach", False) == ("on", "a beach")
