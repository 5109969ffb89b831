import copy

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from scar.check.validate import validate
from scar.cli import main
from scar.core.schema import rows_to_table
from tests.test_schema import _sample


def _good_row():
    return _sample("eval").to_row()


def _break(rule):
    row = _good_row()
    if rule == "candidate_count":
        row["tgt_text"] = row["tgt_text"][:9]
    elif rule == "candidates_not_distinct":
        row["tgt_text"] = [row["tgt_text"][0], row["tgt_text"][0].upper(), *row["tgt_text"][2:]]
    elif rule == "gold_not_first":
        row["tgt_text"] = [row["tgt_text"][1], row["tgt_text"][0], *row["tgt_text"][2:]]
    elif rule == "neg_types":
        row["neg_types"] = ["object"] * 9
    elif rule == "bad_box":
        row["bbox"] = [1.0, 1.0, 0.0, 5.0]
    elif rule == "box_outside_image":
        row["bbox"] = [30.0, 5.0, 20.0, 10.0]
    elif rule == "bad_rle":
        row["mask"] = {"size": [30, 40], "counts": "\x7f\x7f!!not-rle"}
    elif rule == "mask_size_mismatch":
        row["image_width"], row["image_height"] = 41, 30
    elif rule == "point_outside_region":
        row["point"] = [2.0, 2.0]
    elif rule == "image_path_absolute":
        row["qry_image_path"] = "/etc/passwd"
    elif rule == "image_path_dotdot":
        row["qry_image_path"] = "demo/../../secret.png"
    elif rule == "image_missing":
        row["qry_image_path"] = "demo/eval/nope.png"
    else:
        raise AssertionError(rule)
    return row


RULES = [
    "candidate_count",
    "candidates_not_distinct",
    "gold_not_first",
    "neg_types",
    "bad_box",
    "box_outside_image",
    "bad_rle",
    "mask_size_mismatch",
    "point_outside_region",
    "image_path_absolute",
    "image_path_dotdot",
    "image_missing",
]


def _write(tmp_path, rows, name="eval-00000.parquet", schema_split="eval"):
    d = tmp_path / "build" / "demo"
    d.mkdir(parents=True, exist_ok=True)
    img = tmp_path / "build" / "images" / "demo" / "eval" / "img1.png"
    img.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30)).save(img)
    if schema_split is None:  # the neg_types rule needs a schema without its fixed list size
        table = pa.Table.from_pylist(rows)
    else:
        table = rows_to_table(rows, schema_split)
    pq.write_table(table, d / name)
    return tmp_path / "build"


def test_good_rows_pass(tmp_path):
    assert validate(_write(tmp_path, [_good_row()])).ok


@pytest.mark.parametrize("rule", RULES)
def test_each_broken_row_kind_is_caught(tmp_path, rule):
    row = _break(rule)
    loose = rule in ("candidate_count", "neg_types", "bad_rle")
    report = validate(_write(tmp_path, [_good_row() | {"id": "other"}, row], schema_split=None if loose else "eval"))
    assert rule in report.failures, dict(report.failures)
    assert report.failures[rule] == 1
    assert report.rows == 2


def test_duplicate_ids_and_official_only_columns(tmp_path):
    row = _good_row()
    root = _write(tmp_path, [row, copy.deepcopy(row)])
    assert validate(root).failures == {"duplicate_id": 1}
    official = {k: row[k] for k in ("qry_text", "qry_image_path", "tgt_text", "bbox")}
    only = tmp_path / "official"
    only.mkdir()
    pq.write_table(pa.Table.from_pylist([official]), only / "SCAR_x.parquet")
    assert validate(only / "SCAR_x.parquet", images=tmp_path / "build" / "images").ok


def test_cli_validate_exit_code_and_counts(tmp_path, capsys):
    root = _write(tmp_path, [_break("image_missing"), _break("box_outside_image") | {"id": "b"}])
    assert main(["validate", str(root)]) == 1
    out = capsys.readouterr().out
    assert "image_missing" in out and "box_outside_image" in out and "FAILED" in out


