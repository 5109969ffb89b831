"""`<out>/dataset_card.md`: the human-readable card of a build, rendered from its stats.json
(written by every build, copied by `scar export --layout hub`)."""

from __future__ import annotations

import json
from typing import Any

CARD_NAME = "dataset_card.md"


def render_card(stats: dict[str, Any]) -> str:
    lines = [
        "# SCaR dataset card",
        "",
        "Segmentation-and-Scene Caption Retrieval. One row = one query: an image, one entity's region",
        "(box `bbox` in COCO xywh pixels; `point` and `mask` where the source has them) and 10 candidate",
        "captions in `tgt_text`, the gold caption at index 0, then 9 hard negatives (3 object, 3 relation,",
        "3 scene swaps, each replacing exactly one element of `<object> <relation> <scene>`).",
        "The columns `qry_text`, `qry_image_path`, `tgt_text`, `bbox` are those the official SCaR evaluation",
        "reads; the rest are extensions it ignores. Train shards also carry the official training columns.",
        "",
        f"Built with scar-bench {stats.get('toolkit_version', '?')}.",
        "",
        "## Counts",
        "",
        "| source | split | shards | entities | samples | rejected |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, src in stats["sources"].items():
        for split, agg in sorted(src["splits"].items()):
            lines.append(
                f"| {name} | {split} | {agg['shards']} | {agg['entities']:,} | {agg['samples']:,} | {agg['rejected']:,} |"
            )
    for name, src in stats["sources"].items():
        m = src["manifest"]
        g = m["generator"]
        lines += [
            "",
            f"## {name}",
            "",
            f"Generator `{g['name']}` (model `{g['model']}`, prompts `{g['prompt_version']}`), seed {m['seed']}, "
            f"at most {m['source_options']['max_per_image']} entities per image.",
        ]
        if m.get("review"):
            lines += ["", f"Human review: the review file rejected {m['review']['rejected']:,} ids (sha256 "
                      f"`{m['review']['rejected_ids_sha256'][:16]}`); the rows they matched are left out and "
                      "counted as \"rejected by review\"."]
        for split, agg in sorted(src["splits"].items()):
            lines += ["", f"### {split}", "", "Negatives per type: " + ", ".join(
                f"{k} {v:,}" for k, v in agg["neg_types"].items()) + "."]
            cats = list(agg["categories"].items())
            lines += ["", "| category | samples |", "|---|---:|"]
            lines += [f"| {c} | {n:,} |" for c, n in cats[:50]]
            if len(cats) > 50:
                lines.append(f"| ({len(cats) - 50} more categories, {sum(n for _, n in cats[50:]):,} samples) | |")
            rej = agg["rejections"]["counts"]
            if rej:
                lines += ["", "Rejected records by reason:", "", "| reason | count |", "|---|---:|"]
                lines += [f"| {reason} | {n:,} |" for reason, n in rej.items()]
        if src.get("generator_usage"):
            lines += ["", "Generator usage: `" + json.dumps(src["generator_usage"], sort_keys=True) + "`"]
    lines.append("")
    return "\n".join(lines)

