"""Build every source from the realistic fixtures: `python -m tests.realistic.build OUT [--scale S]`.

`build_all(root, scale)` writes the fixtures under root/raw and builds each source into
root/<source> with the offline generator; the tests and the README figures use it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scar.build.config import BuildConfig
from scar.build.pipeline import build
from scar.generate.offline import OfflineGenerator
from scar.sources import resolve_source
from scar.sources.base import SourceOptions
from tests.realistic import label_maps, writers

SOURCES = ("coco", "refcoco+", "refcocog", "vg", "cocostuff", "cocostuff-maps", "ade20k", "ade20k-challenge")
SOURCE_OF = {"cocostuff-maps": "cocostuff", "ade20k-challenge": "ade20k"}  # fixture layout -> source


def source_options(name: str, raw: Path, scale: float, seed: int = 0) -> SourceOptions:
    n = lambda k: max(int(k * scale), 4)  # noqa: E731
    folder = raw / name
    if name == "coco":
        files, images = writers.write_coco(folder, n(160), n(60), seed)
        return SourceOptions(annotations=tuple(files), images=images)
    if name in ("refcoco", "refcoco+", "refcocog"):
        # RefCOCO+'s split keeps fewer pictures for eval: more of them give it 200+ eval rows like the rest
        root, images, _ = writers.write_refer(folder, name, n(340 if name == "refcoco+" else 260), seed)
        return SourceOptions(root=root, images=images)
    if name == "vg":
        root, images = writers.write_visual_genome(folder, n(175), seed)  # 200+ eval rows after thinning
        return SourceOptions(root=root, images=images, extra={"eval_fraction": 0.25})
    if name == "cocostuff":
        files, images = writers.write_cocostuff(folder, n(140), n(50), seed)
        return SourceOptions(annotations=tuple(files), images=images)
    if name == "cocostuff-maps":
        maps_root, images = label_maps.write_cocostuff_maps(folder, n(140), n(50), seed)
        return SourceOptions(root=maps_root, images=images)
    if name == "ade20k":
        release = writers.write_ade20k(folder, n(140), n(50), seed)
        label_maps.add_ade_parts(release)
        return SourceOptions(root=release)
    if name == "ade20k-challenge":
        # more validation pictures than the others: thinning its stuff leaves fewer rows per picture
        return SourceOptions(root=label_maps.write_ade_challenge(folder, n(140), n(60), seed))
    raise ValueError(name)


def build_source(name: str, root: Path, scale: float = 1.0, seed: int = 0, thin_stuff: bool = False) -> Path:
    """Build one fixture layout: into root/build, or root/build-<layout> for a second layout of a source."""
    options = source_options(name, root / "raw", scale, seed)
    source = SOURCE_OF.get(name, name)
    out = root / ("build" if source == name else f"build-{name}")
    generator = OfflineGenerator(seed=seed, thin_stuff=thin_stuff)
    build(BuildConfig(source=resolve_source(source), out=out, source_options=options, seed=seed, progress=False), generator)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--sources", default=",".join(SOURCES))
    ap.add_argument("--seed", type=int, default=0, help="fixture and build seed")
    ap.add_argument("--thin-stuff", action="store_true", help="build as `scar build --thin-stuff`")
    args = ap.parse_args()
    for name in args.sources.split(","):
        out = build_source(name, args.out, args.scale, args.seed, args.thin_stuff)
        stats = json.loads((out / "stats.json").read_text())["sources"][SOURCE_OF.get(name, name)]["splits"]
        ents = sum(s["entities"] for s in stats.values())
        samples = sum(s["samples"] for s in stats.values())
        print(f"{name}: {ents} entities -> {samples} samples ({samples / max(ents, 1):.1%})", file=sys.stderr)


if __name__ == "__main__":
    main()
