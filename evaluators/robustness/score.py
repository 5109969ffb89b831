"""Per-level rows of one task and the robustness score.

Robustness score (of a task): the mean, over every level of the suite the model takes except the
clean box (the reference: plain `scar eval`) and the no-prompt floor, of P@1(level) / P@1(clean box),
in percent. 100 = no loss under any perturbation, below 100 = a loss; null when P@1(clean box) is 0.
A model's score is the mean of its tasks' scores. Beside it: the mean drop, P@1(clean box) - P@1(level)
in points over the same levels. Both use the official P@1 (ties to the first index, or --strict-ties);
a level whose top score is tied in more than the tie threshold of its queries is flagged, and so is a
score that uses one (a constant model ties everywhere: its P@1 is 100% at every level and its score
100, flagged).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

from evaluators.metrics import TIE_WARN_RATE, ties_flagged
from evaluators.robustness.levels import LevelTask
from evaluators.robustness.suite import REFERENCE
from evaluators.scoring import TaskScore

DEFINITION = ("robustness = mean over the suite's levels the model takes, except the clean box and the no-prompt "
              "floor, of P@1(level) / P@1(clean box), in %; mean_drop = mean of P@1(clean box) - P@1(level), in points")


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return math.fsum(kept) / len(kept) if kept else None


def level_row(entry: LevelTask, score: TaskScore, how: str, tie_threshold: float = TIE_WARN_RATE) -> dict[str, Any]:
    summary = score.summary
    prompts = [p for p in entry.prompts.values() if not p.skipped]
    ties = summary.ties
    row: dict[str, Any] = {
        "level": entry.level.id,
        "kind": entry.level.kind,
        "label": entry.level.label,
        "how": how,
        "num_pred": summary.num_pred,
        "num_skipped": sum(score.skipped.values()),
        "skipped": score.skipped,
        "precision@1": summary.precision_at_1,
        "expected_precision@1": ties.expected_precision_at_1 if ties else summary.precision_at_1,
        "tie_rate_top": ties.rate_top if ties else 0.0,
        "ties_flagged": ties_flagged(summary, tie_threshold),
        "mean_iou": _mean(p.iou for p in prompts),
        "min_iou": min((p.iou for p in prompts if p.iou is not None), default=None),
        "max_iou": max((p.iou for p in prompts if p.iou is not None), default=None),
        "mean_distance": _mean(p.distance for p in prompts),
        "share_inside": _mean(float(p.inside) for p in prompts if p.inside is not None),
        "fallbacks": sum(p.method == "shrink" for p in prompts),
    }
    return row


def add_drops(rows: Sequence[dict[str, Any]]) -> None:
    """`drop` (from the clean box) and `drop_kind` (from the kind's own unperturbed level), in place."""
    p1 = {r["level"]: r["precision@1"] for r in rows}
    clean_of_kind: dict[str, float] = {}
    for r in rows:  # the suite lists each kind's unperturbed level first
        clean_of_kind.setdefault(r["kind"], r["precision@1"])
    for r in rows:
        r["drop"] = p1[REFERENCE] - r["precision@1"] if REFERENCE in p1 else None
        r["drop_kind"] = clean_of_kind[r["kind"]] - r["precision@1"] if r["kind"] in clean_of_kind else None


def scored_levels(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in rows if r["level"] != REFERENCE and r["kind"] != "none" and r["num_pred"] > 0]


def task_score(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    clean = next((r for r in rows if r["level"] == REFERENCE), None)
    levels = scored_levels(rows)
    ratio = None
    if clean is not None and clean["precision@1"] > 0 and levels:
        ratio = 100.0 * _mean(r["precision@1"] / clean["precision@1"] for r in levels)  # type: ignore[operator]
    return {
        "robustness": ratio,
        "mean_drop": None if clean is None or not levels else 100.0 * _mean(r["drop"] for r in levels),  # type: ignore[operator]
        "levels_scored": len(levels),
        "ties_flagged": any(r["ties_flagged"] for r in rows),
    }


def model_score(task_scores: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "robustness": _mean(s["robustness"] for s in task_scores.values()),
        "mean_drop": _mean(s["mean_drop"] for s in task_scores.values()),
        "ties_flagged": any(s["ties_flagged"] for s in task_scores.values()),
        "definition": DEFINITION,
    }
