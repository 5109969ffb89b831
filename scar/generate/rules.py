"""The rules every hard negative obeys, shared by the offline generator and the LLM path's filter.

A negative replaces one element of `<object> <relation> <scene>` and must make the caption false:
- object: the new object may not name the same thing as the gold one (synonym, hypernym, hyponym,
  two person words, a `near` pair: see scar.generate.taxonomy), nor be a part or a worn thing (an
  eye, a hand, glasses) unless the gold is one: beside whole-object golds a part marks the negative;
- relation: the new relation may not be a synonym of the gold one ("under" / "beneath") about the same
  anchor; relations are compared by meaning class, not by wording;
- scene: the new scene may not be the gold scene under another name or a confusable one (scenes.json);
and no two negatives of a row may mean the same (same class and anchor, same object, same scene).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from scar.generate.taxonomy import Taxonomy, default_taxonomy
from scar.generate.words import norm_name

SCENES_PATH = Path(__file__).resolve().parent.parent / "data" / "scenes.json"

# Meaning classes of relation wordings; the offline generator phrases relations from the first ones.
RELATION_CLASSES: dict[str, tuple[str, ...]] = {
    "up": ("on top of", "on", "above", "over", "atop", "up on", "resting on", "sitting on", "standing on"),
    "down": ("underneath", "under", "beneath", "below", "lying under"),
    "left": ("to the left of", "left of", "on the left of"),
    "right": ("to the right of", "right of", "on the right of"),
    "front": ("in front of",),
    "behind": ("behind", "in back of"),
    "near": ("next to", "beside", "near", "by", "close to", "alongside"),
    "far": ("far from", "far away from"),
    "f_left": ("on the left side of", "at the left edge of", "in the left part of"),
    "f_right": ("on the right side of", "at the right edge of", "in the right part of"),
    "f_top": ("at the top of", "in the upper part of"),
    "f_bottom": ("at the bottom of", "in the lower part of"),
    "f_middle": ("in the middle of", "in the centre of", "in the center of"),
    "f_top_left": ("in the top left corner of",),
    "f_top_right": ("in the top right corner of",),
    "f_bottom_left": ("in the bottom left corner of",),
    "f_bottom_right": ("in the bottom right corner of",),
}
_WORDINGS = sorted(((w, c) for c, ws in RELATION_CLASSES.items() for w in ws), key=lambda t: -len(t[0]))
_ARTICLES = {"a", "an", "the", "some", "two", "three", "several", "another", "one", "other"}
_CUT = re.compile(r"\b(with|that|which|who|of|on|in|at|near|under|behind|wearing|holding)\b")


def relation_class(relation: str) -> tuple[str | None, str]:
    """('up', 'the table') for 'on top of the table': the meaning class of its wording, and the anchor."""
    text = " ".join(relation.lower().split())
    for wording, cls in _WORDINGS:
        if text == wording or text.startswith(wording + " "):
            return cls, text[len(wording) :].strip()
    return None, text


def noun_phrase_core(phrase: str) -> str:
    """'The striped cat with a bell' -> 'striped cat': drop the article and trailing modifiers."""
    words = re.findall(r"[a-z][a-z\-']*", _CUT.split(phrase.lower())[0])
    return " ".join(w for w in words if w not in _ARTICLES)


def object_swap_allowed(gold_object: str, replacement: str, taxonomy: Taxonomy | None = None) -> bool:
    """False when the replacement may name the same thing as the gold object (the caption would stay true)."""
    tax = taxonomy or default_taxonomy()
    gold, new = noun_phrase_core(gold_object), noun_phrase_core(replacement)
    if not gold or not new:
        return False
    if _is_part(new, tax) and not _is_part(gold, tax):
        return False
    return not tax.may_be_same(gold, new)


def _is_part(core: str, taxonomy: Taxonomy) -> bool:
    concept = taxonomy.concept(core) or taxonomy.concept(core.split()[-1])
    return bool(concept and concept.whole)


def relation_swap_allowed(gold_relation: str, replacement: str, taxonomy: Taxonomy | None = None) -> bool:
    """False when the new relation says the same as the gold one: the same meaning class about an
    anchor that may be the same thing ("under the table" / "beneath the table")."""
    gold_cls, gold_anchor = relation_class(gold_relation)
    new_cls, new_anchor = relation_class(replacement)
    if gold_cls is None or new_cls is None:
        return " ".join(gold_relation.lower().split()) != " ".join(replacement.lower().split())
    if gold_cls != new_cls:
        return True
    return not _same_anchor(gold_anchor, new_anchor, taxonomy)


def _same_anchor(a: str, b: str, taxonomy: Taxonomy | None) -> bool:
    ca, cb = noun_phrase_core(a), noun_phrase_core(b)
    if not ca or not cb:  # frame relations: the anchor is the scene, compared elsewhere
        return ca == cb
    return (taxonomy or default_taxonomy()).may_be_same(ca, cb)


@lru_cache(maxsize=1)
def _scene_names() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    data = json.loads(SCENES_PATH.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    near: dict[str, set[str]] = {}
    for name, e in data["scenes"].items():
        for n in (name, *e.get("aliases", ())):
            names[norm_name(n)] = name
        near.setdefault(name, set()).update(e.get("near", ()))
        for other in e.get("near", ()):
            near.setdefault(other, set()).add(name)
    for side in ("indoor", "outdoor"):
        names[f"{side} scene"] = f"<{side}>"
    return names, {k: frozenset(v) for k, v in near.items()}


def scene_key(scene: str) -> str:
    """The scene a phrase names ('on a sunny beach' -> 'beach'), else the phrase without its preposition."""
    names, _ = _scene_names()
    words = re.findall(r"[a-z][a-z\-']*", scene.lower())
    for start in range(len(words)):
        for end in range(len(words), start, -1):
            key = names.get(" ".join(words[start:end]))
            if key:
                return key
    return " ".join(w for w in words if w not in _ARTICLES and w not in ("in", "on", "at"))


def scene_swap_allowed(gold_scene: str, replacement: str) -> bool:
    """False for the gold scene under another name or adjective, and for a confusable scene."""
    a, b = scene_key(gold_scene), scene_key(replacement)
    _, near = _scene_names()
    return a != b and b not in near.get(a, ())


def meaning_key(kind: str, part: str, taxonomy: Taxonomy | None = None) -> str:
    """What a replaced part says, for spotting two negatives that mean the same."""
    tax = taxonomy or default_taxonomy()
    if kind == "object":
        core = noun_phrase_core(part)
        keys = sorted(tax.kinds(core)) or [core.split()[-1] if core else ""]
        return "object:" + "|".join(keys)
    if kind == "relation":
        cls, anchor = relation_class(part)
        core = noun_phrase_core(anchor)
        keys = sorted(tax.kinds(core)) or [core]
        return f"relation:{cls or part.lower()}:{'|'.join(keys)}"
    return "scene:" + scene_key(part)


def distinct_meanings(kind: str, parts: Iterable[str], taxonomy: Taxonomy | None = None) -> bool:
    keys = [meaning_key(kind, p, taxonomy) for p in parts]
    return len(set(keys)) == len(keys)
