"""Entities/s of the real-dataset loaders on generated 100k-annotation inputs.

    .venv/bin/python tests/benchmarks/bench_sources.py [N]

Prints, per loader: load+iterate seconds, records/s and entities/s (all splits, JSON parsing
included), with the image-existence check off (the inputs have no image files).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scar.core.schema import Entity  # noqa: E402
from scar.sources import SourceOptions, make_source  # noqa: E402
from tests.benchmarks.synthetic_coco import write_synthetic_coco, write_synthetic_refer, write_synthetic_vg  # noqa: E402


def run(name: str, options: SourceOptions) -> tuple[float, int, int]:
    start = time.perf_counter()
    source = make_source(name, options)
    records = entities = 0
    for split in ("train", "eval"):
        for record in source.iter_records(split):
            records += 1
            entities += isinstance(record, Entity)
    return time.perf_counter() - start, records, entities


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    off = {"check_images": False}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        coco = write_synthetic_coco(tmp_path / "instances_train2017.json", n)
        refer = write_synthetic_refer(tmp_path / "refer", n)
        vg = write_synthetic_vg(tmp_path / "vg", n)
        cases = {
            "coco": SourceOptions(annotations=(coco,), images=tmp_path, extra=off),
            "refcoco": SourceOptions(root=refer, images=tmp_path, extra=off),
            "vg": SourceOptions(root=vg, images=tmp_path, extra=off),
        }
        print(f"{'loader':10} {'annotations':>11} {'seconds':>8} {'records/s':>10} {'entities':>9} {'entities/s':>10}")
        for name, options in cases.items():
            seconds, records, entities = run(name, options)
            print(f"{name:10} {n:>11,} {seconds:>8.2f} {records / seconds:>10,.0f} {entities:>9,} {entities / seconds:>10,.0f}")


if __name__ == "__main__":
    main()
