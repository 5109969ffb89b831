"""Measured results: `<results>/<model_slug>/<run id>/<task_slug>.json` files written by `scar eval`
(any depth under `--results`; the model folder's mirrors of its latest run are skipped).

A result's score is its `precision@1`; an MMEB-V2 result's is its headline (`main_score`: hit@1 for
image and video tasks, `ndcg_linear@5` for visual documents), the value `report_score_v2.py` averages.

One row per (model, protocol, tie rule, subsample limit): mixing a `fixed`-protocol, strict-tie or
subsampled run into a full official row would make its averages meaningless. Result files written
before the protocol was recorded read as protocol "unrecorded". Results of different data under one
task name become separate columns with a warning (evaluators.leaderboard.data_split). A `scar build` or
`scar export` folder given as results is refused in one line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from evaluators.tasks.catalog import MMEB_V2, averaged, lookup

from evaluators.leaderboard.aggregate import aggregates
from evaluators.leaderboard.data_split import split_by_data
from evaluators.leaderboard.model import AVERAGING, MEASURED, UNRECORDED_PROTOCOL, Row
from evaluators.leaderboard.result_data import data_fields, refuse_data_folder
from evaluators.results import LATEST_KEY
from scar.core.errors import InputFileError, ScarError
from scar.core.jsonfiles import read_json

RESULT_SCHEMA = "scar-result/1"
SUMMARY_SCHEMA_PREFIX = "scar-summary/"
ROBUSTNESS_SCHEMA_PREFIX = "scar-robustness"
METRIC = "precision@1"
V2_METRIC = "main_score"  # an MMEB-V2 result's headline value
_REQUIRED = ("schema", "benchmark", "task", "model", METRIC)


@dataclass(frozen=True)
class Result:
    path: Path
    benchmark: str
    task: str
    model: str
    score: float  # percent (MMEB-V2: the task's headline)
    tie_rule: str
    limit: int | None
    protocol: str = UNRECORDED_PROTOCOL
    data: str = UNRECORDED_PROTOCOL  # data_provenance kind
    ties: tuple[float, float] | None = None  # flagged by `scar eval`: (% queries tied at the top, expected P@1 %)
    data_id: str | None = None  # which data set (evaluators.leaderboard.result_data)
    counts: tuple[int, int] | None = None  # (num_correct, num_pred), for --ci


def result_files(results_dir: Path) -> list[Path]:
    """The per-task JSON files of a results directory (or of one model's directory), sorted."""
    if not results_dir.is_dir():
        raise ScarError(f"results directory not found: {results_dir}")
    refuse_data_folder(results_dir)
    files = results_dir.rglob("*.json")
    return sorted(p for p in files if p.is_file() and p.name != "summary.json" and not p.name.startswith("."))


def read_result(path: Path) -> Result | None:
    """One result file, validated; None for a summary file. Bad files raise a one-line error naming the file."""
    doc = read_json(path, "JSON results file")
    if not isinstance(doc, dict):
        raise InputFileError(path, f"expected a JSON object, found {type(doc).__name__}")
    schema = doc.get("schema")
    if isinstance(schema, str) and schema.startswith((SUMMARY_SCHEMA_PREFIX, ROBUSTNESS_SCHEMA_PREFIX)):
        return None  # a summary, or a robustness file (its table: evaluators.robustness.board)
    if LATEST_KEY in doc:  # a mirror of a run already read from its run folder
        return None
    if schema != RESULT_SCHEMA:
        raise InputFileError(path, f"expected schema {RESULT_SCHEMA!r}, found {schema!r}")
    missing = [k for k in _REQUIRED if k not in doc]
    if missing:
        raise InputFileError(path, f"missing key(s) {', '.join(missing)}")
    task = doc["task"]
    info = lookup(task, doc.get("benchmark")) if isinstance(task, str) else None
    if info is None:
        raise InputFileError(path, f"unknown task {task!r} (see `scar tasks`)")
    if doc["benchmark"] != info.benchmark:
        raise InputFileError(path, f"task {task!r} belongs to {info.benchmark!r}, file says {doc['benchmark']!r}")
    v2 = info.benchmark == MMEB_V2
    score = _fraction(path, doc, METRIC)
    if v2:
        if V2_METRIC not in doc:
            raise InputFileError(path, f"missing key {V2_METRIC} (an MMEB-V2 result's headline)")
        score = _fraction(path, doc, V2_METRIC)
    model = doc["model"]
    if not isinstance(model, str) or not model:
        raise InputFileError(path, "model must be a non-empty string")
    limit = doc.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise InputFileError(path, f"limit must be an integer or null, found {limit!r}")
    tie_rule = doc.get("tie_rule", "official")
    if tie_rule not in ("official", "strict"):
        raise InputFileError(path, f"tie_rule must be 'official' or 'strict', found {tie_rule!r}")
    protocol = doc.get("protocol", UNRECORDED_PROTOCOL)
    if protocol not in ("official", "fixed", UNRECORDED_PROTOCOL):
        raise InputFileError(path, f"protocol must be 'official' or 'fixed', found {protocol!r}")
    provenance = doc.get("data_provenance")
    data = provenance.get("kind") if isinstance(provenance, dict) else None
    data = data if isinstance(data, str) and data else UNRECORDED_PROTOCOL
    fields = data_fields(doc)
    if v2:  # the counts are hit@1's, not the headline's (visual documents: NDCG): no intervals from them
        fields["counts"] = None
    return Result(path, info.benchmark, task, model, 100.0 * score, tie_rule, limit, protocol, data, _ties(doc),
                  **fields)


def _fraction(path: Path, doc: dict, key: str) -> float:
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1 or math.isnan(value):
        raise InputFileError(path, f"{key} must be a fraction in [0, 1], found {value!r}")
    return float(value)


def _ties(doc: dict) -> tuple[float, float] | None:
    rate, expected = doc.get("tie_rate_top"), doc.get("expected_precision@1")
    fractions = all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in (rate, expected))
    return (100.0 * rate, 100.0 * expected) if doc.get("ties_flagged") is True and fractions else None


