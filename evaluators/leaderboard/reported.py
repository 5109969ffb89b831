"""Published numbers (`evaluators/leaderboard/reported.json`, package data): load, validate, and check every Overall.

Each published Overall is recomputed from the row's own columns under the rule its source used.
A disagreement beyond rounding keeps the published value in the table and adds a footnote with
the recomputed one; a source that did not average the 36 MMEB tasks is flagged as such.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluators.tasks.catalog import MMEB, MMEB_META_TASKS, SCAR

from scar.core.errors import InputFileError
from scar.core.jsonfiles import read_json
from evaluators.leaderboard.aggregate import (
    ROUNDING_TOLERANCE,
    mean_of_datasets,
    mean_of_36_from_ind_ood,
    mean_of_36_from_meta,
    mean_of_meta_tasks,
)
from evaluators.leaderboard.model import (
    FLAG_AVERAGED_DIFFERENTLY,
    FLAG_IND_OOD_MISMATCH,
    FLAG_OVERALL_MISMATCH,
    IND,
    OOD,
    OVERALL,
    REPORTED,
    SUMMARY_COLUMNS,
    Row,
)

SCHEMA = "scar-reported/1"
DEFAULT_PATH = Path(__file__).resolve().with_name("reported.json")  # package data: ships in the wheel
AVERAGING_RULES = {
    SCAR: ("mean-of-5-datasets",),
    MMEB: ("mean-of-36-tasks", "mean-of-4-meta-tasks"),
}
_REQUIRED = ("benchmark", "model", "group", "source", "averaging", "values")


def load_reported(path: Path = DEFAULT_PATH) -> list[Row]:
    if not Path(path).exists():
        raise InputFileError(path, "reported results file not found (pass --reported PATH)")
    doc = read_json(path)
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise InputFileError(path, f"expected schema {SCHEMA!r}, found {found!r}")
    rows_in = doc.get("rows")
    if not isinstance(rows_in, list):
        raise InputFileError(path, "'rows' must be a list")
    return [_row(path, i, entry) for i, entry in enumerate(rows_in)]


def _row(path: Path, index: int, entry: Any) -> Row:
    record = f"row {index}"
    if not isinstance(entry, dict):
        raise InputFileError(path, "each row must be an object", record)
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise InputFileError(path, f"missing key(s) {', '.join(missing)}", record)
    record = f"row {index}: {entry['model']} {entry.get('variant') or ''}".rstrip()
    benchmark = entry["benchmark"]
    if benchmark not in SUMMARY_COLUMNS:
        raise InputFileError(path, f"unknown benchmark {benchmark!r}", record)
    if entry["averaging"] not in AVERAGING_RULES[benchmark]:
        raise InputFileError(path, f"unknown averaging rule {entry['averaging']!r} for {benchmark}", record)
    values = entry["values"]
    columns = SUMMARY_COLUMNS[benchmark]
    if not isinstance(values, dict) or set(values) != set(columns):
        raise InputFileError(path, f"values must have exactly the columns {', '.join(columns)}", record)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 100 for v in values.values()):
        raise InputFileError(path, "values must be percentages in [0, 100]", record)
    source = entry["source"]
    if not isinstance(source, dict) or not source.get("paper") or not source.get("table"):
        raise InputFileError(path, "source must name its paper and table", record)
    row = Row(
        benchmark=benchmark,
        kind=REPORTED,
        model=str(entry["model"]),
        group=str(entry["group"]),
        variant=entry.get("variant"),
        values={k: float(values[k]) for k in columns},
        averaging=entry["averaging"],
        source={k: str(v) for k, v in source.items()},
    )
    check_overall(row)
    return row


def check_overall(row: Row) -> None:
    """Recompute the row's Overall from its columns; flag and explain any disagreement."""
    v = row.values
    published = v[OVERALL]
    name = row.label
    if row.benchmark == SCAR:
        recomputed = mean_of_datasets(v)
        row.recomputed_overall = recomputed
        if abs(recomputed - published) > ROUNDING_TOLERANCE:
            row.flags.append(FLAG_OVERALL_MISMATCH)
            row.notes.append(
                f"{name}: published Overall {published:.1f}; the mean of its five published dataset scores "
                f"is {recomputed:.2f}."
            )
        return
    meta = {m: v[m] for m in MMEB_META_TASKS}
    of_36 = mean_of_36_from_meta(meta)
    from_ind_ood = mean_of_36_from_ind_ood(v[IND], v[OOD])
    row.recomputed_overall = of_36
    if row.averaging == "mean-of-4-meta-tasks":
        own = mean_of_meta_tasks(meta)
        row.flags.append(FLAG_AVERAGED_DIFFERENTLY)
        row.notes.append(
            f"{name}: the source's Overall {published:.1f} is the plain mean of the four meta-task scores "
            f"({own:.2f}), not the mean of 36 tasks; the mean of 36 implied by its meta-task scores is {of_36:.2f}."
        )
        if abs(own - published) > ROUNDING_TOLERANCE:
            row.flags.append(FLAG_OVERALL_MISMATCH)
        return
    if abs(of_36 - published) > ROUNDING_TOLERANCE:
        row.flags.append(FLAG_OVERALL_MISMATCH)
        row.notes.append(
            f"{name}: published Overall {published:.1f}; the mean of 36 implied by its meta-task scores "
            f"(10, 10, 12 and 4 tasks) is {of_36:.2f}, and by its IND/OOD scores (20 and 16 tasks) {from_ind_ood:.2f}."
        )
    elif abs(from_ind_ood - published) > ROUNDING_TOLERANCE:
        row.flags.append(FLAG_IND_OOD_MISMATCH)
        row.notes.append(
            f"{name}: published Overall {published:.1f} agrees with its meta-task scores ({of_36:.2f}), but its "
            f"IND/OOD scores imply {from_ind_ood:.2f}."
        )
