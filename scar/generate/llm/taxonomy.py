"""The LLM path's local checks on drafted negatives: the rules of scar.generate.rules, which the offline
generator obeys too (a negative is no synonym, hypernym, hyponym or person-word twin of the gold part,
no relation synonym, no confusable scene, and no two negatives mean the same)."""

from __future__ import annotations

from typing import Callable, Iterable

from scar.generate.rules import meaning_key, object_swap_allowed, relation_swap_allowed, scene_swap_allowed
from scar.generate.taxonomy import default_taxonomy

ObjectSwapCheck = Callable[[str, str], bool]

__all__ = ["ObjectSwapCheck", "load_object_swap_check", "negative_problem", "object_swap_allowed"]


def negative_problem(kind: str, gold_part: str, replacement: str, accepted: Iterable[str] = ()) -> str:
    """Why this drafted negative breaks a rule ("" when it is fine). `accepted`: the replacements of the
    same kind already kept for this entity."""
    tax = default_taxonomy()
    if kind == "object" and not object_swap_allowed(gold_part, replacement, tax):
        return "object is a synonym, hypernym or hyponym of the gold object"
    if kind == "relation" and not relation_swap_allowed(gold_part, replacement, tax):
        return "relation says the same as the gold relation"
    if kind == "scene" and not scene_swap_allowed(gold_part, replacement):
        return "scene is the gold scene or a confusable one"
    key = meaning_key(kind, replacement, tax)
    if any(meaning_key(kind, other, tax) == key for other in accepted):
        return "means the same as another negative"
    return ""


def load_object_swap_check() -> ObjectSwapCheck:
    return object_swap_allowed
