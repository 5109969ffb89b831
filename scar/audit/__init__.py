"""`scar audit`: can a model that never sees the image pass this benchmark?

Blind baselines score the candidate captions of every row without the image (a length rule, a
Kneser-Ney trigram language model trained on gold captions, a gold-vs-negative classifier on word
n-grams, optionally an LLM judge) plus the listwise consensus vote; the report gives P@1 and
per-negative-type win rates per source and split.

Modules: rows (reading Parquet), ngram (the language model), training (what the scorers learn
from), trained (the classifier), scorers (the blind baselines), core (fitting plan and tallies),
report (JSON and Markdown), llm_judge (the optional LLM), cli.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from scar.audit.core import AuditResult, ScorerInfo, run_audit
from scar.audit.report import AUDIT_NAME, to_json, to_markdown, write_build_audit
from scar.audit.rows import AuditRow, iter_rows
from scar.audit.scorers import default_scorers

__all__ = ["AUDIT_NAME", "AuditRow", "audit_path", "to_markdown"]


def audit_path(
    path: Path,
    max_rows_per_split: int | None = None,
    external: Callable[[list[AuditRow]], list[tuple[ScorerInfo, dict[str, list[float]]]]] | None = None,
) -> tuple[dict[str, Any], AuditResult]:
    """Audit a build folder or a Parquet file: (the JSON report, the raw result with row flags).
    Rows are streamed; memory holds the trigram counts, the classifier's capped training rows and the
    scored rows (`max_rows_per_split`)."""
    skipped: dict[str, int] = {}
    result = run_audit(iter_rows(path, skipped), default_scorers, max_rows_per_split, external)
    return to_json(result, str(path), skipped), result

DEFAULT_BUILD_ROWS = 5000  # rows per source and split the build's own audit scores (a fixed sample)


def build_audit(build_dir: Path, max_rows_per_split: int | None = DEFAULT_BUILD_ROWS) -> tuple[dict[str, Any], str]:
    """The audit a build writes about itself: DIR/audit.json (report and row flags, for `scar browse`),
    and (the report, its Markdown) for stats.json and the dataset card."""
    report, result = audit_path(build_dir, max_rows_per_split)
    write_build_audit(build_dir, report, result.row_flags)
    return report, to_markdown(report, heading="##")
