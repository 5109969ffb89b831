"""How items are grouped into model calls.

`plan_batches`: for models whose embeddings do not depend on their batch, image items by image size,
largest first, the items showing one picture one after the other (so an image tower's output is
computed once and reused, `evaluators.models.vision_cache`), then text-only items, longest first, so a batch
holds texts of similar length (little padding), `TEXT_BATCH_FACTOR` times as many per batch as image
items (a text costs a small fraction of an image: bigger batches, fewer calls).

`reference_batches`: the reference code's own batches, for models whose embeddings depend on their batch.
Each batch is encoded whole and alone, so only their contents matter, not their order: tasks on the
same data (the robustness suite's levels of one task: the same queries under other prompts) take
turns, one batch each, so the batches showing the same pictures run close together and a model's
per-picture caches (image tower, SAM image encoder, decoded files) hold them however many pictures
the task has. Tasks on other data keep their order (plain `scar eval` runs its batches as listed).

An official VIRTUE embedding depends on the longest row of its batch (see `evaluators.models.virtue`), so it
can only be reproduced by encoding the batches the official eval encodes: per task, queries in dataset
order (every row, repeats included), then the task's distinct candidates in first-seen order
(`generate_cand_dataset`), `batch_size` at a time, queries and candidates never mixed. An embedding
is cached under its item key combined with a signature of its batch, so the same item in another
batch is another cache entry and a rerun finds every batch it already encoded.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Sequence

from PIL import Image

from evaluators.models.protocol import Item
from evaluators.models.vision_cache import file_digest
from evaluators.tasks.base import LoadedTask

TEXT_BATCH_FACTOR = 8  # text-only batches hold this many times --batch-size items


@functools.lru_cache(maxsize=1 << 20)
def image_pixels(path: str) -> int:
    """Width x height from the file header (PIL opens lazily, nothing is decoded); memoised."""
    with Image.open(path) as im:
        w, h = im.size
    return int(w) * int(h)


def plan_batches(items: dict[str, Item], keys: Sequence[str], batch_size: int) -> list[list[str]]:
    """Batches of `keys` (see the module doc): image items by image size, largest first, grouped by
    picture, then text-only items by length, longest first, `TEXT_BATCH_FACTOR * batch_size` a batch."""

    def picture(item: Item) -> tuple[int, str]:
        try:  # by size (batches of one image size), then by picture
            return -image_pixels(item.image), file_digest(item.image)  # type: ignore[arg-type]
        except (OSError, ValueError, Image.DecompressionBombError):
            return 0, str(item.image)  # the model reports the unreadable file

    with_image = sorted((k for k in keys if items[k].image is not None),
                        key=lambda k: (picture(items[k]), -len(items[k].text), k))
    texts = sorted((k for k in keys if items[k].image is None), key=lambda k: (-len(items[k].text), k))
    text_size = batch_size * TEXT_BATCH_FACTOR
    return ([with_image[i:i + batch_size] for i in range(0, len(with_image), batch_size)]
            + [texts[i:i + text_size] for i in range(0, len(texts), text_size)])


@dataclass(frozen=True)
class Batch:
    keys: tuple[str, ...]  # cache keys, one per item
    items: tuple[Item, ...]


@dataclass
class TaskKeys:
    """Where one task's embeddings live in the cache."""

    queries: list[str | None] = field(default_factory=list)  # per task.queries index; None = skipped
    candidates: dict[str, str] = field(default_factory=dict)  # Item.key() -> cache key

    def query_key(self, index: int) -> str:
        key = self.queries[index]
        assert key is not None, "a skipped query has no embedding"
        return key

    def candidate_key(self, item: Item) -> str:
        return self.candidates[item.key()]


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _chunks(items: Sequence[Item], size: int) -> Iterable[list[Item]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def _batches(items: Sequence[Item], size: int, side: str) -> list[Batch]:
    out = []
    for chunk in _chunks(items, size):
        signature = _digest(side + "\n" + "\n".join(item.key() for item in chunk))
        out.append(Batch(tuple(_digest(item.key() + signature) for item in chunk), tuple(chunk)))
    return out


def reference_batches(tasks: Sequence[LoadedTask], batch_size: int, skip: set[str] | frozenset[str] = frozenset()
                      ) -> tuple[list[Batch], list[TaskKeys]]:
    """Every task's query and candidate batches, and the cache key of each of its queries and candidates.

    Queries with an image in `skip` (images that failed to open, with --skip-bad) are left out, as if
    the task did not have them."""
    per_task: list[list[Batch]] = []
    keys: list[TaskKeys] = []
    for task in tasks:
        task_keys = TaskKeys()
        kept = [not any(i.image in skip for i in q.items()) for q in task.queries]
        usable = [q for q, keep in zip(task.queries, kept) if keep]
        query_batches = _batches([q.item for q in usable], batch_size, "qry")
        query_key_of = iter(k for b in query_batches for k in b.keys)
        task_keys.queries = [next(query_key_of) if keep else None for keep in kept]
        distinct: dict[str, Item] = {}
        for query in usable:
            for item in query.candidates:
                distinct.setdefault(item.key(), item)
        candidate_batches = _batches(list(distinct.values()), batch_size, "cand")
        for batch in candidate_batches:
            for cache_key, item in zip(batch.keys, batch.items):
                task_keys.candidates[item.key()] = cache_key
        per_task.append(query_batches + candidate_batches)
        keys.append(task_keys)
    return take_turns(per_task, [(task.name, task.fingerprint) for task in tasks]), keys


def take_turns(per_task: Sequence[list[Batch]], data: Sequence[Hashable]) -> list[Batch]:
    """Every task's batches, tasks with the same `data` key taking turns (batch 0 of each, then batch 1
    of each, ...); groups in order of first appearance, a task alone keeps its own order."""
    groups: dict[Hashable, list[list[Batch]]] = {}
    for batches, key in zip(per_task, data):
        groups.setdefault(key, []).append(batches)
    out: list[Batch] = []
    for group in groups.values():
        for index in range(max((len(batches) for batches in group), default=0)):
            out += [batches[index] for batches in group if index < len(batches)]
    return out
