"""An official-layout export, read by our reproduction of the sony/virtue loaders (tests/official_loaders.py),
gives exactly the rows the OFFICIAL loaders gave for the same export (tests/parity/data/export/golden.json,
written by tests/parity/golden_export.py in the official environment)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from scar.cli import main
from tests import official_loaders

GOLDEN = Path(__file__).resolve().parent / "parity" / "data" / "export" / "golden.json"


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("export-golden")
    assert main(["build", "--source", "demo", "--limit", "12", "--out", str(base / "B"), "--no-progress",
                 "--no-audit"]) == 0
    assert main(["export", str(base / "B"), "--layout", "official", "--out", str(base / "X"), "--no-progress"]) == 0
    return base / "X"


@pytest.fixture(autouse=True)
def _offline_datasets(tmp_path, monkeypatch):
    import datasets.config

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def _relative(paths: list[str], root: Path) -> list[str]:
    return [os.path.relpath(p, root) for p in paths]


def test_eval_rows_equal_the_official_loaders(export):
    golden = json.loads(GOLDEN.read_text())["eval"]
    entries = yaml.safe_load((export / "eval_scar.yaml").read_text())
    assert sorted(entries) == sorted(golden)
    for name, entry in entries.items():
        rows = official_loaders.read_eval(export / "SCaR-eval", entry["dataset_name"], entry["image_root"])
        ours = [{"query_text": r["query_text"], "query_image": _relative(r["query_image"][0]["paths"], export),
                 "cand_text": r["cand_text"], "label_name": r["dataset_infos"]["label_name"], "bboxes": r["bboxes"]}
                for r in rows]
        assert len(ours) == golden[name]["num_rows"]
        assert ours[:len(golden[name]["rows"])] == golden[name]["rows"]
        assert all((export / r["query_image"][0]).is_file() for r in ours)


def test_train_rows_equal_the_official_loaders(export, tmp_path):
    golden = json.loads(GOLDEN.read_text())["train"]
    entries = yaml.safe_load((export / "train_scar.yaml").read_text())
    assert sorted(entries) == sorted(golden)
    for name, entry in entries.items():
        table = pq.read_table(Path(entry["dataset_name"]) / f"{entry['subset_name']}.parquet")
        assert table.num_rows == golden[name]["source_rows"]
        pq.write_table(pa.concat_tables([table] * golden[name]["repeats"]), tmp_path / f"{entry['subset_name']}.parquet")
        rows = official_loaders.read_train(tmp_path, entry["subset_name"], entry["image_dir"])
        ours = [{"query_text": r["query_text"], "pos_text": r["pos_text"], "neg_text": r["neg_text"],
                 "query_image": _relative(r["query_image"]["paths"], export), "bbox": r["bbox"],
                 "global_dataset_name": r["global_dataset_name"]} for r in rows]
        assert len(ours) == golden[name]["num_rows"]
        assert ours[:len(golden[name]["rows"])] == golden[name]["rows"]
