"""A build's tasks keep their names and their data's identity wherever the build goes: copied, renamed,
exported (hub and official layouts); two different builds under one name are never merged; the official
layout evaluates as its LAYOUT.md says; a build folder is not taken for results."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from evaluators.leaderboard import build_leaderboard
from evaluators.task_selection import load_tasks, select_tasks
from scar.cli import main
from scar.core.errors import ScarError
from scar.export.hub import export_hub
from scar.export.official import export_official
from scar.publish.build_identity import IDENTITY_NAME, read_identity, write_identity
from tests.eval_fixtures import TEST_MODEL
from tests.realistic import writers

pytestmark = pytest.mark.usefixtures("test_model_registered")


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _coco_build(base: Path, seed: int, name: str = "cocob") -> Path:
    files, images = writers.write_coco(base / "raw", 4, 6, seed=seed)
    out = base / name
    argv = ["build", "--source", "coco", *(a for f in files for a in ("--annotations", str(f))), "--images", str(images),
            "--out", str(out), "--no-progress", "--no-audit"]
    assert main(argv) == 0
    # What the build itself does once `scar.build.stats.write_stats_and_card` calls it (idempotent).
    write_identity(out)
    return out


@pytest.fixture(scope="module")
def cocob(tmp_path_factory) -> Path:
    return _coco_build(tmp_path_factory.mktemp("one"), seed=1)


@pytest.fixture(scope="module")
def other_cocob(tmp_path_factory) -> Path:
    """Another build with other rows, in a folder of the same name."""
    return _coco_build(tmp_path_factory.mktemp("two"), seed=2)


def _names(root: Path) -> list[str]:
    return [t.name for t in select_tasks("built", root)]


def _content(root: Path, spec: str = "built", images: Path | None = None) -> str:
    (task,) = load_tasks(select_tasks(spec, root), scar_root=root, scar_images=images, progress=False)
    return task.provenance["content_fingerprint"]


def _eval(root: Path, out: Path, *extra: str) -> int:
    return main(["eval", "--model", TEST_MODEL, "--device", "cpu", "--tasks", "built", "--scar-root", str(root),
                 "--out", str(out), "--no-progress", *extra])


def test_the_build_records_its_name_and_fingerprint(cocob):
    identity = read_identity(cocob)
    assert identity["name"] == "cocob" and set(identity["sources"]) == {"coco"}
    assert identity["sources"]["coco"]["eval_rows"] > 0 and len(identity["fingerprint"]) == 16
    again = write_identity(cocob)
    assert again == identity  # deterministic: the same rows give the same identity


def test_names_survive_copy_rename_and_export(cocob, tmp_path):
    expected = _content(cocob)
    assert _names(cocob) == ["cocob/coco"]

    moved = tmp_path / "renamed-elsewhere"
    shutil.copytree(cocob, moved)
    assert _names(moved) == ["cocob/coco"] and _content(moved) == expected
    write_identity(moved)  # a later build step in the moved folder keeps the recorded name
    assert read_identity(moved)["name"] == "cocob"

    hub = tmp_path / "exp_hub"
    export_hub(cocob, hub)
    assert _names(hub) == ["cocob/coco"] and _content(hub) == expected
    assert read_identity(hub)["sources"] == read_identity(cocob)["sources"]

    official = tmp_path / "exp_official"
    export_official(cocob, official)
    root = official / "SCaR-eval"
    assert _names(root) == ["cocob/coco"]
    assert _content(root, images=official / "images") == expected  # image paths changed, rows did not
    assert (official / IDENTITY_NAME).is_file()
    for alias in ("coco", "cocob/coco", "SCAR_coco_val_filtered", "SCAR_coco_val", "scar_coco"):
        assert [t.name for t in select_tasks(alias, root)] == ["cocob/coco"], alias


def test_results_of_a_build_and_its_exports_share_one_column(cocob, tmp_path, capsys):
    hub, official = tmp_path / "exp_hub", tmp_path / "exp_official"
    export_hub(cocob, hub)
    export_official(cocob, official)
    assert _eval(cocob, tmp_path / "r1") == 0
    assert _eval(hub, tmp_path / "r2") == 0
    # the same rows: the official export's results may join the build's run folder
    assert _eval(official / "SCaR-eval", tmp_path / "r1", "--scar-images", str(official / "images")) == 0
    capsys.readouterr()
    build_leaderboard([tmp_path / "r1", tmp_path / "r2"], tmp_path / "board")
    assert "warning" not in capsys.readouterr().err
    scar_md = (tmp_path / "board" / "scar.md").read_text()
    assert "cocob/coco" in scar_md and "cocob/coco@" not in scar_md


def test_two_builds_with_one_name_are_never_merged(cocob, other_cocob, tmp_path, capsys):
    assert cocob.name == other_cocob.name and _names(cocob) == _names(other_cocob) == ["cocob/coco"]
    assert _content(cocob) != _content(other_cocob)
    assert _eval(cocob, tmp_path / "a") == 0
    assert _eval(other_cocob, tmp_path / "b") == 0
    # into the same results folder: refused, not overwritten
    assert _eval(other_cocob, tmp_path / "a") == 2
    assert "another" in capsys.readouterr().err

    build_leaderboard([tmp_path / "a", tmp_path / "b"], tmp_path / "board")
    err = capsys.readouterr().err
    assert "warning: task cocob/coco: results on 2 different data sets" in err
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    columns = {c for row in board["rows"] for c in row["values"]}
    split = sorted(c for c in columns if c.startswith("cocob/coco"))
    assert len(split) == 2 and all(re.fullmatch(r"cocob/coco@[0-9a-f]{8}", c) for c in split)
    scar_md = (tmp_path / "board" / "scar.md").read_text()
    assert "## Data warnings" in scar_md and all(c in scar_md for c in split)


def test_the_official_layout_evaluates_as_its_layout_md_says(cocob, tmp_path, monkeypatch):
    official = tmp_path / "exp_official"
    export_official(cocob, official)
    layout = (official / "LAYOUT.md").read_text()
    (line,) = [m for m in re.findall(r"`(scar eval [^`]+)`", layout)]
    argv = shlex.split(line)[1:]
    argv[argv.index("MODEL")] = TEST_MODEL
    assert "| `cocob/coco` |" in layout
    monkeypatch.chdir(official)
    assert main([*argv, "--device", "cpu", "--out", str(tmp_path / "results"), "--no-progress"]) == 0
    (result,) = (tmp_path / "results" / TEST_MODEL).glob("*/cocob_coco.json")
    record = json.loads(result.read_text())
    assert record["task"] == "cocob/coco" and record["data_provenance"]["kind"] == "self-built"
    assert record["data_provenance"]["content_fingerprint"] == _content(cocob)
    assert record["data_provenance"]["build"] == "cocob"


def test_a_build_folder_is_not_taken_for_results(cocob, tmp_path, capsys):
    assert main(["leaderboard", "--results", str(cocob), "--out", str(tmp_path / "board")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "a `scar build` (or `scar export`) folder, not `scar eval` results" in err
    with pytest.raises(ScarError, match="not `scar eval` results"):
        build_leaderboard([cocob.parent], tmp_path / "board")
