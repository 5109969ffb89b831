"""Error analysis of a task from its per-query predictions: what beat the gold, and how sure precision@1 is.

Computed from the predictions alone (each query's ranking of its candidates, the gold's rank under the
run's tie rule), so it works the same for every model and can be recomputed from a
`<task>.predictions.jsonl` at any time (`scar report`). For a query the model got wrong, the *winning
negative* is the best-ranked candidate that is not the gold: the one the model picked, or under strict
ties the first that tied with it. On SCaR each negative replaces one part of the gold caption, so the
winning negative's type (object, relation, scene; the row's `neg_types`) says which part the model
failed to check. Breakdowns by the query's category and source come with it; MMEB tasks get only the
confidence interval (evaluators.bootstrap).

`annotate(score, record)` adds all of this to one task's result as `scar eval` writes it: per prediction
`winner` (the candidate picked at top-1: the gold when right), `winner_text`, `winner_type`, and the
query's `neg_types`, `category`, `source`; per result an `analysis` block (schema below).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping

from evaluators.bootstrap import precision_ci, settings
from scar.core.schema import NEG_TYPES

if TYPE_CHECKING:
    from evaluators.scoring import TaskScore
    from evaluators.tasks.base import Query

ANALYSIS_SCHEMA = "scar-analysis/1"
GOLD_TYPE = "gold"
UNKNOWN = "(unknown)"


def winning_negative(prediction: Mapping[str, Any]) -> int | None:
    """The index of the best-ranked non-gold candidate of a wrong query; None for a right one."""
    if int(prediction["gold_rank"]) == 1:
        return None
    gold = int(prediction.get("gold", 0))
    return next((int(i) for i in prediction["ranking"] if int(i) != gold), None)


def winner(prediction: Mapping[str, Any]) -> int:
    """The candidate picked at top-1 under the run's tie rule."""
    beaten_by = winning_negative(prediction)
    return int(prediction.get("gold", 0)) if beaten_by is None else beaten_by


def winning_type(prediction: Mapping[str, Any]) -> str | None:
    """The winning negative's type (object/relation/scene), None for a right query or one without types."""
    index = winning_negative(prediction)
    types = prediction.get("neg_types")
    gold = int(prediction.get("gold", 0))
    if index is None or not isinstance(types, list):
        return None
    position = index - 1 if index > gold else index  # neg_types lists the candidates other than the gold, in order
    return types[position] if 0 <= position < len(types) else None


def prediction_fields(query: Query, prediction: Mapping[str, Any]) -> dict[str, Any]:
    """What the analysis adds to one prediction line."""
    pick = winner(prediction)
    candidate = query.candidates[pick]
    fields: dict[str, Any] = {"winner": pick, "winner_text": candidate.text}
    if candidate.image is not None:
        fields["winner_image"] = candidate.image
    if query.candidate_types is not None:
        fields["winner_type"] = query.candidate_types[pick]
        fields["neg_types"] = [t for i, t in enumerate(query.candidate_types) if i != query.gold]
    if query.category is not None:
        fields["category"] = query.category
    if query.source is not None:
        fields["source"] = query.source
    return fields


def _correct(prediction: Mapping[str, Any]) -> bool:
    return int(prediction["gold_rank"]) == 1


def _typed(predictions: list[Mapping[str, Any]]) -> bool:
    return bool(predictions) and all(isinstance(p.get("neg_types"), list) for p in predictions)


def errors_by_type(predictions: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Wrong queries counted by their winning negative's type (every type listed, in NEG_TYPES order)."""
    counts = {t: 0 for t in NEG_TYPES}
    for prediction in predictions:
        kind = winning_type(prediction)
        if kind is not None:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def _group(predictions: list[Mapping[str, Any]]) -> dict[str, Any]:
    correct = sum(_correct(p) for p in predictions)
    return {"num_pred": len(predictions), "num_correct": correct, "precision@1": correct / len(predictions),
            "errors_by_negative_type": errors_by_type(predictions)}


def _by(predictions: list[Mapping[str, Any]], field: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for prediction in predictions:
        value = prediction.get(field)
        groups.setdefault(value if isinstance(value, str) and value else UNKNOWN, []).append(prediction)
    return {name: _group(groups[name]) for name in sorted(groups)}


def _rounded(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [round(ci[0], 6), round(ci[1], 6)]


def analyse_counts(num_correct: int, num_pred: int, task: str) -> dict[str, Any]:
    """The part of the `analysis` block the counts alone give: precision@1 and its 95% interval."""
    return {
        "schema": ANALYSIS_SCHEMA,
        "num_pred": num_pred,
        "num_correct": num_correct,
        "num_errors": num_pred - num_correct,
        "precision@1": num_correct / num_pred if num_pred else 0.0,
        "precision@1_ci95": _rounded(precision_ci(num_correct, num_pred, task)),
        "bootstrap": settings(),
    }


def analyse(predictions: Iterable[Mapping[str, Any]], task: str) -> dict[str, Any]:
    """The `analysis` block of a task from its predictions: precision@1 with its 95% interval and, when the
    predictions carry negative types (SCaR), the errors by winning negative type, by category and by source."""
    rows = list(predictions)
    result = analyse_counts(sum(_correct(p) for p in rows), len(rows), task)
    if _typed(rows):
        result["errors_by_negative_type"] = errors_by_type(rows)
        result["by_category"] = _by(rows, "category")
        result["by_source"] = _by(rows, "source")
    return result


def annotate(score: TaskScore, record: dict[str, Any]) -> None:
    """Add the winner fields to each of the task's predictions and the `analysis` block to its result record."""
    queries = {query.qid or str(index): query for index, query in enumerate(score.task.queries)}
    for prediction in score.predictions:
        query = queries.get(str(prediction["query"]))
        if query is not None:
            prediction.update(prediction_fields(query, prediction))
    record["analysis"] = analyse(score.predictions, str(record["task"]))
