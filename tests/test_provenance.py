"""A task says where its data comes from; eval warns and the leaderboard marks anything but the release."""

from __future__ import annotations

import json

import pytest

from evaluators.cli import run_eval
from evaluators.leaderboard import build_leaderboard
from evaluators.tasks.catalog import task
from evaluators.tasks.scar import load_scar_task
from tests.eval_fixtures import (TEST_MODEL, candidates, eval_args, scar_row, write_image,
                                 write_parquet)

OFFICIAL = "SCAR_RefCOCO_plus_val_filtered.parquet"


pytestmark = pytest.mark.usefixtures("test_model_registered")


def _rows(n: int) -> list[dict]:
    return [scar_row("a.png", candidates(f"#{i % 7} gold {i}")) for i in range(n)]


def test_official_modified_and_self_built(tmp_path):
    write_image(tmp_path / "official" / "images" / "a.png")
    write_parquet(tmp_path / "official" / OFFICIAL, _rows(2764))
    prov = load_scar_task(task("RefCOCO+"), tmp_path / "official", tmp_path / "official" / "images").provenance
    assert prov["kind"] == "official" and prov["rows"] == 2764 and len(prov["files"][OFFICIAL]) == 64
    limited = load_scar_task(task("RefCOCO+"), tmp_path / "official", tmp_path / "official" / "images", limit=5)
    assert limited.provenance["kind"] == "subsample"

    write_image(tmp_path / "small" / "images" / "a.png")
    write_parquet(tmp_path / "small" / OFFICIAL, _rows(211))
    prov = load_scar_task(task("RefCOCO+"), tmp_path / "small", tmp_path / "small" / "images").provenance
    assert prov["kind"] == "modified" and "211 rows, the release has 2764" in prov["why"]

    write_image(tmp_path / "build" / "images" / "a.png")
    generator = {"name": "offline", "model": "", "prompt_version": "v1", "seed": 0}
    rows = [{**r, "generator": generator, "source": "refcoco+"} for r in _rows(3)]
    write_parquet(tmp_path / "build" / "refcoco+" / "eval-00000.parquet", rows)
    prov = load_scar_task(task("RefCOCO+"), tmp_path / "build", tmp_path / "build" / "images").provenance
    assert prov["kind"] == "self-built" and prov["generators"] == ["offline/v1"] and prov["sources"] == ["refcoco+"]


def test_a_self_built_file_under_the_official_name_is_marked_on_the_leaderboard(tmp_path, capsys):
    write_image(tmp_path / "scar" / "images" / "a.png")
    write_parquet(tmp_path / "scar" / OFFICIAL, _rows(211))
    out = tmp_path / "results"
    argv = ["--model", TEST_MODEL, "--device", "cpu", "--tasks", "RefCOCO+", "--scar-root", str(tmp_path / "scar"),
            "--scar-images", str(tmp_path / "scar" / "images"), "--out", str(out), "--no-progress"]
    assert run_eval(eval_args(argv)) == 0
    assert "warning: RefCOCO+: not the official release (211 rows" in capsys.readouterr().err
    record = json.loads((out / TEST_MODEL / "RefCOCO+.json").read_text())
    assert record["data_provenance"]["kind"] == "modified"
    build_leaderboard([out], tmp_path / "board")
    line = next(l for l in (tmp_path / "board" / "scar.md").read_text().splitlines() if l.startswith(f"| {TEST_MODEL}"))
    assert "modified data[^" in line and "**" not in line


def test_a_source_with_no_task_is_evaluated_as_build_slash_source(tmp_path):
    from evaluators.task_selection import select_tasks

    build = tmp_path / "mybuild"
    write_image(build / "images" / "a.png")
    generator = {"name": "offline", "model": "", "prompt_version": "v1", "seed": 0}
    write_parquet(build / "coco" / "eval-00000.parquet", [{**r, "generator": generator} for r in _rows(4)])
    write_parquet(build / "refcoco+" / "eval-00000.parquet", [{**r, "generator": generator} for r in _rows(3)])
    assert [t.name for t in select_tasks("built", build)] == ["mybuild/coco", "RefCOCO+"]
    assert [t.name for t in select_tasks("coco", build)] == [t.name for t in select_tasks("mybuild/coco", build)]
    with pytest.raises(Exception, match=r"a source of the build \(coco, refcoco\+\)"):
        select_tasks("cocostuff", build)
    out = tmp_path / "results"
    argv = ["--model", TEST_MODEL, "--device", "cpu", "--tasks", "built", "--scar-root", str(build),
            "--scar-images", str(build / "images"), "--out", str(out), "--no-progress"]
    assert run_eval(eval_args(argv)) == 0
    record = json.loads((out / TEST_MODEL / "mybuild_coco.json").read_text())
    assert record["task"] == "mybuild/coco" and record["custom_task"] and record["num_pred"] == 4
    assert record["data_provenance"]["kind"] == "self-built"
    build_leaderboard([out], tmp_path / "board")
    scar_md = (tmp_path / "board" / "scar.md").read_text()
    assert "mybuild/coco" in scar_md.split("## Not in any average")[1]
