"""Images roots per source, relative to the build folder when inside it: builds move, sources share an
`--out`, and `--images` may be a parent folder of the files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from evaluators.cli import run_eval
from scar.cli import main
from scar.core.images_roots import images_root, stored_form
from tests.eval_fixtures import TEST_MODEL, eval_args
from tests.realistic import writers


pytestmark = pytest.mark.usefixtures("test_model_registered")


def test_stored_form_and_resolution(tmp_path):
    build = tmp_path / "b"
    (build / "images").mkdir(parents=True)
    assert stored_form(build / "images", build) == "images"
    assert stored_form(tmp_path / "elsewhere", build) == str((tmp_path / "elsewhere").resolve())
    (build / "stats.json").write_text(json.dumps({"images_roots": {"demo": "images", "coco": "/data/coco"}}))
    assert images_root(build, "demo") == build / "images" and images_root(build, "coco") == Path("/data/coco")
    assert images_root(build / "demo" / "eval-00000.parquet", "demo") == build / "images"  # a shard in <build>/<source>/
    assert images_root(build, "coco", override=tmp_path / "x") == tmp_path / "x"
    (build / "stats.json").write_text(json.dumps({"images_root": "/old/root"}))  # builds made before per-source roots
    assert images_root(build, "demo") == Path("/old/root")


def test_two_sources_one_out_a_shared_parent_root_and_a_moved_build(tmp_path):
    files, images = writers.write_coco(tmp_path / "raw", 8, 8, seed=0)
    shared = tmp_path / "shared"  # one folder above the COCO images, as a shared image store would be
    shutil.move(str(images), str(shared / "coco"))
    out = tmp_path / "build"
    assert main(["build", "--source", "demo", "--out", str(out), "--limit", "30", "--no-progress"]) == 0
    argv = ["build", "--source", "coco", "--out", str(out), "--images", str(shared), "--no-progress"]
    assert main([*argv, "--annotations", str(files[0]), "--annotations", str(files[1])]) == 0
    roots = json.loads((out / "stats.json").read_text())["images_roots"]
    assert roots == {"coco": str(shared.resolve()), "demo": "images"}
    paths = {r["qry_image_path"] for f in (out / "coco").glob("*.parquet") for r in pq.read_table(f).to_pylist()}
    assert paths and all(p.startswith(("coco/train2017/", "coco/val2017/")) for p in paths)  # found below --images

    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    shutil.rmtree(out)
    assert main(["validate", str(moved)]) == 0
    results = tmp_path / "results"
    assert run_eval(eval_args(["--model", TEST_MODEL, "--device", "cpu", "--tasks", "built", "--scar-root", str(moved),
                               "--out", str(results), "--no-progress"])) == 0
    done = {json.loads(p.read_text())["task"]: json.loads(p.read_text()) for p in (results / TEST_MODEL).glob("*.json")}
    # the task keeps the name the build was given, moved or not
    assert set(done) == {"Demo", "build/coco"} and all(r["num_pred"] > 0 and not r["skipped"] for r in done.values())
