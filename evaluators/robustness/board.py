"""`scar leaderboard`'s robustness outputs, written when the results hold robustness runs:
robustness.md (per model: clean P@1, score, mean drop, floor; per level: P@1 of every model) and
robustness.png (P@1 against the realised IoU of the box and mask levels, one line per model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from evaluators.robustness.results import summaries
from evaluators.robustness.score import DEFINITION
from evaluators.robustness.suite import REFERENCE

DASH = "–"
CHANCE = 10.0


def _pct(value: float | None, flagged: bool = False) -> str:
    if value is None:
        return DASH
    return f"{100 * value:.1f}" + ("†" if flagged else "")


def _num(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}"


def _cell(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_[]<>|" else c for c in text)


def collect(results_dirs: Sequence[Path]) -> list[dict[str, Any]]:
    found = [data for d in results_dirs for _, data in summaries(d)]
    return sorted(found, key=lambda s: (-(s.get("robustness") or -1.0), str(s["model"]), str(s["run_id"]),
                                        str(s["suite"]), int(s["seed"])))


def _label(s: dict[str, Any], all_: Sequence[dict[str, Any]]) -> str:
    label = str(s["model"])
    same = [o for o in all_ if o["model"] == s["model"]]
    if len(same) > 1:
        label += f" ({s['run_id']}, {s['suite']}, seed {s['seed']})"
    return label


def _level(s: dict[str, Any], level: str) -> dict[str, Any] | None:
    return next((row for row in s.get("levels", []) if row["level"] == level), None)


def render(rows: Sequence[dict[str, Any]]) -> str:
    lines = ["# Robustness of region prompts", "",
             f"How far P@1 falls when the prompt is imperfect (`scar eval --robustness`). {_cell(DEFINITION)}. "
             "† ties at the top past the run's threshold at some level (a model that scores every candidate "
             "alike is 100% P@1 under the official tie rule, and so looks robust).", "",
             "| model | tasks | clean box P@1 | robustness | mean drop (points) | no prompt (floor) | kinds skipped |",
             "|---|---|---|---|---|---|---|"]
    for s in rows:
        clean, floor = _level(s, REFERENCE), _level(s, "none:floor")
        skipped = ", ".join(k for k, v in s.get("kinds", {}).items() if not v.get("takes")) or DASH
        lines.append(f"| {_cell(_label(s, rows))} | {len(s.get('tasks', {}))} | "
                     f"{_pct(clean['precision@1'] if clean else None)} | "
                     f"{_num(s.get('robustness'))}{'†' if s.get('ties_flagged') else ''} | {_num(s.get('mean_drop'))} | "
                     f"{_pct(floor['precision@1'] if floor else None)} | {_cell(skipped)} |")
    levels: list[tuple[str, str]] = []
    for s in rows:
        for row in s.get("levels", []):
            if (row["level"], row["label"]) not in levels:
                levels.append((row["level"], row["label"]))
    if levels:
        lines += ["", "## P@1 per level (mean over tasks)", "",
                  "| level | " + " | ".join(_cell(_label(s, rows)) for s in rows) + " |",
                  "|---|" + "---|" * len(rows)]
        for level, label in levels:
            cells = []
            for s in rows:
                row = _level(s, level)
                cells.append(_pct(row["precision@1"], row["ties_flagged"]) if row else DASH)
            lines.append(f"| {_cell(label)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), dpi=110, sharey=True)
    for ax, kind, title in ((axes[0], "box", "boxes"), (axes[1], "mask", "masks")):
        for i, s in enumerate(rows):
            points = sorted((row["mean_iou"], 100 * row["precision@1"]) for row in s.get("levels", [])
                            if row["kind"] == kind and row.get("mean_iou") is not None)
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=_label(s, rows),
                        color=plt.get_cmap("tab10")(i % 10))
        ax.axhline(CHANCE, color="grey", linestyle="--", linewidth=1, label="chance (10%)")
        ax.set_xlabel(f"realised IoU with the true {kind} (mean per level)")
        ax.set_title(f"P@1 against the IoU of perturbed {title}")
        ax.set_xlim(0.4, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("Precision@1 (%)")
    axes[0].set_ylim(0, 100)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=4, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)
    return path


def write_board(results_dirs: Sequence[Path], out: Path) -> list[Path]:
    """robustness.md and robustness.png in `out` when any results folder holds a robustness run."""
    rows = collect(results_dirs)
    if not rows:
        return []
    md = out / "robustness.md"
    md.write_text(render(rows), encoding="utf-8")
    return [md, plot(rows, out / "robustness.png")]
