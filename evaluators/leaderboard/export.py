"""leaderboard.csv / leaderboard.json: the tables' rows for other tools, same order, full precision.

One column per summary column and task of every benchmark (`benchmark` says which a row is). Values are
percent: precision@1 for SCaR and MMEB; for MMEB-V2 each task's headline (hit@1 for image and video tasks,
ndcg_linear@5 for visual documents), its tasks named `mmeb-v2/<official name>`, its summary columns
`Image-CLS` ... `VisDoc` (evaluators.tasks.mmeb_v2.board) and the shared `Overall`.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Sequence

from evaluators.leaderboard.model import (
    MMEB_COLUMNS,
    MMEB_TASK_NAMES,
    MMEB_V2_COLUMNS,
    MMEB_V2_TASK_NAMES,
    SCAR_COLUMNS,
    Row,
    extra_columns,
)

SCHEMA = "scar-leaderboard/1"
_META_FIELDS = (
    "benchmark",
    "kind",
    "model",
    "variant",
    "label",
    "group",
    "source",
    "averaging",
    "tie_rule",
    "limit",
    "protocol",
    "data",
    "tasks_done",
    "tasks_total",
    "flags",
    "recomputed_overall",
)


def value_columns(rows: Sequence[Row] = ()) -> list[str]:
    seen: dict[str, None] = {}
    scar_extra, mmeb_extra, v2_extra = (extra_columns(rows, b) for b in ("scar", "mmeb", "mmeb-v2"))
    for name in (*SCAR_COLUMNS, *scar_extra, *MMEB_COLUMNS, *MMEB_TASK_NAMES, *mmeb_extra,
                 *MMEB_V2_COLUMNS, *MMEB_V2_TASK_NAMES, *v2_extra):
        seen.setdefault(name, None)
    return list(seen)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def row_record(row: Row) -> dict[str, Any]:
    order = {name: i for i, name in enumerate(value_columns())}
    record = {
        "benchmark": row.benchmark,
        "kind": row.kind,
        "model": row.model,
        "variant": row.variant,
        "label": row.label,
        "group": row.group,
        "source": row.source,
        "averaging": row.averaging,
        "tie_rule": row.tie_rule,
        "limit": row.limit,
        "protocol": row.protocol,
        "data": row.data,
        "tasks_done": row.tasks_done if row.kind == "measured" else None,
        "tasks_total": row.tasks_total if row.kind == "measured" else None,
        "flags": list(row.flags),
        "notes": list(row.notes),
        "recomputed_overall": _round(row.recomputed_overall),
        "values": {k: _round(row.values[k]) for k in sorted(row.values, key=lambda k: order.get(k, len(order)))},
    }
    if row.ci:  # only with `scar leaderboard --ci`
        record["ci95"] = {k: [_round(low), _round(high)]
                          for k, (low, high) in sorted(row.ci.items(), key=lambda kv: order.get(kv[0], len(order)))}
    return record


def to_json(rows: Sequence[Row]) -> str:
    doc = {
        "schema": SCHEMA,
        "metric": "precision@1, percent (mmeb-v2 rows: each task's headline, hit@1 or ndcg_linear@5, percent)",
        "rows": [row_record(r) for r in rows],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_csv(rows: Sequence[Row]) -> str:
    columns = value_columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*_META_FIELDS, *columns])
    for row in rows:
        record = row_record(row)
        source = row.source or {}
        meta = {
            **record,
            "source": f"{source['paper']}, {source['table']}" if source else "measured",
            "flags": ";".join(row.flags),
        }
        writer.writerow(
            [("" if meta[f] is None else meta[f]) for f in _META_FIELDS]
            + [("" if record["values"].get(c) is None else record["values"][c]) for c in columns]
        )
    return buffer.getvalue()


def write_exports(rows: Sequence[Row], out: Path) -> list[Path]:
    paths = [out / "leaderboard.csv", out / "leaderboard.json"]
    paths[0].write_text(to_csv(rows), encoding="utf-8")
    paths[1].write_text(to_json(rows), encoding="utf-8")
    return paths
