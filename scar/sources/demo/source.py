"""The demo Source: renders each image of a split on the fly, writes its PNG and yields its records."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np

from scar.core.errors import ScarError
from scar.core.schema import Entity, Neighbour, Rejected, Region, Split, mask_to_rle
from scar.sources.base import Record, SourceOptions
from scar.sources.demo.annotate import interior_point, referring_phrase, tight_box
from scar.sources.demo.render import Rendered, render_image, scene_of, write_png

DEFAULT_IMAGES = {"train": 240, "eval": 80}
# An object whose visible part is below this fraction of its drawn shape (or below MIN_VISIBLE_PIXELS)
# counts as occluded: a caption about it could not be grounded in the picture.
MIN_VISIBLE_FRACTION = 0.2
MIN_VISIBLE_PIXELS = 30


class DemoSource:
    uses_options = frozenset({"images"})  # what `scar build` may pass it: it renders its own data
    name = "demo"

    def __init__(self, options: SourceOptions) -> None:
        if options.images is None:
            raise ScarError("the demo source writes its images under an images root: pass --images DIR")
        self.options = options
        self.images_root = Path(options.images)
        extra = options.extra.get("demo_images")
        self.counts = {s: int(extra) if extra is not None else n for s, n in DEFAULT_IMAGES.items()}

    def expected_entities(self, split: Split) -> int | None:
        """About 3 visible objects per image (1-5 drawn, some hidden); for the progress bar's ETA."""
        return self.counts.get(split, 0) * min(3, self.options.max_per_image)

    def source_stats(self, split: Split) -> dict[str, Any] | None:
        """Scene labels per image (exact) and the expected objects per category (each scene's object
        weights, three objects an image), without rendering: what the generator draws swaps from."""
        categories: dict[str, float] = {}
        scenes: dict[str, int] = {}
        for index in range(self.counts.get(split, 0)):
            scene, _ = scene_of(self.options.seed, split, index)
            scenes[scene.name] = scenes.get(scene.name, 0) + 1
            total = sum(scene.objects.values())
            for category, weight in scene.objects.items():
                categories[category] = categories.get(category, 0.0) + 3.0 * weight / total
        if not scenes:
            return None
        return {"categories": {k: max(1, round(v)) for k, v in sorted(categories.items())}, "scenes": dict(sorted(scenes.items()))}

    def iter_records(self, split: Split) -> Iterator[Record]:
        if split not in DEFAULT_IMAGES:
            raise ScarError(f"demo source: unknown split {split!r}; expected train or eval")
        out_dir = self.images_root / "demo" / split
        out_dir.mkdir(parents=True, exist_ok=True)
        for index in range(self.counts[split]):
            image_id = f"{split}-{index:05d}"
            scene, rendered, rng = render_image(self.options.seed, split, index)
            rel_path = f"demo/{split}/{image_id}.png"
            write_png(rendered.image, out_dir / f"{image_id}.png")
            yield from self._records(split, image_id, rel_path, scene.name, rendered, rng)

    def _records(
        self, split: Split, image_id: str, rel_path: str, scene: str, rendered: Rendered, rng: np.random.Generator
    ) -> Iterator[Record]:
        h, w = rendered.ids.shape
        n = len(rendered.objects)
        visible = [rendered.ids == k + 1 for k in range(n)]
        areas = [int(np.count_nonzero(v)) for v in visible]
        boxes = [tight_box(v) if a > 0 else None for v, a in zip(visible, areas)]
        occluded = [
            a < MIN_VISIBLE_PIXELS or a < MIN_VISIBLE_FRACTION * np.count_nonzero(full)
            for a, full in zip(areas, rendered.full_masks)
        ]
        usable = [k for k in range(n) if not occluded[k]]
        # the cap keeps the largest visible objects; records still come out in draw order
        keep = set(sorted(usable, key=lambda k: (-areas[k], k))[: max(0, self.options.max_per_image)])
        min_pixels = self.options.min_area * w * h
        for k, obj in enumerate(rendered.objects):
            record = f"demo:{image_id}:{k}"
            if occluded[k]:
                total = int(np.count_nonzero(rendered.full_masks[k]))
                yield Rejected("demo", record, "occluded", rel_path, f"{areas[k]} of {total} pixels visible", image_path=rel_path)
                continue
            if k not in keep:
                continue
            if areas[k] < min_pixels:
                yield Rejected("demo", record, "below min area", rel_path, f"{areas[k]} px < {min_pixels:.0f} px")
                continue
            box = boxes[k]
            assert box is not None
            neighbours = tuple(
                Neighbour(o.category, tuple(float(v) for v in boxes[j]))  # type: ignore[arg-type]
                for j, o in enumerate(rendered.objects)
                if j != k and boxes[j] is not None
            )
            attributes = (obj.colour,) + ((obj.size_word,) if obj.size_word else ())
            yield Entity(
                source="demo",
                split=split,
                image_id=image_id,
                entity_id=str(k),
                image_path=rel_path,
                image_width=w,
                image_height=h,
                category=obj.category,
                region=Region(
                    box_xywh=tuple(float(v) for v in box),  # type: ignore[arg-type]
                    point_xy=interior_point(visible[k], box),
                    mask_rle=mask_to_rle(visible[k]),
                ),
                texts=(referring_phrase(k, rendered, visible, boxes, rng),),
                scene=scene,
                attributes=attributes,
                neighbours=neighbours,
            )
