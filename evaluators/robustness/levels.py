"""The perturbed copies of loaded SCaR tasks: one LoadedTask per level, its query items carrying the
level's prompt, its candidates the very Items of the clean task (so they are encoded once).

A perturbed query is the clean query with its region replaced: the Item carries only the level's
prompt (`box_xyxy`, `point_xy` or `mask_rle`; none for the floor), and the query text's region line
(`Referring object bbox: [...]`, which every model reads) is written for that prompt as
`evaluators.models.regions.box_text` writes it: the box, a mask's tight box, the point, or no line for the
floor. The clean box level is the clean query itself, unchanged: the query plain `scar eval` scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Sequence

from PIL import Image

from evaluators.models.protocol import Item
from evaluators.models.regions import BOX_TEXT_PREFIX, box_text
from evaluators.robustness.perturb import Prompt, Region, draw
from evaluators.robustness.suite import REFERENCE, Level
from evaluators.tasks.base import LoadedTask, Query
from scar.core.errors import InputFileError


@lru_cache(maxsize=1 << 16)
def image_size(path: str) -> tuple[int, int]:
    """(width, height) from the file header."""
    with Image.open(path) as image:
        return int(image.size[0]), int(image.size[1])


def region_of(query: Query) -> Region:
    """The true region of a query loaded with every prompt (`--scar-prompt all`)."""
    item = query.item
    assert item.image is not None and item.box_xyxy is not None, "a SCaR query has an image and a box"
    width, height = image_size(item.image)
    if item.mask_rle is not None and tuple(item.mask_rle[0]) != (height, width):
        raise InputFileError(query.record.split(" [")[0], f"mask size {list(item.mask_rle[0])} is not the image's "
                             f"[{height}, {width}]", record=query.record)
    return Region(sample_id=query.qid, width=width, height=height, box=item.box_xyxy, point=item.point_xy,
                  mask_rle=item.mask_rle)


def strip_region(text: str) -> str:
    """The query text without its region line (the official text ends with it)."""
    at = text.rfind(BOX_TEXT_PREFIX)
    if at < 0:
        return text
    base = text[:at]
    return base[:-1] if base.endswith("\n") else base


def perturbed_item(clean: Item, prompt: Prompt) -> Item:
    base = strip_region(clean.text)
    item = Item(text=base, image=clean.image, box_xyxy=prompt.box, point_xy=prompt.point, mask_rle=prompt.mask_rle,
                instruction=clean.instruction)
    return replace(item, text=box_text(base, item))


@dataclass
class LevelTask:
    level: Level
    task: LoadedTask  # the perturbed copy (its queries: those with a prompt at this level)
    prompts: dict[str, Prompt] = field(default_factory=dict)  # query id -> its prompt (skipped ones too)


def level_tasks(clean: LoadedTask, full: LoadedTask, levels: Sequence[Level], seed: int) -> list[LevelTask]:
    """Per level, the perturbed copy of `clean` (`full`: the same task loaded with every prompt)."""
    if len(clean.queries) != len(full.queries):
        raise AssertionError(f"{clean.name}: the task loaded twice gave {len(clean.queries)} and {len(full.queries)} queries")
    regions = [region_of(q) for q in full.queries]
    out = []
    for level in levels:
        copy = LoadedTask(info=clean.info, queries=[], fingerprint=clean.fingerprint, files=clean.files,
                          skipped=dict(clean.skipped), provenance=clean.provenance)
        entry = LevelTask(level, copy)
        for query, region in zip(clean.queries, regions):
            prompt = draw(region, level, seed)
            entry.prompts[query.qid] = prompt
            if level.id == REFERENCE:  # the query plain `scar eval` scores, untouched
                copy.queries.append(query)
                continue
            if prompt.skipped:
                copy.skip(f"{level.id}: {prompt.skipped}")
                continue
            copy.queries.append(replace(query, item=perturbed_item(query.item, prompt)))
        out.append(entry)
    return out
