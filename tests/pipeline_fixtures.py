"""A tiny synthetic source and a trivial generator, for testing the pipeline apart from the real ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
from PIL import Image

from scar.core.errors import BudgetExhausted
from scar.core.schema import CaptionParts, Entity, GeneratorInfo, Region, Rejected, Sample, mask_to_rle
from scar.core.seeding import rng_for
from scar.sources.base import SourceOptions

W, H = 64, 48


class SyntheticSource:
    """N images with 3 square entities each; every 7th record is a loader rejection."""

    name = "synthetic"

    def __init__(self, options: SourceOptions) -> None:
        self.options = options
        self.images = int(options.extra.get("images", 20))
        self.repeat_first = bool(options.extra.get("repeat_first", False))  # annotate image 0's objects twice

    def iter_records(self, split: str) -> Iterator[Entity | Rejected]:
        root = Path(self.options.images)
        for i in range(self.images):
            image_id = f"{split}{i:04d}"
            rel = f"synthetic/{image_id}.png"
            path = root / rel
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (W, H), (i * 10 % 255, 80, 120)).save(path)
            for k in range(6 if self.repeat_first and i == 0 else 3):
                if k >= 3:  # the same object again under another annotation id
                    mask = np.zeros((H, W), dtype=bool)
                    x, y = 4 + 18 * (k - 3), 10
                    mask[y : y + 12, x : x + 12] = True
                    yield Entity(self.name, split, image_id, str(k), rel, W, H, ["cup", "ball", "lamp"][k - 3],  # type: ignore[arg-type]
                                 Region((float(x), float(y), 12.0, 12.0), (x + 6.0, y + 6.0), mask_to_rle(mask)), scene="kitchen")
                    continue
                if (i * 3 + k) % 7 == 6:
                    yield Rejected(self.name, f"{image_id}:{k}", "synthetic bad record", file="fixture.json")
                    continue
                mask = np.zeros((H, W), dtype=bool)
                x, y = 4 + 18 * k, 10
                mask[y : y + 12, x : x + 12] = True
                yield Entity(
                    source=self.name,
                    split=split,  # type: ignore[arg-type]
                    image_id=image_id,
                    entity_id=str(k),
                    image_path=rel,
                    image_width=W,
                    image_height=H,
                    category=["cup", "ball", "lamp"][k],
                    region=Region((float(x), float(y), 12.0, 12.0), (x + 6.0, y + 6.0), mask_to_rle(mask)),
                    scene="kitchen",
                )


OBJECTS = ["a cup", "a ball", "a lamp", "a chair", "a dog", "a car", "a tree"]
RELATIONS = ["left of the table", "right of the table", "above the table", "under the table", "on the table"]
SCENES = ["in a kitchen", "on a beach", "in a street", "in a meadow", "in a living room"]


class SeededGenerator:
    """Draws every choice from rng_for(seed, entity id); can raise a budget stop after N entities."""

    def __init__(self, seed: int, budget: int | None = None) -> None:
        self.info = GeneratorInfo("test", "seeded", "t1", seed)
        self.budget = budget
        self.calls = 0

    def generate(self, entities: Sequence[Entity], images_root: Path | None) -> list[Sample | Rejected]:
        out: list[Sample | Rejected] = []
        for e in entities:
            if self.budget is not None and self.calls >= self.budget:
                raise BudgetExhausted(f"test budget of {self.budget} entities reached")
            self.calls += 1
            rng = rng_for(self.info.seed, e.id)
            gold = CaptionParts(f"a {e.category}", str(rng.choice(RELATIONS)), str(rng.choice(SCENES)))
            negs, types = [], []
            for kind, pool in (("object", OBJECTS), ("relation", RELATIONS), ("scene", SCENES)):
                options = [p for p in pool if p != getattr(gold, kind)]
                for choice in rng.choice(len(options), size=3, replace=False):
                    negs.append(gold.replace(kind, options[int(choice)]).text)
                    types.append(kind)
            out.append(Sample(e, gold, tuple(negs), tuple(types), self.info, train_negative_index=int(rng.integers(9))))
        return out

    def stats(self) -> dict[str, Any]:
        return {"requests": self.calls}

    def close(self) -> None:
        pass
