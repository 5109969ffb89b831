"""What every source loader is: options in, a deterministic stream of Entity | Rejected out."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Protocol

from scar.core.schema import Entity, Rejected, Split

Record = Entity | Rejected


@dataclass(frozen=True)
class SourceOptions:
    """Everything a loader may need; each loader reads the fields it uses and ignores the rest."""

    root: Path | None = None  # the dataset's own folder (refer layout, VG jsons, ADE20K release...)
    images: Path | None = None  # where the images are; rows store paths relative to this
    annotations: tuple[Path, ...] = ()  # explicit annotation files (COCO instances/stuff JSON)
    stuff: tuple[Path, ...] = ()  # COCO-Stuff JSONs whose stuff is scene evidence for COCO images (scar.sources.stuff)
    split_by: str | None = None  # RefCOCO family: unc | google | umd
    max_per_image: int = 5
    min_area: float = 0.0  # minimum region area as a fraction of the image area
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Source(Protocol):
    name: str

    def iter_records(self, split: Split) -> Iterator[Record]:
        """Yield entities (and rejected records) of one SCaR split, in a deterministic order."""
        ...

    # Optional: `expected_entities(split) -> int | None`, an estimate of the entities a split will
    # yield, asked once its first record has arrived; it gives the progress bar a total and an ETA.




def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("source")
    g.add_argument("--root", type=Path, help="the dataset's folder, in its official layout")
    g.add_argument("--images", type=Path, help="images root; rows store image paths relative to it")
    g.add_argument(
        "--annotations", type=Path, action="append", default=[], help="annotation file (repeatable; COCO-format sources)"
    )
    g.add_argument(
        "--stuff", type=Path, action="append", default=[],
        help="COCO-Stuff stuff JSON (e.g. stuff_train2017.json; repeatable): scene evidence for the images of "
        "coco / refcoco / refcoco+ / refcocog, matched by image id or the number in the file name",
    )  # fmt: skip
    g.add_argument("--split-by", help="RefCOCO family split: unc | google | umd (defaults per dataset)")
    g.add_argument("--max-per-image", type=int, default=5, help="at most this many entities per image (default 5)")
    g.add_argument(
        "--min-area", type=float, default=0.0, help="skip regions smaller than this fraction of the image (default 0)"
    )


def options_from_args(args: argparse.Namespace) -> SourceOptions:
    return SourceOptions(
        root=args.root,
        images=args.images,
        annotations=tuple(args.annotations or ()),
        stuff=tuple(getattr(args, "stuff", None) or ()),
        split_by=args.split_by,
        max_per_image=args.max_per_image,
        min_area=args.min_area,
        seed=args.seed,
    )

