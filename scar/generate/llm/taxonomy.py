"""The object-swap rule shared with the offline generator: a negative's new object must not be a
synonym, hypernym or hyponym (or a listed near-confusable) of the gold object, else it is not
really false. The relation itself lives in scar.generate.offline.Taxonomy (scar/data/taxonomy.json);
this module only maps the LLM's free noun phrases ("the striped cat on the left") onto it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from scar.generate.offline import Taxonomy

ObjectSwapCheck = Callable[[str, str], bool]

_ARTICLES = {"a", "an", "the", "some", "two", "three", "several", "another", "one"}
_CUT = re.compile(r"\b(with|that|which|who|of|on|in|at|near|under|behind|wearing|holding)\b")


def noun_phrase_core(phrase: str) -> str:
    """'The striped cat with a bell' -> 'striped cat': drop the article and trailing modifiers."""
    words = re.findall(r"[a-z][a-z\-']*", _CUT.split(phrase.lower())[0])
    return " ".join(w for w in words if w not in _ARTICLES)


def _singular(word: str) -> str:
    for suffix, repl in (("ies", "y"), ("ves", "f"), ("ses", "s"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2 and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


def head_noun(phrase: str) -> str:
    core = noun_phrase_core(phrase).split()
    return _singular(core[-1]) if core else ""


@lru_cache(maxsize=1)
def _taxonomy() -> Taxonomy:
    return Taxonomy.load()


def _concept(tax: Taxonomy, phrase: str) -> str | None:
    core = noun_phrase_core(phrase)
    return tax.resolve(core) or tax.resolve(head_noun(phrase)) if core else None


def object_swap_allowed(gold_object: str, replacement: str, taxonomy: Taxonomy | None = None) -> bool:
    """False when the replacement would not make the caption false (same kind of thing)."""
    gold_head, new_head = head_noun(gold_object), head_noun(replacement)
    if not gold_head or not new_head or gold_head == new_head:
        return False
    tax = taxonomy or _taxonomy()
    gold_key, new_key = _concept(tax, gold_object), _concept(tax, replacement)
    if gold_key is not None and new_key is not None:
        return new_key not in tax.related[gold_key]
    return new_head not in tax.relatives(noun_phrase_core(gold_object))


def load_object_swap_check() -> ObjectSwapCheck:
    return object_swap_allowed
