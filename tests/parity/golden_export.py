"""Golden data for `scar export --layout official`: what the OFFICIAL sony/virtue loaders make of an export.

Runs in the official VIRTUE environment (tests/parity/requirements-virtue.txt), never the project's:

    scar build --source demo --limit 12 --out B && scar export B --layout official --out X
    <official venv>/bin/python tests/parity/golden_export.py --official <sony/virtue tree> --export X

It imports the official eval loader (`src/data/eval_dataset/scar_image_i2t.py`, from a working folder
two levels below X so that its `../../data/SCaR-eval` is X's) and training loader
(`src/data/dataset/scar_dataset.py`), feeds them X's `eval_scar.yaml` / `train_scar.yaml` entries and
writes their prepared rows to `tests/parity/data/export/golden.json`, image paths relative to X.
The training loader drops each file's last partial batch of 2048 rows, so the train file is read
repeated to 2048 rows (same schema and rows: what is checked is how the loader reads them).
tests/test_export_official_loaders.py holds our own reproduction of the loaders to these rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import types
from pathlib import Path

sys.dont_write_bytecode = True  # never write __pycache__ into the official tree
for _var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_var, "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from golden_common import file_digests, stub_packages  # noqa: E402
from golden_virtue import STUBS, patch_official_runtime  # noqa: E402

OFFICIAL_FILES = ["src/data/eval_dataset/scar_image_i2t.py", "src/data/dataset/scar_dataset.py"]
TRAIN_BATCH = 2048  # scar_dataset.py maps batches of 2048 and drops the last partial one
KEPT_ROWS = 40  # rows of each file kept in the golden file (all counted)


def relative(path: str, root: Path) -> str:
    return os.path.relpath(path, root)


def eval_rows(export: Path, backbone: str) -> dict[str, dict]:
    import yaml
    from src.data.eval_dataset.scar_image_i2t import load_scar_i2t_dataset

    out = {}
    for name, entry in yaml.safe_load((export / "eval_scar.yaml").read_text()).items():
        dataset, _ = load_scar_i2t_dataset(types.SimpleNamespace(model_backbone=backbone),
                                           types.SimpleNamespace(image_resolution=None),
                                           dataset_name=entry["dataset_name"], image_root=entry["image_root"])
        rows = [{"query_text": r["query_text"], "query_image": [relative(p, export) for p in r["query_image"][0]["paths"]],
                 "cand_text": r["cand_text"], "label_name": r["dataset_infos"]["label_name"], "bboxes": r["bboxes"]}
                for r in dataset]
        out[name] = {"num_rows": len(rows), "rows": rows[:KEPT_ROWS]}
    return out


def train_rows(export: Path, backbone: str) -> dict[str, dict]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml
    from src.data.dataset.scar_dataset import load_scar_dataset

    out = {}
    for name, entry in yaml.safe_load((export / "train_scar.yaml").read_text()).items():
        folder = Path(tempfile.mkdtemp(prefix="golden-export-train-"))
        table = pq.read_table(Path(entry["dataset_name"]) / f"{entry['subset_name']}.parquet")
        repeats = -(-TRAIN_BATCH // table.num_rows)
        pq.write_table(pa.concat_tables([table] * repeats), folder / f"{entry['subset_name']}.parquet")
        dataset = load_scar_dataset(types.SimpleNamespace(model_backbone=backbone),
                                    types.SimpleNamespace(image_resolution=None, num_sample_per_subset=None),
                                    types.SimpleNamespace(dataloader_num_workers=0), dataset_name=str(folder),
                                    subset_name=entry["subset_name"], image_dir=entry["image_dir"])
        rows = [{"query_text": r["query_text"], "pos_text": r["pos_text"], "neg_text": r["neg_text"],
                 "query_image": [relative(p, export) for p in r["query_image"]["paths"]], "bbox": r["bbox"],
                 "global_dataset_name": r["global_dataset_name"]} for r in dataset]
        shutil.rmtree(folder, ignore_errors=True)
        out[name] = {"source_rows": table.num_rows, "repeats": repeats, "num_rows": len(rows), "rows": rows[:KEPT_ROWS]}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--official", type=Path, required=True, help="the sony/virtue tree (its `codes/` folder or above)")
    parser.add_argument("--export", type=Path, required=True, help="a `scar export --layout official` folder")
    parser.add_argument("--backbone", default="qwen2_vl")
    parser.add_argument("--out", type=Path, default=HERE / "data" / "export" / "golden.json")
    args = parser.parse_args()
    code = args.official / "codes" if (args.official / "codes" / "src").is_dir() else args.official
    export = args.export.resolve()
    stub_packages(STUBS)
    sys.path.insert(0, str(code))
    patch_official_runtime()
    work = export.parent / f".{export.name}-cwd" / "a"
    (work / "b").mkdir(parents=True, exist_ok=True)
    link = work.parent / "data"
    if not link.exists():
        link.symlink_to(export)  # ../../data from work/b is the export
    os.chdir(work / "b")
    golden = {"official_files": file_digests(code, OFFICIAL_FILES), "backbone": args.backbone,
              "eval": eval_rows(export, args.backbone), "train": train_rows(export, args.backbone)}
    shutil.rmtree(work.parent, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v['num_rows']} rows" for part in ("eval", "train")
                                            for k, v in golden[part].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
