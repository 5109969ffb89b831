"""`scar build` then `scar validate` pass on every real-format fixture (in-process CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from scar.cli import main
from tests.fixtures_sources import (
    write_ade20k_full,
    write_ade_challenge,
    write_coco,
    write_cocostuff,
    write_refer,
    write_visual_genome,
)


def _coco(tmp: Path) -> tuple[list[str], Path]:
    ann, images = write_coco(tmp)
    return ["--annotations", str(ann)], images


def _refcoco_plus(tmp: Path) -> tuple[list[str], Path]:
    root, images = write_refer(tmp, "refcoco+", "unc")
    return ["--root", str(root)], images


def _refcocog(tmp: Path) -> tuple[list[str], Path]:
    root, images = write_refer(tmp, "refcocog", "umd")
    return ["--root", str(root)], images


def _vg(tmp: Path) -> tuple[list[str], Path]:
    root, images = write_visual_genome(tmp)
    return ["--root", str(root)], images


def _cocostuff(tmp: Path) -> tuple[list[str], Path]:
    stuff, things, _, images = write_cocostuff(tmp)
    return ["--annotations", str(stuff), "--annotations", str(things)], images


def _ade_full(tmp: Path) -> tuple[list[str], Path]:
    release = write_ade20k_full(tmp)
    return ["--root", str(release)], tmp


def _ade_challenge(tmp: Path) -> tuple[list[str], Path]:
    base = write_ade_challenge(tmp)
    return ["--root", str(base)], base


CASES = {
    "coco": ("coco", _coco),
    "refcoco+": ("refcoco+", _refcoco_plus),
    "refcocog": ("refcocog", _refcocog),
    "vg": ("vg", _vg),
    "cocostuff": ("cocostuff", _cocostuff),
    "ade20k-full": ("ade20k", _ade_full),
    "ade20k-challenge": ("ade20k", _ade_challenge),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_build_then_validate(tmp_path: Path, case: str) -> None:
    source, make = CASES[case]
    args, images = make(tmp_path / "data")
    out = tmp_path / "out"
    code = main(["build", "--source", source, *args, "--images", str(images), "--out", str(out), "--no-progress"])
    assert code == 0
    assert main(["validate", str(out), "--images", str(images)]) == 0
    rows = sum(pq.read_metadata(p).num_rows for p in (out / source).glob("*.parquet"))
    stats = json.loads((out / "stats.json").read_text())
    assert rows > 0, stats
    if case == "coco":
        assert rows == 2
        text = json.dumps(stats)
        for reason in ("crowd region", "degenerate polygon", "missing image file", "RLE size disagrees with image"):
            assert reason in text
