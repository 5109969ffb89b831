"""The per-image flow every real-dataset loader shares.

A loader turns one image's annotations into `Candidate`s (cheap checks done, full-image mask as
RLE) or `Rejected` records, then `emit_image` applies the crowd / minimum-area rules, samples at
most `max_per_image` candidates deterministically, computes each chosen entity's point and yields
the records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from scar.core.schema import Entity, Neighbour, Region, Rejected, Split
from scar.core.seeding import rng_for
from scar.sources.base import Record, SourceOptions
from scar.sources.boxes import Box, box_center
from scar.sources.masks import rle_to_json

MAX_NEIGHBOURS = 32


@dataclass(frozen=True)
class ImageMeta:
    image_id: str
    image_path: str
    width: int
    height: int
    scene: str | None = None
    context: tuple[str, ...] = ()  # stuff names from --stuff: scene evidence (Entity.context)


RegionResult = tuple[Region | None, str | None]


@dataclass
class Candidate:
    """One annotated region of an image that passed the cheap checks."""

    entity_id: str
    category: str
    box_xywh: Box
    area: float  # pixels (mask area, or box area when there is no mask)
    make_region: Callable[[], RegionResult]  # computes point (and mask) only for chosen candidates
    texts: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    crowd: bool = False


def box_region(box: Box) -> Callable[[], RegionResult]:
    return lambda: (Region(box_xywh=box, point_xy=box_center(box)), None)


def sample_indices(n: int, k: int, seed: int, source: str, image_id: str) -> list[int]:
    """Which of n candidates to keep (at most k), deterministic per (seed, source, image)."""
    if n <= k:
        return list(range(n))
    rng = rng_for(seed, source, image_id)
    return sorted(int(i) for i in rng.choice(n, size=k, replace=False))


def _nearest_neighbours(index: int, cands: Sequence[Candidate]) -> tuple[Neighbour, ...]:
    others = [c for j, c in enumerate(cands) if j != index]
    if len(others) > MAX_NEIGHBOURS:
        cx, cy = box_center(cands[index].box_xywh)

        def dist(c: Candidate) -> float:
            ox, oy = box_center(c.box_xywh)
            return (ox - cx) ** 2 + (oy - cy) ** 2

        others = sorted(others, key=dist)[:MAX_NEIGHBOURS]
    return tuple(Neighbour(category=c.category, box_xywh=c.box_xywh) for c in others)


def emit_image(
    source: str,
    split: Split,
    image: ImageMeta,
    items: Iterable[Candidate | Rejected],
    options: SourceOptions,
    neighbours_from: Sequence[Candidate] | None = None,
) -> Iterator[Record]:
    """Apply the common rules to one image's candidates and yield its records.

    `neighbours_from` lists the image's annotated things used as neighbours (default: the
    candidates themselves); RefCOCO passes all COCO objects of the image, not only referred ones.
    """
    cands: list[Candidate] = []
    for item in items:
        if isinstance(item, Rejected):
            yield item
        else:
            cands.append(item)
    pool = list(neighbours_from) if neighbours_from is not None else cands
    image_area = float(image.width * image.height)
    eligible: list[Candidate] = []
    def where(c: Candidate) -> dict[str, Any]:  # so reviewers can see a rejected region (`scar browse`)
        return {"image_path": image.image_path, "box_xywh": tuple(float(v) for v in c.box_xywh)}

    for c in cands:
        record = f"{source}:{image.image_id}:{c.entity_id}"
        if c.crowd:
            yield Rejected(source, record, "crowd region", **where(c))
        elif options.min_area > 0 and c.area < options.min_area * image_area:
            yield Rejected(source, record, "below min area", detail=f"{c.area / image_area:.5f} of the image", **where(c))
        else:
            eligible.append(c)
    chosen = set(sample_indices(len(eligible), options.max_per_image, options.seed, source, image.image_id))
    for i, c in enumerate(eligible):
        record = f"{source}:{image.image_id}:{c.entity_id}"
        if i not in chosen:
            yield Rejected(source, record, "over max_per_image", detail=f"{len(eligible)} eligible", **where(c))
            continue
        region, reason = c.make_region()
        if region is None:
            yield Rejected(source, record, reason or "unusable region", **where(c))
            continue
        index = next((j for j, p in enumerate(pool) if p is c), -1)
        neighbours = _nearest_neighbours(index, pool) if index >= 0 else _neighbours_excluding(c, pool)
        yield Entity(
            source=source,
            split=split,
            image_id=image.image_id,
            entity_id=c.entity_id,
            image_path=image.image_path,
            image_width=image.width,
            image_height=image.height,
            category=c.category,
            region=region,
            texts=c.texts,
            scene=image.scene,
            attributes=c.attributes,
            neighbours=neighbours,
            context=image.context,
        )


def _neighbours_excluding(c: Candidate, pool: Sequence[Candidate]) -> tuple[Neighbour, ...]:
    index = next((j for j, p in enumerate(pool) if p.entity_id == c.entity_id), -1)
    if index >= 0:
        return _nearest_neighbours(index, pool)
    return _nearest_neighbours(len(pool), [*pool, c])


def mask_candidate_region(
    rle: dict[str, Any], box: Box, point: Callable[[], tuple[float, float] | None]
) -> RegionResult:
    p = point()
    if p is None:
        return None, "empty mask"
    return Region(box_xywh=box, point_xy=p, mask_rle=rle_to_json(rle)), None
