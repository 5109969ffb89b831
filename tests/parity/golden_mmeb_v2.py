"""Helpers for the MMEB-V2 golden data of the official eval.py on the fixture (tests/parity/mmeb_v2/)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from evaluators.models.protocol import Item
from evaluators.tasks.mmeb_v2.loaders import V2Task

GOLDEN = Path(__file__).parent / "data" / "mmeb_v2" / "golden_eval.json"


def load_golden() -> dict:
    return json.loads(GOLDEN.read_text())


def fixture_hash(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


class VectorCache:
    """The EmbeddingCache interface (`get`) over given vectors."""

    def __init__(self) -> None:
        self.rows: dict[str, np.ndarray] = {}

    def put(self, item: Item, vector: list[float]) -> None:
        v = np.asarray(vector, dtype=np.float32)
        old = self.rows.setdefault(item.key(), v)
        assert np.array_equal(old, v), f"one item, two official vectors: {item.text[:40]!r}"

    def get(self, keys: list[str]) -> np.ndarray:
        return np.stack([self.rows[k] for k in keys])


def official_cache(task: V2Task, golden_task: dict) -> VectorCache:
    """The official embeddings under the project's item keys: query i <- official row i, a candidate by name."""
    cache = VectorCache()
    assert len(task.queries) == len(golden_task["query_vectors"])
    vectors = golden_task["candidate_vectors"]
    for query, vector in zip(task.queries, golden_task["query_vectors"]):
        cache.put(query.item, vector)
        for name, item in zip(query.names, query.candidates):  # type: ignore[attr-defined]
            cache.put(item, vectors[name])
    return cache
