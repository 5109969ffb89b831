"""The reference code's own batches, for models whose embeddings depend on their batch.

An official VIRTUE embedding depends on the longest row of its batch (see `evaluators.virtue`), so it
can only be reproduced by encoding the batches the official eval encodes: per task, queries in dataset
order (every row, repeats included), then the task's distinct candidates in first-seen order
(`generate_cand_dataset`), `batch_size` at a time, queries and candidates never mixed. An embedding
is cached under its item key combined with a signature of its batch, so the same item in another
batch is another cache entry and a rerun finds every batch it already encoded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from evaluators.protocol import Item
from evaluators.tasks.base import LoadedTask


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
    batches: list[Batch] = []
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
        batches += query_batches + candidate_batches
        keys.append(task_keys)
    return batches, keys
