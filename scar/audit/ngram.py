"""A word trigram language model with interpolated Kneser-Ney smoothing (Chen & Goodman 1998).

Dependency-free and small: counts in dicts, one discount per order. It is the audit's stand-in for
a text-only model that has read the gold captions: it learns which objects, relations and scenes
go together and which words are common, and nothing about any image.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable

BOS, EOS = "<s>", "</s>"
WORD_PATTERN = r"[a-z0-9]+(?:['-][a-z0-9]+)*"  # a word of a lower-cased caption
_WORD = re.compile(WORD_PATTERN)


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def trigrams(text: str) -> Iterable[tuple[str, str, str]]:
    words = [BOS, BOS, *tokens(text), EOS]
    return zip(words, words[1:], words[2:])


def _discount(counts: Iterable[int]) -> float:
    """D = n1 / (n1 + 2 n2), the usual estimate from the counts of counts (0.75 when undefined)."""
    hist = Counter(c for c in counts if c <= 2)
    n1, n2 = hist.get(1, 0), hist.get(2, 0)
    return n1 / (n1 + 2 * n2) if n1 and n2 else 0.75


class KneserNeyTrigram:
    """P(w | u v) interpolated with the continuation bigram and unigram, and a uniform floor for
    unseen words (so an unknown word costs about log(1 / (vocabulary + 1)) times the unigram weight)."""

    def __init__(self, sentences: Iterable[str] = (), counts: Counter[tuple[str, str, str]] | None = None) -> None:
        """From sentences, or from trigram counts already made (`trigram_counts`, summed over parts)."""
        tri: Counter[tuple[str, str, str]] = Counter(counts) if counts is not None else Counter()
        for s in sentences:
            tri.update(trigrams(s))
        self.d3 = _discount(tri.values())
        self.ctx2: Counter[tuple[str, str]] = Counter()  # c(u v .)
        self.types2: Counter[tuple[str, str]] = Counter()  # |{w: c(u v w) > 0}|
        cont2: Counter[tuple[str, str]] = Counter()  # N1+(. v w)
        for (u, v, w), c in tri.items():
            self.ctx2[u, v] += c
            self.types2[u, v] += 1
            cont2[v, w] += 1
        self.d2 = _discount(cont2.values())
        self.ctx1: Counter[str] = Counter()  # N1+(. v .)
        self.types1: Counter[str] = Counter()  # |{w: N1+(. v w) > 0}|
        cont1: Counter[str] = Counter()  # N1+(. w)
        for (v, w), c in cont2.items():
            self.ctx1[v] += c
            self.types1[v] += 1
            cont1[w] += 1
        self.d1 = _discount(cont1.values())
        self.tri, self.cont2, self.cont1 = tri, cont2, cont1
        self.total1 = sum(cont1.values())
        self.vocab = len(cont1)
        self._memo: dict[tuple[str, str, str], float] = {}
        self._texts: dict[str, tuple[float, int]] = {}

    def _p1(self, w: str) -> float:
        if not self.total1:
            return 1.0 / (self.vocab + 1)
        c = self.cont1.get(w, 0)
        return max(c - self.d1, 0.0) / self.total1 + self.d1 * self.vocab / self.total1 / (self.vocab + 1)

    def _p2(self, v: str, w: str) -> float:
        n = self.ctx1.get(v, 0)
        if not n:
            return self._p1(w)
        c = self.cont2.get((v, w), 0)
        return max(c - self.d2, 0.0) / n + self.d2 * self.types1[v] / n * self._p1(w)

    def logprob_word(self, u: str, v: str, w: str) -> float:
        key = (u, v, w)
        lp = self._memo.get(key)
        if lp is None:
            n = self.ctx2.get((u, v), 0)
            if n:
                c = self.tri.get(key, 0)
                p = max(c - self.d3, 0.0) / n + self.d3 * self.types2[u, v] / n * self._p2(v, w)
            else:
                p = self._p2(v, w)
            lp = self._memo[key] = math.log(p)
        return lp

    def logprob(self, text: str) -> tuple[float, int]:
        """(natural-log probability of the whole caption, number of predicted tokens incl. </s>)."""
        found = self._texts.get(text)
        if found is not None:
            return found
        words = [BOS, BOS, *tokens(text), EOS]
        total = 0.0
        for i in range(2, len(words)):
            total += self.logprob_word(words[i - 2], words[i - 1], words[i])
        if len(self._texts) < 1_000_000:
            self._texts[text] = (total, len(words) - 2)
        return total, len(words) - 2

