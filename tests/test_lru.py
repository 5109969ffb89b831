"""The byte-budgeted LRU map under the decoded-picture and tower-output caches."""

from __future__ import annotations

from evaluators.models.lru import ByteBudgetLRU


def test_least_recently_used_leave_first_and_oversized_values_are_not_kept() -> None:
    lru = ByteBudgetLRU(10)
    lru.store("a", 1, 4)
    lru.store("b", 2, 4)
    assert lru.lookup("a") == 1  # now the most recent
    lru.store("c", 3, 4)  # 12 > 10: "b", the least recently used, leaves
    assert "b" not in lru and "a" in lru and "c" in lru and lru.size == 8
    lru.store("huge", 4, 11)
    assert "huge" not in lru and len(lru) == 2
    lru.store("a", 5, 6)  # a replaced value is counted once
    assert lru.size == 10 and lru.peek("a") == 5
    assert lru.lookup("missing") is None and lru.lookup(None) is None
    assert (lru.hits, lru.misses) == (1, 2)


def test_a_smaller_budget_drops_the_oldest_and_zero_disables() -> None:
    lru = ByteBudgetLRU(100)
    for i in range(5):
        lru.store(i, i, 10)
    lru.set_budget(25)
    assert [k for k in range(5) if k in lru] == [3, 4] and lru.size == 20
    lru.set_budget(0)
    assert not lru.enabled and len(lru) == 0
    lru.set_budget(100)
    lru.store("x", 1, 10)
    lru.clear()
    assert len(lru) == 0 and lru.size == 0
