"""The audit itself: fit the blind scorers on training captions, score held-out rows, tally.

Who trains on what. Rows of the eval split are scored by scorers fitted on every train row; train rows
(and every row when the input has no train split, e.g. an official eval file) are scored by 2-fold
cross-fitting: the rows are halved by a fixed hash of their image, each half scored by scorers fitted
on the other half, so no caption is ever scored by a model that has read it, and no image's captions
are split between training and scoring.

What is counted, per (source, split) and per source, for each scorer:
  p_at_1    share of rows where the gold scores highest (a tie at the top counts 1/k);
  win_rate  per negative type, share of (gold, negative) pairs where the gold scores higher (ties 1/2).
Chance is 1/len(candidates) and 1/2. A row is "solved" by a scorer when the gold alone is on top.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from scar.audit.rows import AuditRow
from scar.audit.scorers import BlindScorer

ALL_TYPES = "all"  # the win-rate key when a file does not say which negative is which
P_AT_1_LIMIT = 0.15
WIN_RATE_LIMIT = 0.65


def _fold(row: AuditRow) -> int:
    return zlib.crc32((row.image or row.id).encode("utf-8")) & 1


def _sample(rows: list[AuditRow], limit: int | None) -> list[AuditRow]:
    """At most `limit` rows, chosen by a fixed hash of their id (the same rows on every run)."""
    if limit is None or len(rows) <= limit:
        return rows
    return sorted(rows, key=lambda r: zlib.crc32(r.id.encode("utf-8")))[:limit]


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


def fit_plan(rows: Sequence[AuditRow]) -> list[tuple[list[AuditRow], list[AuditRow], str]]:
    """(rows to fit on, rows to score, how) for every scoring pass; every row is scored exactly once."""
    train = [r for r in rows if r.split == "train"]
    other = [r for r in rows if r.split != "train"]
    halves = (lambda rs: ([r for r in rs if _fold(r) == 0], [r for r in rs if _fold(r) == 1]))
    plan = []
    if train and other:
        plan.append((train, other, f"fitted on the {len(train):,} train rows"))
    pool = train if train else other
    a, b = halves(pool)
    how = "2-fold cross-fitting by image"
    plan += [(b, a, how), (a, b, how)]
    return [(fit, score, how) for fit, score, how in plan if score]


def run_audit(
    rows: Sequence[AuditRow],
    make_scorers: Callable[[], list[BlindScorer]],
    max_rows_per_split: int | None = None,
    external: Iterable[tuple[ScorerInfo, dict[str, list[float]]]] = (),
    progress: Callable[[int], None] | None = None,
) -> AuditResult:
    """Score and tally. `external`: scores computed elsewhere (the LLM judge), by row id, on a subset."""
    by_split: dict[tuple[str, str], list[AuditRow]] = {}
    for r in rows:
        by_split.setdefault((r.source, r.split), []).append(r)
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

    for source in sorted({s for s, _ in by_split}):
        source_rows = [r for (s, _), rs in sorted(by_split.items()) if s == source for r in rs]
        scored = {id(r) for (s, _), rs in by_split.items() if s == source for r in _sample(rs, max_rows_per_split)}
        for fit_rows, score_rows, how in fit_plan(source_rows):
            scorers = make_scorers()
            for scorer in scorers:
                scorer.fit(fit_rows)
            if not infos:
                infos = [ScorerInfo(s.name, s.description, s.per_candidate) for s in scorers]
            done = 0
            for row in score_rows:
                if id(row) not in scored:
                    continue
                training[f"{source}/{row.split}"] = how
                n_rows[source, row.split] = n_rows.get((source, row.split), 0) + 1
                n_rows[source, None] = n_rows.get((source, None), 0) + 1
                for scorer in scorers:
                    count(row, scorer.name, scorer.scores(row))
                done += 1
                if progress is not None and done % 256 == 0:
                    progress(256)
            if progress is not None:
                progress(done % 256)
    by_id = {r.id: r for r in rows}
    for info, scores_by_id in external:
        infos.append(info)
        for row_id, scores in sorted(scores_by_id.items()):
            row = by_id.get(row_id)
            if row is not None and len(scores) == len(row.candidates):
                count(row, info.name, scores)
    sizes = {len(r.candidates) for r in rows}
    chance = {"p_at_1": round(1.0 / min(sizes), 4) if sizes else 0.1, "win_rate": 0.5}
    return AuditResult(infos, tallies, flags, training, chance, n_rows)
