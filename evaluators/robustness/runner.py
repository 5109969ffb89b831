"""The suite's run on one model, after plain `scar eval` encoded and scored the clean tasks.

Every level is a perturbed copy of each SCaR task (`evaluators.robustness.levels`); all of them go
through the engine in one call (`evaluators.runner.evaluate`), so the engine's own reuse applies
across levels: an item is encoded once (the clean queries and every candidate text are already in the
embedding cache from the clean run: no candidate is encoded again), items are batched by picture so a
model's image-tower cache (`evaluators.vision_cache`: CLIP's `image_cache`, the Qwen2-VL models'
`vision_cache`) runs the tower once per picture where the pixels do not depend on the prompt (no
variant, `+boxtext`, VIRTUE), VIRTUE's SAM image encoder runs once per picture too (its `sam_cache`:
only SAM's prompt encoder and mask decoder see the prompt), an image file is decoded once while its
items are encoded (`evaluators.models.decoded`, which `+crop` and `+circle` profit from: their tower
runs per prompt), and image files are checked and hashed once. The counts are reported (`reuse`).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from evaluators.distributed import DistContext
from evaluators.metrics import OFFICIAL, TIE_WARN_RATE, tie_warning
from evaluators.models.decoded import counts as decoded_counts
from evaluators.models.protocol import Embedder
from evaluators.robustness import results
from evaluators.robustness.levels import LevelTask, level_tasks
from evaluators.robustness.routing import Route
from evaluators.robustness.score import add_drops, level_row, model_score, task_score
from evaluators.robustness.suite import REFERENCE, Level
from evaluators.runner import evaluate
from evaluators.tasks.base import LoadedTask
from scar.core.errors import ScarError

TOWER_CACHES = ("image_cache", "vision_cache")  # FeatureCache attributes of the CLIP and Qwen2-VL embedders
SAM_CACHES = ("sam_cache",)  # VIRTUE's SAM image embeddings per picture


class KeptOpen:
    """The embedder with `close` made a no-op, so the clean run leaves it usable for the suite."""

    def __init__(self, embedder: Embedder) -> None:
        object.__setattr__(self, "_inner", embedder)

    def __getattr__(self, name: str) -> Any:
        if name == "close":
            return lambda: None
        return getattr(object.__getattribute__(self, "_inner"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_inner"), name, value)


def cache_counts(embedder: Embedder, names: Sequence[str]) -> dict[str, int]:
    """Hits and misses of the embedder's first per-picture cache among `names` ({} when it has none)."""
    for name in names:
        cache = getattr(embedder, name, None)
        if cache is not None and hasattr(cache, "hits"):
            return {"hits": int(cache.hits), "misses": int(cache.misses)}
    return {}


def tower_counts(embedder: Embedder) -> dict[str, int]:
    return cache_counts(embedder, TOWER_CACHES)


def counters(embedder: Embedder) -> dict[str, dict[str, int]]:
    """Every reuse counter, now: the image tower's and SAM's picture caches (where the model has them)
    and this process's decoded pictures."""
    return {"tower": tower_counts(embedder), "sam": cache_counts(embedder, SAM_CACHES), "decoded": decoded_counts()}


@dataclass
class SuiteSettings:
    name: str
    levels: Sequence[Level]
    seed: int
    routes: dict[str, Route]
    tie_rule: str = OFFICIAL
    tie_threshold: float = TIE_WARN_RATE
    batch_size: int = 16
    skip_bad: bool = False
    progress: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def taken(self) -> list[Level]:
        return [lvl for lvl in self.levels if self.routes[lvl.kind].takes]


def run_suite(embedder: Embedder, clean: Sequence[LoadedTask], full: Sequence[LoadedTask], settings: SuiteSettings,
              out: Path, run: str, cache_dir: Path, ctx: DistContext | None = None,
              clean_seconds: float | None = None, clean_encoded: int | None = None) -> Path | None:
    """Score every level of every SCaR task and write the files; returns the suite folder (rank 0)."""
    ctx = ctx or DistContext()
    pairs = [(c, f) for c, f in zip(clean, full) if c.info.benchmark == "scar"]
    if not pairs:
        raise ScarError("--robustness needs a SCaR task (MMEB items carry no region to perturb)")
    taken = settings.taken()
    started = time.perf_counter()
    before = counters(embedder)
    entries: list[tuple[str, LevelTask]] = []
    for c, f in pairs:
        entries += [(c.name, e) for e in level_tasks(c, f, taken, settings.seed)]
    build_seconds = time.perf_counter() - started
    scores, stats = ([], None)
    if entries:
        scores, stats = evaluate(embedder, [e.task for _, e in entries], cache_dir, batch_size=settings.batch_size,
                                 tie_rule=settings.tie_rule, ctx=ctx, skip_bad=settings.skip_bad,
                                 progress=settings.progress)
    if not ctx.is_main:
        return None
    suite_seconds = time.perf_counter() - started
    after = counters(embedder)
    info = embedder.info
    folder = results.suite_dir(out, info.name, run, settings.name, settings.seed)
    per_task: dict[str, dict[str, Any]] = {}
    rows_by_task: dict[str, list[dict[str, Any]]] = {}
    for (task_name, entry), score in zip(entries, scores):
        row = level_row(entry, score, settings.routes[entry.level.kind].how, settings.tie_threshold)
        rows_by_task.setdefault(task_name, []).append(row)
        if row["ties_flagged"]:
            print(tie_warning(info.name, f"{task_name} [{entry.level.id}]", score.summary, settings.tie_threshold),
                  file=sys.stderr)
    by_task = {c.name: c for c, _ in pairs}
    for task_name, task in by_task.items():
        rows = rows_by_task.get(task_name, [])
        add_drops(rows)
        per_task[task_name] = task_score(rows)
        predictions = _predictions(task_name, entries, scores)
        results.write_task(folder, {
            "schema": results.SCHEMA, "model": info.name, "model_id": info.model_id, "revision": info.revision,
            "protocol": info.protocol, "model_fingerprint": info.fingerprint, "run_id": run, "task": task_name,
            "dataset_fingerprint": task.fingerprint, "suite": settings.name, "seed": settings.seed,
            "tie_rule": settings.tie_rule, "reference": REFERENCE, **per_task[task_name], "levels": rows,
            "kinds": {k: {"takes": r.takes, "how": r.how} for k, r in settings.routes.items()},
        }, predictions)
    summary = {
        "schema": results.SUMMARY_SCHEMA, "model": info.name, "run_id": run, "suite": settings.name,
        "seed": settings.seed, "protocol": info.protocol, "tie_rule": settings.tie_rule, "reference": REFERENCE,
        **model_score(per_task), "tasks": per_task,
        "levels": _levels_over_tasks(rows_by_task, settings.levels),
        "kinds": {k: {"takes": r.takes, "how": r.how} for k, r in settings.routes.items()},
        "reuse": _reuse(entries, stats, before, after, clean_encoded),
        "cost": {"clean_seconds": None if clean_seconds is None else round(clean_seconds, 3),
                 "suite_seconds": round(suite_seconds, 3), "prompt_seconds": round(build_seconds, 3),
                 "suite_over_clean": None if not clean_seconds else round(suite_seconds / clean_seconds, 3),
                 "levels": len(taken)},
        **settings.extra,
    }
    results.write_summary(folder, summary)
    return folder