def display_name(model: str) -> str:
    """Registry names and HF ids as they are; a local directory by its last component (paths vary by machine)."""
    base, plus, variant = model.partition("+")
    looks_local = base.startswith(("/", ".", "~", "\\")) or PureWindowsPath(base).drive != ""
    if looks_local:
        parts = (PureWindowsPath(base) if "\\" in base else PurePosixPath(base)).parts
        base = parts[-1] if parts else base
    return base + plus + variant


def load_measured(results_dirs: list[Path]) -> list[Row]:
    return load_measured_with_warnings(results_dirs)[0]


def load_measured_with_warnings(results_dirs: list[Path]) -> tuple[list[Row], list[tuple[str, str]]]:
    """The measured rows, and a (benchmark, warning) per task name that holds results of different data (split apart)."""
    results = [r for d in results_dirs for p in result_files(Path(d)) if (r := read_result(p)) is not None]
    results, warnings = split_by_data(results)
    by_row: dict[tuple[str, str, str, int | None, str], dict[str, Result]] = {}
    for res in results:
        key = (res.benchmark, res.model, res.tie_rule, res.limit, res.protocol)
        tasks = by_row.setdefault(key, {})
        other = tasks.get(res.task)
        if other is not None and other.score != res.score:
            raise ScarError(
                f"{res.path}: {res.model} on {res.task} also in {other.path} with a different score "
                f"({res.score:.2f} vs {other.score:.2f}); pass only one of them"
            )
        tasks.setdefault(res.task, res)
    return [_row(key, tasks) for key, tasks in sorted(by_row.items(), key=lambda kv: _sort_key(kv[0]))], warnings


def _sort_key(key: tuple[str, str, str, int | None, str]) -> tuple[str, str, str, int, str]:
    benchmark, model, tie_rule, limit, protocol = key
    return benchmark, model, tie_rule, -1 if limit is None else limit, protocol


DATA_ORDER = ("official", "subsample", "self-built", "modified")


def _least_official(kinds) -> str:
    """The row's data: official only when every task's data is."""
    ranked = sorted(set(kinds), key=lambda k: DATA_ORDER.index(k) if k in DATA_ORDER else len(DATA_ORDER))
    return ranked[-1] if ranked else UNRECORDED_PROTOCOL


def _row(key: tuple[str, str, str, int | None, str], tasks: dict[str, Result]) -> Row:
    benchmark, model, tie_rule, limit, protocol = key
    name = display_name(model)
    base, plus, variant = name.partition("+")
    values = {t: r.score for t, r in tasks.items()}
    for column, value in aggregates(benchmark, values).items():
        if value is not None:
            values[column] = value
    in_average = {t.name for t in averaged(benchmark)}
    return Row(
        benchmark=benchmark,
        kind=MEASURED,
        model=base,
        group=base,
        variant=plus + variant if plus else None,
        values=values,
        averaging=AVERAGING[benchmark],
        tasks_done=len(in_average & set(tasks)),
        tasks_total=len(in_average),
        limit=limit,
        tie_rule=tie_rule,
        protocol=protocol,
        data=_least_official(r.data for r in tasks.values()),
        files=sorted(str(r.path) for r in tasks.values()),
        counts={t: r.counts for t, r in sorted(tasks.items()) if r.counts is not None},
        tie_notes={t: _tie_note(benchmark, name, t, r.ties) for t, r in sorted(tasks.items()) if r.ties is not None},
    )


def _tie_note(benchmark: str, model: str, task: str, ties: tuple[float, float]) -> str:
    rate, expected = ties
    if benchmark == MMEB_V2:
        return (f"{model} on {task}: ties at the top in {rate:.1f}% of queries; hit@1 with ties broken at random "
                f"{expected:.1f} (tied candidates are ordered as numpy's argsort orders them, as the official code does)")
    return (f"{model} on {task}: ties at the top in {rate:.1f}% of queries; expected P@1 {expected:.1f} "
            "(ties broken at random; the official rule counts a tie with the gold as a hit)")
