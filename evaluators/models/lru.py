"""A least-recently-used map bounded by a byte budget, with hit and miss counts.

The shared mechanism of the process's caches of decoded pictures (`decoded`) and of image-tower
outputs (`vision_cache`): each says how many bytes a value holds; a value larger than the whole
budget is not kept, and the least recently used values leave first. Not thread-safe by itself (a
caller that shares it across threads holds its own lock).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Hashable


class ByteBudgetLRU:
    def __init__(self, budget_bytes: int = 0) -> None:
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
        self.budget = max(0, int(budget_bytes))
        self.size = 0
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.budget > 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key is not None and key in self._items

    def set_budget(self, budget_bytes: int) -> None:
        """A new budget; what no longer fits leaves, oldest first."""
        self.budget = max(0, int(budget_bytes))
        self._shrink()

    def lookup(self, key: Hashable) -> Any:
        """The value (now the most recently used), counting a hit; None, counting a miss."""
        value = self._items.get(key) if key is not None else None
        if value is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return value

    def peek(self, key: Hashable) -> Any:
        """The value without counting a hit or touching the order."""
        return self._items.get(key) if key is not None else None

    def store(self, key: Hashable, value: Any, size: int) -> None:
        """Keep `value` (`size` bytes) as the most recently used, unless it alone is over the budget."""
        if key is None or size > self.budget:
            return
        if key in self._items:
            self.size -= self._sizes[key]
            del self._items[key]
        self._items[key] = value
        self._sizes[key] = size
        self.size += size
        self._shrink()

    def clear(self) -> None:
        self._items.clear()
        self._sizes.clear()
        self.size = 0

    def _shrink(self) -> None:
        while self.size > self.budget and self._items:
            old, _ = self._items.popitem(last=False)
            self.size -= self._sizes.pop(old)
