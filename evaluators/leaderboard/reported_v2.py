"""Published MMEB-V2 rows: the official per-task score files of the release the VLM2Vec-V2 paper reports
(evaluators.tasks.mmeb_v2.board, package data), re-averaged here as `report_score_v2.py` averages them.

Each row cites its score file (TIGER-AI-Lab/VLM2Vec at the reference commit) and the paper. The sources give
every task's score, so a row holds the 78 tasks beside its averages, and its averages are computed, never
transcribed (VLM2Vec-V2.0-2B: 64.9 / 34.6 / 65.4, Overall 58.0, the paper's figures).
"""

from __future__ import annotations

from typing import Any, Mapping

from evaluators.tasks.catalog import MMEB_V2
from evaluators.tasks.mmeb_v2.board import OFFICIAL_COMMIT, PAPER_RELEASE, reported, reported_scores, summary_values

from evaluators.leaderboard.model import AVERAGING, REPORTED, Row

PAPER = "VLM2Vec-V2 (Meng et al., arXiv 2507.04590)"
_REPO = "TIGER-AI-Lab/VLM2Vec"


def _source(entry: Mapping[str, Any]) -> dict[str, str]:
    path = str(entry["source"]).split(" ", 2)[-1]  # "TIGER-AI-Lab/VLM2Vec 6e1e1d4 experiments/public/all_scores/..."
    return {
        "paper": PAPER,
        "table": f"official per-task scores, release {entry['release']} ({_REPO} {OFFICIAL_COMMIT[:7]} "
                 f"`{path.rsplit('/', 1)[-1]}`), averaged here as report_score_v2.py averages",
        "url": f"https://github.com/{_REPO}/blob/{OFFICIAL_COMMIT}/{path}",
    }


def load_reported_v2(release: str = PAPER_RELEASE) -> list[Row]:
    rows = []
    for entry in reported(release):
        scores = reported_scores(entry)
        averages = {k: v for k, v in summary_values(scores).items() if v is not None}
        rows.append(Row(benchmark=MMEB_V2, kind=REPORTED, model=str(entry["model"]), group=str(entry["model"]),
                        values={**scores, **averages}, averaging=AVERAGING[MMEB_V2], source=_source(entry)))
    return rows
