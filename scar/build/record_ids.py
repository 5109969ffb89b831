"""Row ids are unique in every build: an entity whose id the build has already seen is rejected.

Loaders reject the duplicates they can name (a repeated annotation, ref, object or image id); this is
the net under them, applied to the whole record stream of a build (all splits). Replacing an entity by
a rejection keeps every record's position, so shard boundaries do not move. Ids are kept as 8-byte
digests (about 40 bytes each in the set, a million entities in 40 MB); a stable hash keeps the choice
the same in every worker process.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Iterator

from scar.core.schema import Entity, Rejected
from scar.sources.base import Record

DUPLICATE_ID = "duplicate entity id"


class UniqueIds:
    def __init__(self) -> None:
        self._seen: set[bytes] = set()

    def filter(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            if isinstance(record, Entity):
                digest = hashlib.blake2b(record.id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
                if digest in self._seen:
                    yield Rejected(record.source, record.id, DUPLICATE_ID, detail="an earlier entity has this row id")
                    continue
                self._seen.add(digest)
            yield record
