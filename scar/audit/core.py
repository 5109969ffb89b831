"""The audit itself: fit the blind scorers on training captions, score held-out rows, tally.

Who trains on what. Rows of the eval split are scored by scorers fitted on the train split's rows;
train rows (and every row when the input has no train split, e.g. an official eval file) are scored
by 2-fold cross-fitting: the rows are halved by a fixed hash of their image, each half scored by
scorers fitted on the other half, so no caption is ever scored by a model that has read it, and no
image's captions are split between training and scoring. The rows stream past once: fitting keeps
the trigram counts of every gold and the candidates of at most `TRAIN_ROWS_CAP` rows per training
set (for the trained classifier), scoring a fixed sample per (source, split) (all rows unless capped).
A scorer that cannot be fitted on a training set (too few rows) says why (`not_fitted`); it then scores
no row of that (source, split), and the report says so.

What is counted, per (source, split) and per source, for each scorer:
  p_at_1    share of rows where the gold scores highest (a tie at the top counts 1/k);
  win_rate  per negative type, share of (gold, negative) pairs where the gold scores higher (ties 1/2).
Chance is 1/len(candidates) and 1/2. A row is "solved" by a scorer when the gold alone is on top.
"""

from __future__ import annotations

import heapq
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from scar.audit.rows import AuditRow
from scar.audit.scorers import BlindScorer
from scar.audit.training import Training

ALL_TYPES = "all"  # the win-rate key when a file does not say which negative is which
P_AT_1_LIMIT = 0.15
WIN_RATE_LIMIT = 0.65


def _fold(row: AuditRow) -> int:
    return zlib.crc32((row.image or row.id).encode("utf-8")) & 1


@dataclass
class Tally:
    n: int = 0
    top: float = 0.0
    wins: dict[str, list[float]] = field(default_factory=dict)  # type -> [wins, pairs]

    def add(self, scores: Sequence[float], neg_types: Sequence[str] | None) -> bool:
        """Count one row; True when the gold alone is on top."""
        gold = scores[0]
        best = max(scores)
        self.n += 1
        if gold == best:
            self.top += 1.0 / sum(1 for s in scores if s == best)
        types = neg_types or [ALL_TYPES] * (len(scores) - 1)
        for kind, s in zip(types, scores[1:]):
            w = self.wins.setdefault(kind, [0.0, 0])
            w[0] += 1.0 if gold > s else 0.5 if gold == s else 0.0
            w[1] += 1
        return gold == best and sum(1 for s in scores if s == best) == 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "p_at_1": round(self.top / self.n, 4) if self.n else None,
            "win_rate": {k: round(w / c, 4) for k, (w, c) in sorted(self.wins.items()) if c},
        }


@dataclass
class ScorerInfo:
    name: str
    description: str
    per_candidate: bool


@dataclass
class AuditResult:
    scorers: list[ScorerInfo]
    tallies: dict[tuple[str, str | None, str], Tally]  # (source, split or None for all, scorer) -> tally
    row_flags: dict[str, list[str]]
    training: dict[str, str]  # (source/split) -> how its rows were scored
    chance: dict[str, float]
    n_rows: dict[tuple[str, str | None], int]
    not_fitted: dict[tuple[str, str, str], tuple[int, str]] = field(default_factory=dict)  # (source, split, scorer) -> (rows, why)

    def passes(self, source: str) -> bool:
        """Every per-candidate scorer within the limits for this source (all splits together)."""
        for info in self.scorers:
            if not info.per_candidate:
                continue
            t = self.tallies.get((source, None, info.name))
            if t is None or not t.n:
                continue
            d = t.to_dict()
            if d["p_at_1"] > P_AT_1_LIMIT or any(v > WIN_RATE_LIMIT for v in d["win_rate"].values()):
                return False
        return True


