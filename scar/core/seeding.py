"""Deterministic randomness: every random choice draws from a generator seeded by (seed, key).

Keys are strings such as an entity id, so any shard can be built in any order, on any machine,
and give the same rows.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of the parts that does not change between processes (unlike `hash`)."""
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def rng_for(seed: int, *key: object) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, stable_hash(*key)])