def _predictions(task_name: str, entries: list[tuple[str, LevelTask]], scores: list) -> list[dict[str, Any]]:
    out = []
    for (name, entry), score in zip(entries, scores):
        if name != task_name:
            continue
        scored = {p["query"]: p for p in score.predictions}
        for qid, prompt in entry.prompts.items():
            pred = scored.get(qid)
            row: dict[str, Any] = {"level": entry.level.id, "query": qid, "prompt": prompt.to_json()}
            if pred is not None:
                row |= {"gold_rank": pred["gold_rank"], "correct": pred["gold_rank"] == 1, "top": pred["ranking"][0],
                        "ranking": pred["ranking"], "top_tied": pred["top_tied"], "gold_tied": pred["gold_tied"]}
            out.append(row)
    return out


def _levels_over_tasks(rows_by_task: dict[str, list[dict[str, Any]]], levels: Sequence[Level]) -> list[dict[str, Any]]:
    out = []
    for level in levels:
        rows = [r for rows in rows_by_task.values() for r in rows if r["level"] == level.id]
        if not rows:
            continue
        ious = [r["mean_iou"] for r in rows if r["mean_iou"] is not None]
        out.append({"level": level.id, "kind": level.kind, "label": level.label,
                    "precision@1": sum(r["precision@1"] for r in rows) / len(rows),
                    "drop": None if any(r["drop"] is None for r in rows) else sum(r["drop"] for r in rows) / len(rows),
                    "mean_iou": sum(ious) / len(ious) if ious else None,
                    "ties_flagged": any(r["ties_flagged"] for r in rows), "tasks": len(rows)})
    return out


def _reuse(entries: list[tuple[str, LevelTask]], stats: Any, before: dict[str, dict[str, int]],
           after: dict[str, dict[str, int]], clean_encoded: int | None) -> dict[str, Any]:
    queries = sum(len(e.task.queries) for _, e in entries)
    candidates = sum(len(q.candidates) for _, e in entries for q in e.task.queries)
    distinct_candidates = len({c.key() for _, e in entries for q in e.task.queries for c in q.candidates})
    distinct_queries = len({q.item.key() for _, e in entries for q in e.task.queries})
    images = len({q.item.image for _, e in entries for q in e.task.queries})
    reuse: dict[str, Any] = {
        "query_references": queries,
        "distinct_query_items": distinct_queries,
        "candidate_references": candidates,
        "distinct_candidate_items": distinct_candidates,
        "pictures": images,
        "item_references": getattr(stats, "references", 0),
        "unique_items": getattr(stats, "unique", 0),
        "cached_items": getattr(stats, "cached", 0),  # found in the embedding cache: the clean run's work
        "encoded_items": getattr(stats, "encoded", 0),
        "clean_encoded_items": clean_encoded,
        "text_cached": getattr(stats, "text_cached", 0),  # text-only items (candidates) from the embedding cache
        "text_encoded": getattr(stats, "text_encoded", 0),
    }
    # per picture: reused = taken from the model's cache instead of computed; computed = run through it
    for name, (reused, computed) in (("tower", ("tower_reused", "tower_computed")),
                                     ("sam", ("sam_reused", "sam_computed"))):
        if before[name] and after[name]:
            reuse[reused] = after[name]["hits"] - before[name]["hits"]
            reuse[computed] = after[name]["misses"] - before[name]["misses"]
    # image files decoded by this process (a preprocessing worker process counts its own)
    reuse["decodes_reused"] = after["decoded"]["hits"] - before["decoded"]["hits"]
    reuse["decoded"] = after["decoded"]["misses"] - before["decoded"]["misses"]
    return reuse
