import copy

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from scar.cli import main
from scar.schema import rows_to_table
from scar.validate import validate
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
