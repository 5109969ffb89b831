"""The category taxonomy both generators share: names -> concepts, and which names may denote the same thing.

scar/data/taxonomy.json is generated from WordNet 3.0 by scripts/build_taxonomy.py (see there). Two
names are *related* (never a negative for each other) when they share a synset, one is a hypernym of
the other (car / vehicle, dog / animal), both are persons (man / skier / player: one person can be
all three, which hypernymy alone does not catch), or they are a `near` pair one image region can be
called either way (sky / clouds, table / desk), including the hyponyms of either side. Person words
that differ in gender or age (man / woman, man / boy) are the exception: they cannot be one person.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from scar.generate.words import head, norm_name

DATA = Path(__file__).resolve().parent.parent / "data" / "taxonomy.json"
ROLES = ("thing", "ground", "overhead", "backdrop", "surface", "carrier", "part")


@dataclass(frozen=True)
class Concept:
    key: str
    display: str
    det: str  # "a" (a/an chosen per phrase), "the", "some" or "" (mass and plural nouns)
    stuff: bool  # an amorphous region class (sky, grass, wall)
    role: str  # one of ROLES: how the thing sits in a picture
    colour: str  # colour class: any | natural | plant | none
    abstract: bool  # a hypernym only, never swapped in
    person: bool
    synset: str | None
    freq: int  # SemCor tag count: how common the word is in English
    depth: int  # number of hypernyms: larger = more specific
    gender: str | None = None  # persons: male | female, when the word says
    age: str | None = None  # persons: adult | child, when the word says
    whole: tuple[str, ...] = ()  # parts: the concepts they belong to (a hand: person)

    @property
    def head(self) -> str:
        return head(self.display)


def _singular(word: str) -> str:
    for suffix, repl in (("ies", "y"), ("ves", "f"), ("ses", "s"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2 and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


class Taxonomy:
    def __init__(self, data: dict[str, Any]) -> None:
        cats: dict[str, dict[str, Any]] = data["categories"]
        self.concepts: dict[str, Concept] = {}
        self.lookup: dict[str, str] = {}
        for key, e in cats.items():
            self.concepts[key] = Concept(
                key=key,
                display=e.get("display", norm_name(key)),
                det=e.get("det", "a"),
                stuff=bool(e.get("stuff", False)),
                role=e.get("role", "thing"),
                colour=e.get("colour", "any"),
                abstract=bool(e.get("abstract", False)),
                person=bool(e.get("person", False)),
                synset=e.get("synset"),
                freq=int(e.get("freq", 0)),
                depth=len(e.get("ancestors", ())),
                gender=e.get("gender"),
                age=e.get("age"),
                whole=tuple(e.get("whole", ())),
            )
            for name in (key, *e.get("names", ())):
                self.lookup.setdefault(norm_name(name), key)
        self.lookup.update({norm_name(k): k for k in cats})  # a key always names itself
        self.lexicon: dict[str, tuple[str, ...]] = {n: tuple(ks) for n, ks in data.get("lexicon", {}).items()}
        self.related = self._related(cats, data.get("near", ()))

    def _related(self, cats: dict[str, dict[str, Any]], near_pairs: Any) -> dict[str, frozenset[str]]:
        by_synset: dict[str, set[str]] = {}
        for key, c in self.concepts.items():
            if c.synset:
                by_synset.setdefault(c.synset, set()).add(key)
        ancestors = {k: {a for s in cats[k].get("ancestors", ()) for a in by_synset.get(s, ())} for k in cats}
        descendants: dict[str, set[str]] = {k: set() for k in cats}
        for k, anc in ancestors.items():
            for a in anc:
                descendants[a].add(k)
        near: dict[str, set[str]] = {k: set() for k in cats}
        for a, b in near_pairs:
            near[a].add(b)
            near[b].add(a)
        persons = {k for k, c in self.concepts.items() if c.person}
        related: dict[str, set[str]] = {}
        for k, c in self.concepts.items():
            same = by_synset.get(c.synset, set()) if c.synset else set()
            lineage = {k} | same | ancestors[k]
            r = lineage | descendants[k] | {d for s in same for d in descendants[s]}
            for a in lineage:
                for n in near[a]:
                    r |= {n} | descendants[n]
            if c.person:  # any person word may name any person, unless they differ in gender or age
                r |= {p for p in persons if not self.exclusive(c, self.concepts[p])}
            related[k] = r
        for k, r in list(related.items()):  # symmetric: if a never swaps with b, b never swaps with a
            for other in r:
                related[other].add(k)
        return {k: frozenset(v) for k, v in related.items()}

    def wholes(self, key: str) -> frozenset[str]:
        """Every concept a part may belong to (its wholes and their relatives); empty for a non-part."""
        c = self.concepts.get(key)
        if c is None or not c.whole:
            return frozenset()
        return frozenset().union(*(self.related.get(w, frozenset({w})) for w in c.whole))

    @staticmethod
    def exclusive(a: Concept, b: Concept) -> bool:
        """Two person words that cannot name the same person: a man and a woman, a man and a boy."""
        return bool(a.gender and b.gender and a.gender != b.gender) or bool(a.age and b.age and a.age != b.age)

    @classmethod
    def load(cls, path: Path | None = None) -> "Taxonomy":
        return cls(json.loads((path or DATA).read_text(encoding="utf-8")))

    def resolve(self, name: str) -> str | None:
        """The concept key a category name spells: exactly, as a plural, else by its head noun."""
        n = norm_name(name)
        key = self.lookup.get(n)
        if key is None and n.endswith("s"):
            key = self.lookup.get(_singular(n)) or self.lookup.get(n[:-1])
        if key is None and " " in n:
            key = self.lookup.get(head(n)) or self.lookup.get(_singular(head(n)))
        return key

    def kinds(self, name: str) -> frozenset[str]:
        """Every concept the name denotes or is a kind of: its own key, or for a noun outside the
        categories ("skier", "poodle") the categories WordNet files it under."""
        key = self.resolve(name)
        if key is not None:
            return frozenset({key})
        n = norm_name(name)
        found = self.lexicon.get(n) or self.lexicon.get(_singular(n)) or self.lexicon.get(head(n)) or ()
        return frozenset(found)

    def concept(self, name: str) -> Concept | None:
        """The concept whose properties (role, stuff, colour) the name has: exact, else the most specific kind."""
        kinds = self.kinds(name)
        if not kinds:
            return None
        return max((self.concepts[k] for k in kinds), key=lambda c: (c.depth, c.key))

    def relatives(self, name: str) -> frozenset[str]:
        """Keys never to be swapped in for this name (plus the name's own words, for unknown names)."""
        out: set[str] = set()
        for k in self.kinds(name):
            out |= self.related[k]
        n = norm_name(name)
        return frozenset(out | {n, head(n)})

    def may_be_same(self, a: str, b: str) -> bool:
        """True when the two names may denote the same thing (so one is no negative for the other)."""
        na, nb = norm_name(a), norm_name(b)
        if not na or not nb or na == nb or head(na) == head(nb) or _singular(head(na)) == _singular(head(nb)):
            return True
        ka, kb = self.kinds(na), self.kinds(nb)
        if ka and kb:
            return any(y in self.related[x] for x in ka for y in kb)
        return False

    def is_person(self, name: str) -> bool:
        return any(self.concepts[k].person for k in self.kinds(name))


@lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    return Taxonomy.load()
