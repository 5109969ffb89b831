"""What every caption/negative generator is: entities in, samples (or rejections with reasons) out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, Sequence

from scar.core.schema import Entity, GeneratorInfo, Rejected, Sample


class Generator(Protocol):
    info: GeneratorInfo

    def generate(self, entities: Sequence[Entity], images_root: Path | None) -> list[Sample | Rejected]:
        """One result per entity, in input order. Deterministic for a given seed and entity id.

        May raise scar.core.errors.BudgetExhausted: the pipeline then stops without writing the shard
        at hand; work already paid for must be kept (e.g. in a cache) so a rerun continues.
        """
        ...

    def stats(self) -> dict[str, Any]:
        """Counters for stats.json (requests, tokens, cost...); {} when there are none."""
        ...

    def close(self) -> None: ...
