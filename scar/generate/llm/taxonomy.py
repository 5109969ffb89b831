"""The object-swap rule shared with the offline generator: a negative's new object must not be a
synonym, hypernym or hyponym of the gold object (else it is not really false).

Until scar.generate.offline exposes its taxonomy check, a conservative stand-in compares head nouns.
"""

from __future__ import annotations

import re
from typing import Callable

ObjectSwapCheck = Callable[[str, str], bool]

_ARTICLES = {"a", "an", "the", "some", "two", "three", "several", "another"}


def _head_noun(phrase: str) -> str:
    # the head of an English noun phrase is usually its last word before a preposition/relative clause
    words = re.findall(r"[a-z]+", phrase.lower().split(" with ")[0].split(" that ")[0].split(" of ")[0])
    words = [w for w in words if w not in _ARTICLES]
    if not words:
        return ""
    head = words[-1]
    for suffix, repl in (("ies", "y"), ("ves", "f"), ("ses", "s"), ("s", "")):
        if head.endswith(suffix) and len(head) > len(suffix) + 2:
            return head[: -len(suffix)] + repl
    return head


def head_noun_swap_allowed(gold_object: str, replacement: str) -> bool:
    gold, new = _head_noun(gold_object), _head_noun(replacement)
    return bool(gold and new) and gold != new and gold not in new and new not in gold


def load_object_swap_check() -> ObjectSwapCheck:
    return head_noun_swap_allowed