def test_unreadable_file_is_reported(tmp_path):
    d = tmp_path / "x" / "demo"
    d.mkdir(parents=True)
    (d / "eval-00000.parquet").write_bytes(b"not parquet")
    assert validate(tmp_path / "x").failures == {"unreadable_file": 1}


# ---------------------------------------------------------------- image files, sizes, stats.json


def _image_case(tmp_path, rule):
    """A build dir whose one row names an image broken in the way `rule` checks."""
    import os

    row = _good_row()
    images = tmp_path / "build" / "images" / "demo" / "eval"
    root = _write(tmp_path, [row])
    if rule == "image_path_escapes":
        outside = tmp_path / "outside.png"
        Image.new("RGB", (40, 30)).save(outside)
        (images / "img1.png").unlink()
        os.symlink(outside, images / "img1.png")
    elif rule == "image_unreadable":
        (images / "img1.png").write_bytes(b"")
    elif rule == "image_size_mismatch":
        Image.new("RGB", (41, 30)).save(images / "img1.png")
    elif rule == "image_undecodable":
        full = (images / "img1.png").read_bytes()
        (images / "img1.png").write_bytes(full[: len(full) // 2])  # header intact, pixel data cut
    return root


@pytest.mark.parametrize("rule", ["image_path_escapes", "image_unreadable", "image_size_mismatch", "image_undecodable"])
def test_image_files_are_checked(tmp_path, rule):
    root = _image_case(tmp_path, rule)
    decoded = validate(root, decode=True)
    assert dict(decoded.failures) == {rule: 1}
    plain = validate(root)
    assert dict(plain.failures) == ({} if rule == "image_undecodable" else {rule: 1})  # decoding is opt-in


def test_cli_decode_option(tmp_path, capsys):
    root = _image_case(tmp_path, "image_undecodable")
    assert main(["validate", str(root)]) == 0
    assert main(["validate", str(root), "--decode"]) == 1
    assert "image_undecodable" in capsys.readouterr().out


def test_oversized_row_is_reported_without_decoding_its_mask(tmp_path):
    row = _good_row()
    row |= {"image_width": 200_000, "image_height": 200_000, "mask": {"size": [200_000, 200_000], "counts": "PPYo1"}}
    report = validate(_write(tmp_path, [row]))
    assert report.failures["image_too_large"] == 1 and report.failures["image_size_mismatch"] == 1
    row = _good_row()
    row["mask"] = {"size": [100_000, 100_000], "counts": "PPYo1"}  # only the mask is huge
    assert dict(validate(_write(tmp_path / "b", [row])).failures) == {"mask_size_mismatch": 1}


def test_stats_json_must_match_the_shards(tmp_path):
    import scar.sources
    from scar.build.config import BuildConfig
    from scar.build.pipeline import build
    from scar.build.stats import write_stats_and_card
    from scar.sources import resolve_source
    from scar.sources.base import SourceOptions
    from tests.pipeline_fixtures import SeededGenerator

    scar.sources.register("synthetic", "tests.pipeline_fixtures:SyntheticSource", "test fixture")
    out = tmp_path / "out"
    opts = SourceOptions(images=out / "images", extra={"images": 6})
    build(BuildConfig(source=resolve_source("synthetic"), out=out, source_options=opts, progress=False, shard_size=8), SeededGenerator(0))
    assert validate(out).ok
    for name in ("train-00001.parquet", "train-00001.stats.json"):
        (out / "synthetic" / name).unlink()  # as if another worker's shard vanished after stats.json
    report = validate(out)
    assert dict(report.failures) == {"stats_mismatch": 1}
    assert "synthetic/train: stats.json lists 3 shards" in report.examples["stats_mismatch"][0]
    write_stats_and_card(out, None)  # what `scar build --finalize` runs
    assert validate(out).ok