class _Sample:
    """The rows of one (source, split) to score: all of them, or the `limit` with the smallest hash of
    their id (the same rows on every run), kept in a bounded heap while the rows stream past."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.heap: list[tuple[int, int, AuditRow]] = []
        self.seen = 0

    def offer(self, row: AuditRow) -> None:
        self.seen += 1
        key = (-zlib.crc32(row.id.encode("utf-8")), -self.seen)
        if self.limit is None or len(self.heap) < self.limit:
            heapq.heappush(self.heap, (*key, row))
        elif key > self.heap[0][:2]:
            heapq.heapreplace(self.heap, (*key, row))

    def rows(self) -> list[AuditRow]:
        return [r for *_, r in sorted(self.heap, key=lambda t: (-t[0], -t[1]))]


def run_audit(
    rows: Iterable[AuditRow],
    make_scorers: Callable[[], list[BlindScorer]],
    max_rows_per_split: int | None = None,
    external: Callable[[list[AuditRow]], Iterable[tuple[ScorerInfo, dict[str, list[float]]]]] | None = None,
) -> AuditResult:
    """Stream the rows once (memory: the trigram counts, the capped training rows and the scored sample,
    not all rows), then score.

    `external`: a hook given the scored rows that returns scores computed elsewhere (the LLM judge)."""
    # per source: Training of the train split's golds and of each half (by image) of its rows
    halves: dict[tuple[str, bool, int], Training] = {}
    samples: dict[tuple[str, str], _Sample] = {}
    for row in rows:
        is_train = row.split == "train"
        halves.setdefault((row.source, is_train, _fold(row)), Training()).add_row(row)
        samples.setdefault((row.source, row.split), _Sample(max_rows_per_split)).offer(row)
    infos: list[ScorerInfo] = []
    tallies: dict[tuple[str, str | None, str], Tally] = {}
    flags: dict[str, list[str]] = {}
    training: dict[str, str] = {}
    n_rows: dict[tuple[str, str | None], int] = {}

    def count(row: AuditRow, name: str, scores: Sequence[float]) -> None:
        solved = False
        for split in (row.split, None):
            solved = tallies.setdefault((row.source, split, name), Tally()).add(scores, row.neg_types) or solved
        if solved:
            flags.setdefault(row.id, []).append(f"solved:{name}")

    scored: list[AuditRow] = []
    fitted: dict[int, tuple[Training, list[BlindScorer]]] = {}
    not_fitted: dict[tuple[str, str, str], tuple[int, str]] = {}
    for source in sorted({s for s, _ in samples}):
        has_train = any(t for s, t, _ in halves if s == source and t)
        empty = Training()
        train_all = halves.get((source, True, 0), empty).merged(halves.get((source, True, 1), empty))
        for (s, split), sample in sorted(samples.items()):
            if s != source:
                continue
            rows = sample.rows()
            if not rows:
                continue
            if split != "train" and has_train:
                fits = [train_all] * len(rows)
                kept = len(train_all.examples())
                training[f"{source}/{split}"] = f"fitted on the {train_all.captions:,} train rows" + (
                    f" (the candidates of {kept:,} of them)" if kept < train_all.captions else "")
            else:  # score with the other half of this pool (train rows, or all rows of an eval-only input)
                fits = [halves.get((source, has_train, 1 - _fold(row)), empty) for row in rows]
                training[f"{source}/{split}"] = "2-fold cross-fitting by image"
            scores, left_out = _score(rows, fits, make_scorers, fitted)
            for name, why in left_out.items():
                not_fitted[source, split, name] = (len(rows), why)
            for row, row_scores in zip(rows, scores):
                n_rows[source, row.split] = n_rows.get((source, row.split), 0) + 1
                n_rows[source, None] = n_rows.get((source, None), 0) + 1
                for name, values in row_scores:
                    count(row, name, values)
                scored.append(row)
    if fitted and not infos:
        infos = [ScorerInfo(x.name, x.description, x.per_candidate) for x in next(iter(fitted.values()))[1]]
    by_id = {r.id: r for r in scored}
    for info, scores_by_id in (external(scored) if external is not None else ()):
        infos.append(info)
        for row_id, scores in sorted(scores_by_id.items()):
            row = by_id.get(row_id)
            if row is not None and len(scores) == len(row.candidates):
                count(row, info.name, scores)
    sizes = {len(r.candidates) for r in scored}
    chance = {"p_at_1": round(1.0 / min(sizes), 4) if sizes else 0.1, "win_rate": 0.5}
    return AuditResult(infos, tallies, flags, training, chance, n_rows, not_fitted)


def _score(
    rows: list[AuditRow], fits: list[Training], make_scorers: Callable[[], list[BlindScorer]],
    cache: dict[int, tuple[Training, list[BlindScorer]]],
) -> tuple[list[list[tuple[str, list[float]]]], dict[str, str]]:
    """(per row, (scorer, scores) in scorer order; {scorer: why} for the scorers left out). A scorer that
    cannot be fitted on one of these rows' training sets scores none of them, so each split's figures
    cover all its rows or none. Rows sharing a training set are scored together (`scores_many`)."""
    groups: dict[int, list[int]] = {}
    for i, fit in enumerate(fits):
        groups.setdefault(id(fit), []).append(i)
    by_group = {key: _fitted(make_scorers, fits[idx[0]], cache) for key, idx in groups.items()}
    left_out: dict[str, list[str]] = {}
    for scorers in by_group.values():
        for scorer in scorers:
            why = getattr(scorer, "not_fitted", None)
            if why and why not in left_out.setdefault(scorer.name, []):
                left_out[scorer.name].append(why)
    out: list[list[tuple[str, list[float]]]] = [[] for _ in rows]
    for key, idx in groups.items():
        batch = [rows[i] for i in idx]
        for scorer in by_group[key]:
            if left_out.get(scorer.name):
                continue
            many = getattr(scorer, "scores_many", None)
            values = many(batch) if many is not None else [scorer.scores(r) for r in batch]
            for i, v in zip(idx, values):
                out[i].append((scorer.name, v))
    return out, {name: "; ".join(whys) for name, whys in sorted(left_out.items()) if whys}


def _fitted(
    make_scorers: Callable[[], list[BlindScorer]], fit: Training, cache: dict[int, tuple[Training, list[BlindScorer]]]
) -> list[BlindScorer]:
    """Scorers fitted on this training set, made once per set (the rows of one half share them)."""
    found = cache.get(id(fit))
    if found is None or found[0] is not fit:
        scorers = make_scorers()
        for scorer in scorers:
            scorer.fit(fit)
        found = cache[id(fit)] = (fit, scorers)
    return found[1]
