"""MMEB-V2 averages: per task its group's headline metric, then meta-task, group and overall means.

`experiments/report_score_v2.py` reads each task's `<name>_score.json`, takes hit@1 (image, video) or
ndcg_linear@5 (visual documents) and prints the plain mean of each group's tasks; the paper's meta-task
columns are the means of their tasks and its Overall is the mean of all 78 tasks (VLM2Vec-V2-2B:
(36 x 64.9 + 18 x 34.6 + 24 x 65.4) / 78 = 58.0, the published figure). An average whose tasks are not
all present is None, with the missing tasks listed: never a mean of fewer (report_score_v2.py prints
the mean of whatever it found, and says which files are missing).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from evaluators.tasks.mmeb_v2.catalog import GROUPS, HEADLINE, META_TASKS, SCORED


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _complete(scores: Mapping[str, float], names: list[str]) -> float | None:
    if not names or any(n not in scores for n in names):
        return None
    return _mean([scores[n] for n in names])


def aggregate(scores: Mapping[str, float]) -> dict[str, Any]:
    """Official task name (or `mmeb-v2/<name>`) -> headline score, into the summary's `mmeb-v2` block."""
    plain = {name.removeprefix("mmeb-v2/"): float(v) for name, v in scores.items()}
    groups: dict[str, Any] = {}
    for group in GROUPS:
        names = [s.name for s in SCORED if s.group == group]
        groups[group] = {
            "metric": HEADLINE[group],
            "score": _complete(plain, names),
            "meta": {m: _complete(plain, [s.name for s in SCORED if s.group == group and s.meta_task == m])
                     for m in META_TASKS[group]},
            "found": sum(n in plain for n in names),
            "tasks": len(names),
        }
    all_names = [s.name for s in SCORED]
    missing = [n for n in all_names if n not in plain]
    return {
        "overall": _complete(plain, all_names),  # mean of the 78 tasks, as the paper's Overall
        "groups": groups,
        "tasks": {n: plain[n] for n in all_names if n in plain},
        "missing": missing,
        "complete": not missing,
    }


def headline(score_dict: Mapping[str, float], group: str) -> float:
    """A task's headline value from its official score dict."""
    return float(score_dict[HEADLINE[group]])


def summary_block(results: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The `mmeb-v2` block of a run's summary from its result records (None when it scored no V2 task)."""
    scores = {str(r["task"]): float(r["main_score"]) for r in results
              if str(r.get("task", "")).startswith("mmeb-v2/") and "main_score" in r}
    return aggregate(scores) if scores else None
