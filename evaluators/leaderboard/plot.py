"""scar.png: grouped bars, one group per SCaR dataset (+ Overall), one bar per model row. Headless (Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from evaluators.leaderboard.model import EXTRA_COLUMNS, MEASURED, SCAR_COLUMNS, Row

MAX_BARS = 12  # beyond this many models per group the chart stops being readable
CHANCE = 10.0


def plotted_rows(rows: Sequence[Row]) -> list[Row]:
    """Measured rows first (the point of a run), then reported base models, then reported variants; at most MAX_BARS.

    Shown in Overall order, so the legend reads as a ranking.
    """
    columns = (*SCAR_COLUMNS, *EXTRA_COLUMNS["scar"])
    candidates = [r for r in rows if r.benchmark == "scar" and any(c in r.values for c in columns)]

    def score(row: Row) -> float:
        return row.overall if row.overall is not None else -1.0

    def priority(row: Row) -> tuple[int, float, str]:
        tier = 0 if row.kind == MEASURED else 1 if row.variant is None else 2
        return tier, -score(row), row.label.lower()

    chosen = sorted(candidates, key=priority)[:MAX_BARS]
    return sorted(chosen, key=lambda r: (-score(r), r.kind != MEASURED, r.label.lower()))


def write_scar_plot(rows: Sequence[Row], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    chosen = plotted_rows(rows)
    extras = [c for c in EXTRA_COLUMNS["scar"] if any(c in r.values for r in chosen)]
    columns = [*SCAR_COLUMNS, *extras]
    fig, ax = plt.subplots(figsize=(14, 6.5), dpi=110)
    if not chosen:
        ax.text(0.5, 0.5, "No SCaR results to plot", ha="center", va="center", fontsize=14)
        ax.set_axis_off()
    else:
        x = np.arange(len(columns))
        width = 0.84 / len(chosen)
        # tab20's dark shades first, then its light ones: neighbouring bars never look paired.
        palette = plt.get_cmap("tab20").colors
        colors = [*palette[0::2], *palette[1::2]]
        for i, row in enumerate(chosen):
            heights = [row.values.get(c, np.nan) for c in columns]
            ax.bar(
                x - 0.42 + width * (i + 0.5),
                heights,
                width,
                label=f"{row.label} ({row.kind})",
                color=colors[i % len(colors)],
                hatch="//" if row.kind == MEASURED else None,
                edgecolor="white" if row.kind != MEASURED else "black",
                linewidth=0.4,
            )
        ax.axhline(CHANCE, color="grey", linestyle="--", linewidth=1, label="chance (10%)")
        labels = [c if c not in extras else f"{c}\n(not averaged)" for c in columns]
        ax.set_xticks(x, labels)
        ax.set_ylabel("Precision@1 (%)")
        top = max(v for r in chosen for c, v in r.values.items() if c in columns)
        ax.set_ylim(0, min(100.0, 10.0 * np.ceil(top / 10.0 + 0.5)))
        ax.set_title("SCaR: precision@1 per dataset")
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.08), frameon=False)
    fig.tight_layout()
    # No Software/date metadata: the same rows give the same bytes.
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)
    return path
