"""`scar export`: the official layout read by our reproduction of the official loaders, the hub layout and
the build's own README read by `datasets.load_dataset`, and every refusal (foreign --out, unsafe paths)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from PIL import Image

from evaluators.tasks.catalog import SCAR_TASKS
from evaluators.tasks.scar import official_query_text
from scar.cli import main
from scar.core.errors import ScarError
from scar.core.schema import OFFICIAL_EVAL_COLUMNS, OFFICIAL_TRAIN_COLUMNS
from scar.export import names
from scar.export.hub import export_hub
from scar.export.images import COPY, NONE
from scar.export.official import export_official
from tests import official_loaders
from tests.realistic import writers


@pytest.fixture(autouse=True)
def _datasets_cache(tmp_path, monkeypatch):
    import datasets.config

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def _build(argv: list[str]) -> None:
    assert main(["build", *argv, "--no-progress", "--no-audit"]) == 0


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "build"
    _build(["--source", "demo", "--out", str(out), "--limit", "12"])
    return out


@pytest.fixture(scope="module")
def two_sources(tmp_path_factory) -> Path:
    """demo (images inside the build) and refcoco+ (images elsewhere) in one --out."""
    base = tmp_path_factory.mktemp("two")
    root, images, _ = writers.write_refer(base / "refer", "refcoco+", 12, seed=1)
    out = base / "build"
    _build(["--source", "demo", "--out", str(out), "--limit", "10"])
    _build(["--source", "refcoco+", "--root", str(root), "--images", str(images), "--out", str(out)])
    return out


def _rows(folder: Path, split: str) -> list[dict]:
    return [r for f in sorted(folder.glob(f"{split}-*.parquet")) for r in pq.read_table(f).to_pylist()]


def _no_link_out(folder: Path) -> None:
    real = os.path.realpath(folder)
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            assert not os.path.islink(path), path
            assert os.path.realpath(path).startswith(real + os.sep)


# ---------------------------------------------------------------- official layout


def test_names_follow_the_release_and_the_source_otherwise():
    for info in SCAR_TASKS:
        assert names.eval_file(info.source) == info.files[0]
    assert names.train_file("refcoco+") == "SCAR_RefCOCO_plus.parquet"
    assert names.eval_file("demo") == "SCAR_demo_val_filtered.parquet"
    assert names.eval_file("my-set.v2") == "SCAR_my_set_v2_val_filtered.parquet"
    with pytest.raises(ScarError, match="would both be exported"):
        names.check_unique(["my-set", "my_set"])


def test_official_layout_is_read_unchanged_by_the_official_loaders(two_sources, tmp_path):
    out = tmp_path / "official"
    result = export_official(two_sources, out)
    assert set(result.files) == {"SCaR-eval/SCAR_demo_val_filtered.parquet", "SCaR-eval/SCAR_RefCOCO_plus_val_filtered.parquet",
                                 "SCaR-train/SCAR_demo.parquet", "SCaR-train/SCAR_RefCOCO_plus.parquet"}
    assert result.images.linked > 0 and result.images.copied == 0
    _no_link_out(out)

    # Eval, through the config file written for the official code: dataset_name + image_root, nothing else.
    evals = yaml.safe_load((out / "eval_scar.yaml").read_text())
    assert set(evals) == {"SCAR_demo_val", "SCAR_RefCOCO_plus_val"}
    for key, source in (("SCAR_demo_val", "demo"), ("SCAR_RefCOCO_plus_val", "refcoco+")):
        entry = evals[key]
        assert entry["dataset_parser"] == "scar_i2t" and entry["dataset_split"] == "test"
        read = official_loaders.read_eval(out / "SCaR-eval", entry["dataset_name"], entry["image_root"])
        built = _rows(two_sources / source, "eval")
        assert len(read) == len(built) > 0
        for got, row in zip(read, built):
            assert got["cand_text"] == row["tgt_text"] and len(got["cand_text"]) == 10
            assert got["dataset_infos"]["label_name"] == row["tgt_text"][0]
            x, y, w, h = row["bbox"]
            assert got["bboxes"] == [x, y, x + w, y + h]
            expected = official_query_text(row["qry_text"], row["bbox"]).replace("<|image_1|>", "<|image_pad|>")
            assert got["query_text"] == [expected]
            path = got["query_image"][0]["paths"][0]
            assert path == os.path.join(entry["image_root"], source, row["qry_image_path"])
            with Image.open(path) as image:
                assert image.size == (row["image_width"], row["image_height"])

    # Train, through its config: dataset_name / subset_name.parquet, image_dir; exactly the official columns.
    trains = yaml.safe_load((out / "train_scar.yaml").read_text())
    for key, source in (("SCAR_demo", "demo"), ("SCAR_RefCOCO_plus", "refcoco+")):
        entry = trains[key]
        file = Path(entry["dataset_name"]) / f"{entry['subset_name']}.parquet"
        assert tuple(pq.read_schema(file).names) == OFFICIAL_TRAIN_COLUMNS
        built = _rows(two_sources / source, "train")
        assert entry["num_sample_per_subset"] == len(built) > 0
        read = official_loaders.read_train(Path(entry["dataset_name"]), entry["subset_name"], entry["image_dir"], batch_size=2)
        assert len(read) == len(built) // 2 * 2  # the loader drops the last partial batch
        for got, row in zip(read, built):
            assert got["pos_text"] == row["pos_text"] == row["tgt_text"][0] and got["neg_text"] == row["neg_text"]
            assert got["pos_image"]["paths"] == [None] and got["neg_image"]["paths"] == [None]
            assert Path(got["query_image"]["paths"][0]).is_file()
        assert official_loaders.read_train(Path(entry["dataset_name"]), entry["subset_name"], entry["image_dir"]) == []

    meta = json.loads(pq.read_schema(out / "SCaR-eval/SCAR_RefCOCO_plus_val_filtered.parquet").metadata[b"scar.export"])
    assert meta["self_built"] is True and meta["source"] == "refcoco+"
    layout = (out / "LAYOUT.md").read_text()
    assert "no official counterpart" in layout and "not the official release" in layout


def test_an_official_layout_export_is_scored_and_marked_self_built(two_sources, tmp_path):
    from evaluators.cli import run_eval
    from evaluators.models import registry
    from tests.eval_fixtures import TEST_MODEL, eval_args, register_test_model

    out = tmp_path / "official"
    export_official(two_sources, out)
    assert main(["validate", str(out / "SCaR-eval"), "--images", str(out / "images")]) == 0
    register_test_model()
    try:
        argv = ["--model", TEST_MODEL, "--device", "cpu", "--tasks", "RefCOCO+", "--scar-root", str(out / "SCaR-eval"),
                "--scar-images", str(out / "images"), "--out", str(tmp_path / "results"), "--no-progress"]
        assert run_eval(eval_args(argv)) == 0
    finally:
        registry._MODELS.pop(TEST_MODEL, None)
        registry._FAMILY_LOADERS.pop("test", None)
    record = json.loads(next((tmp_path / "results" / TEST_MODEL).glob("RefCOCO+.json")).read_text())
    assert record["num_pred"] == len(_rows(two_sources / "refcoco+", "eval")) and not record["skipped"]
    assert record["data_provenance"]["kind"] == "self-built"


def test_copy_and_no_images(demo_build, tmp_path):
    copied = export_official(demo_build, tmp_path / "copy", images_mode=COPY)
    assert copied.images.copied > 0 and copied.images.linked == 0
    some = next(p for p in (tmp_path / "copy" / "images").rglob("*.png"))
    assert some.stat().st_ino != (demo_build / "images" / some.relative_to(tmp_path / "copy" / "images" / "demo")).stat().st_ino

    export_official(demo_build, tmp_path / "none", images_mode=NONE)
    assert not (tmp_path / "none" / "images").exists()
    paths = pq.read_table(tmp_path / "none" / "SCaR-eval" / "SCAR_demo_val_filtered.parquet").column("qry_image_path")
    assert all(p.startswith("demo/demo/") for p in paths.to_pylist())
    assert "--no-images" in (tmp_path / "none" / "LAYOUT.md").read_text()


# ---------------------------------------------------------------- hub layout and the build's README


def test_hub_layout_loads_with_datasets_and_is_a_portable_build(two_sources, tmp_path):
    import datasets

    out = tmp_path / "hub"
    export_hub(two_sources, out)
    _no_link_out(out)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["images_roots"] == {"demo": "images/demo", "refcoco+": "images/refcoco+"}

    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    shutil.rmtree(out)
    assert main(["validate", str(moved)]) == 0
    rows = datasets.load_dataset(str(moved))
    assert set(rows) == {"train", "test"}
    for hub_split, split in (("train", "train"), ("test", "eval")):
        expected = sum(len(_rows(moved / s, split)) for s in ("demo", "refcoco+"))
        assert rows[hub_split].num_rows == expected > 0
        assert set(OFFICIAL_EVAL_COLUMNS) <= set(rows[hub_split].column_names)
    assert rows["test"][0]["pos_text"] is None and rows["train"][0]["pos_text"]
    one = datasets.load_dataset(str(moved), "refcoco+")
    assert one["test"].num_rows == len(_rows(moved / "refcoco+", "eval"))
    assert set(one["test"]["source"]) == {"refcoco+"}
    row = one["test"][0]
    assert (moved / stats["images_roots"]["refcoco+"] / row["qry_image_path"]).is_file()


def test_every_build_writes_a_hub_readme_that_load_dataset_reads_offline(two_sources, demo_build):
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(two_sources / "README.md")
    assert card.data.license == "other"  # demo (Apache-2.0) and refcoco+ (the refer terms) differ
    assert [c["config_name"] for c in card.data.configs] == ["all", "demo", "refcoco+"]
    assert card.data.configs[0]["default"] is True
    assert [f["split"] for f in card.data.configs[0]["data_files"]] == ["train", "test"]
    assert "2510.00523" in card.text and "ReferItGame" in card.text and "| `refcoco+` |" in card.text
    assert DatasetCard.load(demo_build / "README.md").data.license == "apache-2.0"

    # The real library, in a fresh process with the hub switched off by the environment.
    script = ("import datasets, json, sys; d = datasets.load_dataset(sys.argv[1]); "
              "print(json.dumps({k: [v.num_rows, 'tgt_text' in v.column_names] for k, v in d.items()}))")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(demo_build.parent / "hf")}
    done = subprocess.run([sys.executable, "-c", script, str(demo_build)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    stats = json.loads((demo_build / "stats.json").read_text())["sources"]["demo"]["splits"]
    assert got == {"train": [stats["train"]["samples"], True], "test": [stats["eval"]["samples"], True]}


# ---------------------------------------------------------------- refusals and reruns


def test_refusals_are_one_line(demo_build, tmp_path, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    argv = ["export", str(demo_build), "--layout", "official", "--out", str(foreign), "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "not written by `scar export`" in err and len(err.splitlines()) == 1
    assert (foreign / "notes.txt").read_text() == "mine" and len(list(foreign.iterdir())) == 1

    with pytest.raises(ScarError, match="outside the build folder"):
        export_official(demo_build, demo_build / "export")
    with pytest.raises(ScarError, match="not a `scar build` output folder"):
        export_official(tmp_path, tmp_path.parent / "elsewhere-x")
    export_official(demo_build, tmp_path / "x")
    with pytest.raises(ScarError, match="holds a `--layout official` export"):
        export_hub(demo_build, tmp_path / "x")
    assert main(["export", str(demo_build), "--layout", "hub", "--out", str(tmp_path / "h"), "--copy-images",
                 "--no-images"]) == 2  # exclusive options


def test_a_rerun_reuses_images_and_removes_what_is_no_longer_exported(demo_build, two_sources, tmp_path):
    out = tmp_path / "x"
    export_official(two_sources, out)
    again = export_official(two_sources, out)
    assert again.images.reused > 0 and again.images.linked == again.images.copied == 0
    (out / "images" / "refcoco+").rename(out / "images" / "moved-away")  # a stray folder no row uses
    smaller = export_official(demo_build, out)
    assert set(smaller.files) == {"SCaR-eval/SCAR_demo_val_filtered.parquet", "SCaR-train/SCAR_demo.parquet"}
    assert not (out / "SCaR-eval" / "SCAR_RefCOCO_plus_val_filtered.parquet").exists()
    assert sorted(p.name for p in (out / "images").iterdir()) == ["demo"] and smaller.pruned > 0
    assert json.loads((out / ".scar-export.json").read_text())["complete"] is True


def _tampered(demo_build: Path, tmp_path: Path, path: str) -> Path:
    """A copy of the demo build whose first eval row names `path` as its image."""
    copy = tmp_path / "tampered"
    shutil.copytree(demo_build, copy)
    shard = copy / "demo" / "eval-00000.parquet"
    table = pq.read_table(shard)
    paths = table.column("qry_image_path").to_pylist()
    paths[0] = path
    index = table.column_names.index("qry_image_path")
    pq.write_table(table.set_column(index, table.schema.field(index), pa.array(paths, pa.string())), shard)
    return copy


@pytest.mark.parametrize("path, why", [("../stats.json", "'..' in path"), ("/etc/hostname", "absolute path"),
                                       ("demo/escape.png", "symlink resolves outside"), ("demo/missing.png", "not found")])
def test_unsafe_or_missing_images_are_refused_naming_the_row(demo_build, tmp_path, path, why):
    outside = tmp_path / "outside.png"
    Image.new("RGB", (4, 4)).save(outside)
    build = _tampered(demo_build, tmp_path, path)
    (build / "images" / "demo" / "escape.png").symlink_to(outside)
    for export in (export_official, export_hub):
        with pytest.raises(ScarError, match=why) as info:
            export(build, tmp_path / f"out-{export.__name__}")
        assert "eval-00000.parquet row 0" in str(info.value)
        assert not list((tmp_path / f"out-{export.__name__}").rglob("*.png"))
    if why == "not found":
        export_official(build, tmp_path / "out-none", images_mode=NONE)  # --no-images reads no image file
    else:
        with pytest.raises(ScarError, match=why):  # but still checks names and links
            export_official(build, tmp_path / "out-none", images_mode=NONE)


def test_a_source_name_that_is_not_a_folder_name_is_refused(demo_build, tmp_path):
    copy = tmp_path / "odd"
    shutil.copytree(demo_build, copy)
    stats = json.loads((copy / "stats.json").read_text())
    stats["sources"]["../evil"] = {"manifest": {}, "splits": {}}
    (copy / "stats.json").write_text(json.dumps(stats))
    with pytest.raises(ScarError, match="not a plain folder name"):
        export_hub(copy, tmp_path / "out")


def test_a_symlink_planted_in_an_earlier_export_is_refused(demo_build, tmp_path):
    out = tmp_path / "x"
    export_hub(demo_build, out)
    shutil.rmtree(out / "images")
    (tmp_path / "elsewhere").mkdir()
    (out / "images").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ScarError, match="symlink inside the export folder"):
        export_hub(demo_build, out)
    assert not list((tmp_path / "elsewhere").iterdir())
