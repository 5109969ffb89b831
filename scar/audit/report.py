"""The audit as data (JSON) and as a Markdown report."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from scar.audit.core import ALL_TYPES, P_AT_1_LIMIT, WIN_RATE_LIMIT, AuditResult
from scar.core.version import __version__

AUDIT_NAME = "audit.json"
TYPE_ORDER = ("object", "relation", "scene", ALL_TYPES)

HOW_TO_READ = (
    "Each blind scorer sees only the candidate captions, never the image. Per-candidate scorers score "
    "each caption alone, as an embedding model does. `P@1` is how often a scorer puts the gold first "
    "(chance {p1:.0%}); a win rate is how often the gold beats a negative of that type (chance 50%). "
    "Figures near chance mean a model must look at the image; a per-candidate scorer above "
    f"{P_AT_1_LIMIT:.0%} P@1 or {WIN_RATE_LIMIT:.0%} win rate marks a text-only shortcut. "
    "The consensus vote is listwise: one-element swaps make the gold the centre of its nine negatives, "
    "so it finds the gold by construction; only methods that compare candidates with each other can use that. "
    "The trained classifier learns gold vs negative from the training rows: above the limits, the negatives "
    "of that type carry an artefact a text-only model can learn."
)


def _sorted_types(win: dict[str, float]) -> list[str]:
    return sorted(win, key=lambda t: (TYPE_ORDER.index(t) if t in TYPE_ORDER else len(TYPE_ORDER), t))


def to_json(result: AuditResult, input_path: str, skipped: dict[str, int]) -> dict[str, Any]:
    sources: dict[str, Any] = {}
    for (source, split, name), tally in sorted(result.tallies.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2])):
        src = sources.setdefault(source, {"n": result.n_rows.get((source, None), 0), "scorers": {}, "splits": {}})
        entry = tally.to_dict()
        if split is None:
            src["scorers"][name] = entry
        else:
            sp = src["splits"].setdefault(
                split,
                {"n": result.n_rows.get((source, split), 0), "scored_by": result.training.get(f"{source}/{split}", ""), "scorers": {}},
            )
            sp["scorers"][name] = entry
    for (source, split, name), (n, why) in sorted(result.not_fitted.items()):
        src = sources.setdefault(source, {"n": result.n_rows.get((source, None), 0), "scorers": {}, "splits": {}})
        sp = src["splits"].setdefault(
            split, {"n": result.n_rows.get((source, split), 0), "scored_by": result.training.get(f"{source}/{split}", ""), "scorers": {}}
        )
        sp.setdefault("not_fitted", {})[name] = {"rows": n, "reason": why}
    for source, src in sources.items():
        src["passes"] = result.passes(source)
        src["neg_types_known"] = not any(ALL_TYPES in e["win_rate"] for e in src["scorers"].values())
    return {
        "toolkit_version": __version__,
        "input": input_path,
        "chance": result.chance,
        "limits": {"p_at_1": P_AT_1_LIMIT, "win_rate": WIN_RATE_LIMIT},
        "scorers": {s.name: {"description": s.description, "per_candidate": s.per_candidate} for s in result.scorers},
        "skipped_rows": skipped,
        "sources": sources,
    }


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _table(scorers: dict[str, Any], per_candidate: dict[str, bool]) -> list[str]:
    types: list[str] = []
    for e in scorers.values():
        types += [t for t in e["win_rate"] if t not in types]
    types = _sorted_types({t: 0.0 for t in types})
    head = "| scorer | rows | P@1 | " + " | ".join(f"win vs {t}" for t in types) + " |"
    lines = [head, "|---|---:|---:|" + "---:|" * len(types)]
    for name, e in scorers.items():
        label = name if per_candidate.get(name, True) else f"{name} (listwise)"
        cells = [_pct(e["win_rate"].get(t)) for t in types]
        lines.append(f"| {label} | {e['n']:,} | {_pct(e['p_at_1'])} | " + " | ".join(cells) + " |")
    return lines


def to_markdown(report: dict[str, Any], heading: str = "#") -> str:
    per_candidate = {n: s["per_candidate"] for n, s in report["scorers"].items()}
    lines = [
        f"{heading} SCaR benchmark audit",
        "",
        f"Input: `{report['input']}`.",
        "",
        HOW_TO_READ.format(p1=report["chance"]["p_at_1"]),
        "",
        "Scorers: " + "; ".join(f"`{n}`: {s['description']}" for n, s in report["scorers"].items()) + ".",
    ]
    if report.get("skipped_rows"):
        lines += ["", "Rows left out: " + ", ".join(f"{k} ({v:,})" for k, v in report["skipped_rows"].items()) + "."]
    for source, src in report["sources"].items():
        verdict = "passes" if src["passes"] else "FAILS"
        lines += [
            "",
            f"{heading}# {source}: {src['n']:,} rows, {verdict} "
            f"(per-candidate P@1 <= {report['limits']['p_at_1']:.0%}, win rates <= {report['limits']['win_rate']:.0%})",
            "",
        ]
        if not src["neg_types_known"]:
            lines += ["The file does not say which negative is of which type: win rates are over all negatives.", ""]
        lines += _table(src["scorers"], per_candidate)
        for split, sp in src["splits"].items():
            for name, nf in sp.get("not_fitted", {}).items():
                lines += ["", f"`{name}` not fitted for the {nf['rows']:,} {split} rows ({nf['reason']}): it scored none of them."]
        if len(src["splits"]) > 1:
            for split, sp in src["splits"].items():
                lines += ["", f"{split} ({sp['n']:,} rows, {sp['scored_by']}):", ""]
                lines += _table(sp["scorers"], per_candidate)
        elif src["splits"]:
            (split, sp), = src["splits"].items()
            lines += ["", f"All rows are {split} rows, {sp['scored_by']}."]
    lines.append("")
    return "\n".join(lines)


def write_build_audit(build_dir: Path, report: dict[str, Any], row_flags: dict[str, list[str]]) -> Path:
    """DIR/audit.json: the report plus `row_flags`, {row id: ["solved:<scorer>", ...]} for every row some
    blind scorer puts the gold of on top, alone (read by `scar browse`). Written atomically."""
    path = build_dir / AUDIT_NAME
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps({**report, "row_flags": dict(sorted(row_flags.items()))}, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
