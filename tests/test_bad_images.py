"""Untrusted image entries: sizes bounded, names kept inside the images root, headers checked at build time."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

from scar.cli import main
from scar.core.schema import Entity, Rejected
from scar.sources import SourceOptions, make_source
from tests.fixtures_sources import write_image, write_json

REPO = Path(__file__).resolve().parents[1]
RECT = [2, 2, 22, 2, 22, 22, 2, 22]  # box [2, 2, 20, 20]


def _coco(root: Path, images: list[dict]) -> Path:
    anns = [
        {"id": 100 + i, "image_id": img["id"], "category_id": 1, "iscrowd": 0, "bbox": [2, 2, 20, 20], "segmentation": [RECT]}
        for i, img in enumerate(images)
    ]
    return write_json(root / "instances_val2017.json", {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "oven"}]})  # oven: a kitchen, scene evidence


def _records(ann: Path, images: Path, **extra) -> tuple[list[Entity], dict[str, tuple[str, str]]]:
    source = make_source("coco", SourceOptions(annotations=(ann,), images=images, extra=extra))
    records = list(source.iter_records("eval"))
    rejected = {r.record: (r.reason, r.detail) for r in records if isinstance(r, Rejected)}
    return [r for r in records if isinstance(r, Entity)], rejected


def _build(tmp_path: Path, ann: Path, images: Path, out: str = "out") -> tuple[int, Path]:
    code = main(["build", "--source", "coco", "--annotations", str(ann), "--images", str(images),
                 "--out", str(tmp_path / out), "--no-progress", "--workers", "1"])  # fmt: skip
    return code, tmp_path / out


def test_declared_size_is_bounded_before_any_mask(tmp_path: Path) -> None:
    images = tmp_path / "images"
    write_image(images / "a.jpg", 96, 72)
    ann = _coco(tmp_path, [{"id": 1, "file_name": "a.jpg", "width": 200_000, "height": 200_000},
                           {"id": 2, "file_name": "a.jpg", "width": 96, "height": 72}])  # fmt: skip
    for extra in ({}, {"check_images": False}):  # bounded even when files are not looked at
        entities, rejected = _records(ann, images, **extra)
        assert [e.image_id for e in entities] == ["2"]
        assert rejected["coco:1"][0] == "image too large"


def test_validate_on_an_oversized_row_reports_instead_of_crashing(tmp_path: Path) -> None:
    """A build made before the bound (or by another tool) holds a 200000 x 200000 row; validate must
    not decode its mask (40 GB): it used to segfault. Run in a subprocess so a crash is a failure."""
    images = tmp_path / "images"
    write_image(images / "a.jpg", 96, 72)
    ann = _coco(tmp_path, [{"id": 1, "file_name": "a.jpg", "width": 96, "height": 72}])
    code, out = _build(tmp_path, ann, images)
    assert code == 0
    shard = next((out / "coco").glob("*.parquet"))
    table = pq.read_table(shard)
    rows = table.to_pylist()
    rows[0] |= {"image_width": 200_000, "image_height": 200_000,
                "mask": {"size": [200_000, 200_000], "counts": f"{200_000 * 200_000}"}}  # fmt: skip
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), shard)
    proc = subprocess.run([sys.executable, "-m", "scar", "validate", str(out)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-500:])
    assert "image_too_large" in proc.stdout and "image_size_mismatch" in proc.stdout


@pytest.mark.parametrize(
    "name, why",
    [("../outside.jpg", "'..' in path"), ("sub/../../outside.jpg", "'..' in path"), ("ABSOLUTE", "absolute path"),
     ("link.jpg", "a symlink resolves outside the root"), ("linkdir/x.jpg", "a symlink resolves outside the root")],
)  # fmt: skip
def test_names_that_escape_the_images_root_are_rejected(tmp_path: Path, name: str, why: str) -> None:
    images = tmp_path / "images"
    outside = write_image(tmp_path / "outside.jpg", 96, 72)
    write_image(tmp_path / "elsewhere" / "x.jpg", 96, 72)
    images.mkdir()
    os.symlink(outside, images / "link.jpg")
    os.symlink(tmp_path / "elsewhere", images / "linkdir")
    name = str(outside) if name == "ABSOLUTE" else name
    ann = _coco(tmp_path, [{"id": 1, "file_name": name, "width": 96, "height": 72}])
    entities, rejected = _records(ann, images)
    assert entities == []
    reason, detail = rejected["coco:1"]
    assert reason == "image path escapes images root" and why in detail
    code, out = _build(tmp_path, ann, images)
    assert code == 1  # nothing usable was built
    for shard in (out / "coco").glob("*.parquet"):
        assert pq.read_metadata(shard).num_rows == 0


def test_a_symlink_that_stays_inside_the_root_is_fine(tmp_path: Path) -> None:
    images = tmp_path / "images"
    real = write_image(images / "real" / "a.jpg", 96, 72)
    os.symlink(real, images / "alias.jpg")
    ann = _coco(tmp_path, [{"id": 1, "file_name": "alias.jpg", "width": 96, "height": 72}])
    entities, rejected = _records(ann, images)
    assert [e.image_path for e in entities] == ["alias.jpg"] and rejected == {}


def test_empty_corrupt_and_missized_images_are_rejected_with_their_reason(tmp_path: Path) -> None:
    images = tmp_path / "images"
    write_image(images / "good.jpg", 96, 72)
    write_image(images / "small.jpg", 50, 40)
    (images / "zero.jpg").write_bytes(b"")
    (images / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG " * 8)
    (images / "text.jpg").write_text("hello")
    ann = _coco(tmp_path, [
        {"id": i, "file_name": name, "width": 96, "height": 72}
        for i, name in enumerate(["good.jpg", "small.jpg", "zero.jpg", "corrupt.jpg", "text.jpg"], start=1)
    ])  # fmt: skip
    entities, rejected = _records(ann, images)
    assert [e.image_id for e in entities] == ["1"]
    assert {k: v[0] for k, v in rejected.items()} == {
        "coco:2": "image size disagrees with annotation",
        "coco:3": "empty image file",
        "coco:4": "unreadable image",
        "coco:5": "unreadable image",
    }
    assert "file 50x40, annotation 96x72" in rejected["coco:2"][1]


def test_missing_or_wrong_images_root_fails_the_build(tmp_path: Path, capsys) -> None:
    images = tmp_path / "images"
    write_image(images / "a.jpg", 96, 72)
    ann = _coco(tmp_path, [{"id": 1, "file_name": "a.jpg", "width": 96, "height": 72}])
    code, _ = _build(tmp_path, ann, tmp_path / "no-such-dir", "out1")
    err = capsys.readouterr().err
    assert code != 0 and "images root not found" in err and "no-such-dir" in err
    other = tmp_path / "other"
    other.mkdir()
    code, _ = _build(tmp_path, ann, other, "out2")
    err = capsys.readouterr().err
    assert code == 1
    assert "0 samples" in err and "'coco: missing image file'" in err


def test_a_source_with_no_records_fails_the_build(tmp_path: Path, capsys) -> None:
    images = tmp_path / "images"
    images.mkdir()
    ann = write_json(tmp_path / "instances_val2017.json", {"images": [], "annotations": [], "categories": []})
    code, _ = _build(tmp_path, ann, images)
    assert code == 1 and "no records" in capsys.readouterr().err


def test_a_resumed_build_with_samples_still_succeeds(tmp_path: Path) -> None:
    images = tmp_path / "images"
    write_image(images / "a.jpg", 96, 72)
    ann = _coco(tmp_path, [{"id": 1, "file_name": "a.jpg", "width": 96, "height": 72}])
    assert _build(tmp_path, ann, images)[0] == 0
    assert _build(tmp_path, ann, images)[0] == 0  # every shard resumed: 0 new samples is not a failure


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but holds a few bytes of pixels (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n broken", _png_header_only(10_000, 10_000), _png_header_only(100_000, 100_000)])
def test_broken_or_huge_label_maps_cost_their_image_only(tmp_path: Path, content: bytes) -> None:
    from tests.fixtures_sources import write_ade_challenge

    base = write_ade_challenge(tmp_path / "data")
    png = base / "annotations" / "training" / "ADE_train_00000001.png"
    png.write_bytes(content)
    source = make_source("ade20k", SourceOptions(root=base))
    records = list(source.iter_records("train"))
    assert [(r.record, r.reason) for r in records] == [("ade20k:ADE_train_00000001", "unreadable segmentation")]


def test_ade_image_must_match_its_segmentation_size(tmp_path: Path) -> None:
    from tests.fixtures_sources import write_ade_challenge

    base = write_ade_challenge(tmp_path / "data")
    Image.new("RGB", (7, 5)).save(base / "images" / "training" / "ADE_train_00000001.jpg")
    source = make_source("ade20k", SourceOptions(root=base))
    records = list(source.iter_records("train"))
    assert [(r.record, r.reason) for r in records] == [("ade20k:ADE_train_00000001", "image size disagrees with annotation")]


def test_build_report_lists_image_reasons(tmp_path: Path) -> None:
    images = tmp_path / "images"
    write_image(images / "a.jpg", 96, 72)
    (images / "zero.jpg").write_bytes(b"")
    ann = _coco(tmp_path, [{"id": 1, "file_name": "a.jpg", "width": 96, "height": 72},
                           {"id": 2, "file_name": "zero.jpg", "width": 96, "height": 72}])  # fmt: skip
    code, out = _build(tmp_path, ann, images)
    assert code == 0
    assert "coco: empty image file" in json.dumps(json.loads((out / "stats.json").read_text()))
