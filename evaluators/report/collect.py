"""Read a results folder for `scar report`: every run's task results, each analysed from its predictions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluators.analysis import analyse, analyse_counts
from evaluators.leaderboard.result_data import refuse_data_folder
from evaluators.results import LATEST_KEY, RESULT_SCHEMA, SUMMARY_FILE, predictions_path
from scar.core.errors import InputFileError, ScarError
from scar.core.jsonfiles import json_lines, read_json


@dataclass(frozen=True)
class TaskReport:
    model: str
    run: str
    task: str
    benchmark: str
    tie_rule: str
    path: Path  # the result file
    analysis: dict[str, Any]  # evaluators.analysis.analyse of its predictions (analyse_counts without them)
    has_predictions: bool


def _predictions(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, row in json_lines(path, "predictions file"):
        rank, ranking = (row.get("gold_rank"), row.get("ranking")) if isinstance(row, dict) else (None, None)
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1 or not isinstance(ranking, list):
            raise InputFileError(path, "a prediction needs gold_rank (an integer >= 1) and ranking (a list)", record=f"line {number}")
        rows.append(row)
    return rows


def _result(path: Path) -> dict[str, Any] | None:
    doc = read_json(path, "JSON results file")
    if not isinstance(doc, dict) or doc.get("schema") != RESULT_SCHEMA or LATEST_KEY in doc:
        return None
    for key, kind in (("task", str), ("model", str), ("benchmark", str), ("num_correct", int), ("num_pred", int)):
        if not isinstance(doc.get(key), kind) or isinstance(doc.get(key), bool):
            raise InputFileError(path, f"{key} missing or not a {kind.__name__}")
    return doc


def collect(results_dir: Path) -> list[TaskReport]:
    """Every task result of every run under `results_dir` (the latest-run mirrors skipped), analysed."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ScarError(f"results directory not found: {results_dir}")
    refuse_data_folder(results_dir)
    reports = []
    for path in sorted(results_dir.rglob("*.json")):
        if path.name == SUMMARY_FILE or path.name.startswith(".") or not path.is_file():
            continue
        doc = _result(path)
        if doc is None:
            continue
        predictions = predictions_path(path)
        if predictions.is_file():
            analysis = analyse(_predictions(predictions), doc["task"])
        else:
            analysis = analyse_counts(doc["num_correct"], doc["num_pred"], doc["task"])
        run = str(doc.get("run_id") or path.parent.name)
        reports.append(TaskReport(doc["model"], run, doc["task"], doc["benchmark"], str(doc.get("tie_rule", "official")),
                                  path, analysis, predictions.is_file()))
    if not reports:
        raise ScarError(f"{results_dir}: no `scar eval` result files (<model>/<run>/<task>.json) found")
    return reports
