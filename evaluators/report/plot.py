"""report.png: per task result, precision@1 with its interval (left) and its errors by winning negative type
(right, SCaR). Headless (Agg); no date or software metadata, so the same results give the same bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from evaluators.report.collect import TaskReport
from scar.core.schema import NEG_TYPES

MAX_ROWS = 40  # beyond this the labels stop being readable; report.md lists everything
_COLORS = {"object": "#1f77b4", "relation": "#ff7f0e", "scene": "#2ca02c"}


def write_plot(reports: Sequence[TaskReport], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = list(reports)[:MAX_ROWS]
    labels = [f"{r.model} | {r.task}" for r in shown]
    height = max(3.0, 0.32 * len(shown) + 1.6)
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, height), dpi=100, sharey=True)
    ys = list(range(len(shown)))
    p1 = [100 * r.analysis["precision@1"] for r in shown]
    low = [100 * (r.analysis["precision@1"] - r.analysis["precision@1_ci95"][0]) if r.analysis["precision@1_ci95"] else 0.0
           for r in shown]
    high = [100 * (r.analysis["precision@1_ci95"][1] - r.analysis["precision@1"]) if r.analysis["precision@1_ci95"] else 0.0
            for r in shown]
    left.barh(ys, p1, xerr=[low, high], color="#888888", capsize=3)
    left.set_yticks(ys, labels, fontsize=8)
    left.invert_yaxis()
    left.set_xlim(0, 100)
    left.set_xlabel("precision@1 (%), 95% bootstrap interval")
    left.grid(axis="x", alpha=0.3)
    left.set_axisbelow(True)
    start = [0.0] * len(shown)
    for kind in NEG_TYPES:
        shares = []
        for r in shown:
            errors = r.analysis.get("errors_by_negative_type") or {}
            total = sum(errors.values())
            shares.append(100 * errors.get(kind, 0) / total if total else 0.0)
        right.barh(ys, shares, left=start, color=_COLORS[kind], label=kind)
        start = [s + v for s, v in zip(start, shares)]
    for y, r in zip(ys, shown):
        if "errors_by_negative_type" not in r.analysis:
            right.text(1, y, "no negative types (not SCaR, or predictions without them)", va="center", fontsize=8,
                       color="grey")
        elif r.analysis["num_errors"] == 0:
            right.text(1, y, "no errors", va="center", fontsize=8, color="grey")
    right.axvline(100 / 3, color="grey", linestyle="--", linewidth=1)
    right.axvline(200 / 3, color="grey", linestyle="--", linewidth=1)
    right.set_xlim(0, 100)
    right.set_xlabel("share of errors by the winning negative's type (%); dashed: an even split")
    right.legend(fontsize=8, loc="lower right")
    if len(reports) > MAX_ROWS:
        fig.suptitle(f"first {MAX_ROWS} of {len(reports)} task results (all in report.md)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)
    return path
