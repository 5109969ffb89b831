"""What a split of label maps holds, counted before any caption is written (the generator's prior).

Sources whose annotations are class maps (ADEChallengeData2016, COCO-Stuff `stuffthingmaps`) have no
index of which classes each image shows, so the maps are read once here (a class histogram each;
the build reads them again for the regions). Without these counts the generator would draw swaps
from word frequencies rather than from the build's own golds, which a text-only model notices.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from scar.core.errors import InputFileError
from scar.sources.labelmaps import read_png


def map_stats(
    maps: Iterable[tuple[Path, str | None]],
    names_of: Callable[[Path, np.ndarray], list[str]],
) -> dict[str, Any] | None:
    """{"categories", "images", "scenes", "image_scenes"} over (label map, scene label or None) pairs,
    in the order given. `names_of(map, histogram)` names the regions a map gives (one per class present).
    Unreadable maps are skipped here; the loader rejects them with the reason."""
    categories: dict[str, int] = {}
    scenes: dict[str, int] = {}
    images: list[list[str]] = []
    image_scenes: list[str | None] = []
    for path, scene in maps:
        try:
            values = read_png(path)
        except InputFileError:
            continue
        if values.ndim != 2:
            continue
        names = names_of(path, np.bincount(values.ravel().astype(np.int64)))
        for name in names:
            categories[name] = categories.get(name, 0) + 1
        images.append(names)
        image_scenes.append(scene)
        if scene:
            scenes[scene] = scenes.get(scene, 0) + 1
    if not categories:
        return None
    return {
        "categories": dict(sorted(categories.items())),
        "images": images,
        "scenes": dict(sorted(scenes.items())) or None,
        "image_scenes": image_scenes if scenes else None,
    }
