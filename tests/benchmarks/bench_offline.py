"""Speed of the offline generator (per entity) and of the demo source (per image), in CPU time.

Run: .venv/bin/python tests/benchmarks/bench_offline.py [--images N]
CPU time (not wall time) so that other work on a shared machine does not skew the figures; a pure-Python
reference loop is printed alongside so numbers from different machines can be compared.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from scar.core.schema import Entity, Neighbour, Region
from scar.generate.offline import OfflineGenerator
from scar.sources.base import SourceOptions
from scar.sources.demo import DemoSource

COCO_LIKE = ["person", "car", "dog", "chair", "dining table", "cup", "bottle", "traffic light", "bus", "bench", "tree", "sky-other", "grass"]


def best_cpu(fn, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def synthetic(n: int, neighbours: int) -> list[Entity]:
    out = []
    for i in range(n):
        nbs = tuple(
            Neighbour(COCO_LIKE[(i + k) % len(COCO_LIKE)], (float((37 * k + i) % 500), float((53 * k) % 350), 40.0, 50.0))
            for k in range(1, neighbours + 1)
        )
        out.append(
            Entity("coco", "train", str(i // 5), str(i), f"{i}.jpg", 640, 480, COCO_LIKE[i % len(COCO_LIKE)],
                   Region((float(i % 400), float(i % 300), 60.0, 80.0)), texts=("the red one on the left",), neighbours=nbs)
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=120, help="demo images to render (default 120)")
    args = ap.parse_args()
    ref = best_cpu(lambda: [sum(range(1000)) for _ in range(1000)]) / 1000 * 1e6
    print(f"reference: sum(range(1000)) = {ref:.1f} us CPU")

    with tempfile.TemporaryDirectory() as tmp:
        src = DemoSource(SourceOptions(images=Path(tmp), extra={"demo_images": args.images}))
        records: list = []
        t = best_cpu(lambda: records.__setitem__(slice(None), list(src.iter_records("train"))), repeats=1)
        entities = [r for r in records if isinstance(r, Entity)]
        print(f"demo source: {args.images / t:.0f} images/s, {len(entities) / t:.0f} entities/s "
              f"({t / args.images * 1e3:.1f} ms CPU per image incl. PNG)")

    cases = {"demo entities": entities, "COCO-like, 4 neighbours": synthetic(2000, 4), "VG-like, 30 neighbours": synthetic(2000, 30)}
    for name, ents in cases.items():
        gen = OfflineGenerator(seed=0)
        gen.generate(ents[:50], None)  # warm caches
        t = best_cpu(lambda: gen.generate(ents, None))
        stats = OfflineGenerator(seed=0)
        out = stats.generate(ents, None)
        ok = sum(1 for s in out if not hasattr(s, "reason"))
        print(f"offline generator, {name}: {t / len(ents) * 1e6:.0f} us/entity CPU "
              f"({len(ents) / t:.0f}/s), {ok / len(ents):.1%} become samples")


if __name__ == "__main__":
    main()
