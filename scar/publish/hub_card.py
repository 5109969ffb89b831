"""The README.md of a build folder (and of a hub export): a Hugging Face dataset card.

Its YAML header makes `datasets.load_dataset(DIR)` read the SCaR rows rather than guess a layout
(without it, the `images/` folder makes it an image folder): one config per source plus `all`
(the default), each with the splits `train` and `test` (the build's `eval`, which the official
eval config calls `test`). `train` is listed first: `datasets` takes a config's columns from its
first split's files, and train shards hold every eval column plus the official training ones, so
`test` rows read those as null. Then the license (per source, `other` when they differ), the
card text of the build and the citations.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from scar.core.tempfiles import atomic_write_bytes
from scar.publish import terms as source_terms

README_NAME = "README.md"
HUB_SPLITS = (("train", "train"), ("eval", "test"))  # build split -> hub split, train first (see above)
DEFAULT_CONFIG = "all"


def built_splits(stats: dict[str, Any]) -> dict[str, list[str]]:
    """source -> the build splits it has shards of, train first."""
    out: dict[str, list[str]] = {}
    for name, src in sorted((stats.get("sources") or {}).items()):
        splits = (src or {}).get("splits") or {}
        have = [b for b, _ in HUB_SPLITS if int((splits.get(b) or {}).get("shards") or 0) > 0]
        if have:
            out[name] = have
    return out


def _data_files(sources: dict[str, list[str]]) -> list[dict[str, Any]]:
    files = []
    for build_split, hub_split in HUB_SPLITS:
        paths = [f"{s}/{build_split}-*.parquet" for s, splits in sources.items() if build_split in splits]
        if paths:
            files.append({"split": hub_split, "path": paths if len(paths) > 1 else paths[0]})
    return files


def configs(stats: dict[str, Any]) -> list[dict[str, Any]]:
    sources = built_splits(stats)
    if not sources:
        return []
    default = DEFAULT_CONFIG if DEFAULT_CONFIG not in sources else f"{DEFAULT_CONFIG}-sources"
    out = [{"config_name": default, "default": True, "data_files": _data_files(sources)}]
    out += [{"config_name": s, "data_files": _data_files({s: splits})} for s, splits in sources.items()]
    return out


def _size_category(rows: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                         (10_000_000, "1M<n<10M")):
        if rows < limit:
            return label
    return "10M<n<100M"


def _rows(stats: dict[str, Any], source: str, split: str) -> int:
    return int(((stats["sources"][source].get("splits") or {}).get(split) or {}).get("samples") or 0)


def _declared(stats: dict[str, Any]) -> dict[str, Any]:
    """Per source, what its own files said of their terms (stats.json `declared_terms`)."""
    return {name: src.get("declared_terms") for name, src in stats["sources"].items()}


def metadata(stats: dict[str, Any]) -> dict[str, Any]:
    sources = list(built_splits(stats))
    license_id = source_terms.dataset_license(sources, _declared(stats))
    total = sum(_rows(stats, s, split) for s, splits in built_splits(stats).items() for split in splits)
    meta: dict[str, Any] = {"pretty_name": "SCaR (self-built with scar-bench)", "license": license_id}
    if license_id == "other":
        meta["license_name"] = "scar-sources"
    meta.update({
        "language": ["en"],
        "task_categories": ["image-to-text"],
        "tags": ["scar", "image-text-retrieval", "referring-expressions", "region-grounding", "self-built"],
        "size_categories": [_size_category(total)],
    })
    cfg = configs(stats)
    if cfg:
        meta["configs"] = cfg
    return meta


def _images_line(stats: dict[str, Any], source: str) -> str:
    stored = (stats.get("images_roots") or {}).get(source)
    if not stored:
        return "not recorded"
    if Path(stored).is_absolute():
        return "outside this folder (its path at build time is `images_roots` in `stats.json`)"
    return f"`{stored}/` in this folder"


def _demote(card: str) -> str:
    """The build's card under this README's title: every heading one level down, code blocks untouched."""
    out, code = [], False
    for line in card.splitlines():
        if line.startswith("```"):
            code = not code
        out.append("#" + line if not code and re.match(r"^#{1,5} ", line) else line)
    return "\n".join(out)


def render(stats: dict[str, Any], card: str) -> str:
    sources = built_splits(stats)
    cfg = configs(stats)
    default = cfg[0]["config_name"] if cfg else DEFAULT_CONFIG
    header = yaml.safe_dump(metadata(stats), sort_keys=False, allow_unicode=True, width=120)
    lines = [
        "---", header.rstrip("\n"), "---", "",
        "# SCaR, self-built",
        "",
        "Segmentation-and-Scene Caption Retrieval (VIRTUE, arXiv 2510.00523), built with scar-bench from the",
        "sources below. **Not the official release** (`Sony/SCaR-Train`, `Sony/SCaR-Eval`): scores on it are",
        "not comparable with the paper's.",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f"rows = load_dataset(\"path/to/this/folder\")  # config `{default}`: every source",
    ]
    if sources:
        first = next(iter(sources))
        lines.append(f"rows = load_dataset(\"path/to/this/folder\", \"{first}\")  # one source")
    lines += [
        "```",
        "",
        "Splits: `train` and `test` (the build's `eval` split). `test` rows hold null in the training-only",
        "columns (`qry`, `pos_text`, `neg_text`, ...). `qry_image_path` is relative to its source's images",
        "root; `bbox` is COCO xywh in pixels; `tgt_text[0]` is the gold caption.",
        "",
        "| config | splits (rows) | images root |",
        "|---|---|---|",
    ]
    hub = dict(HUB_SPLITS)
    for source, splits in sources.items():
        counts = ", ".join(f"{hub[s]} ({_rows(stats, source, s):,})" for s in splits)
        lines.append(f"| `{source}` | {counts} | {_images_line(stats, source)} |")
    declared = _declared(stats)
    license_id = source_terms.dataset_license(list(sources), declared)
    lines += [
        "",
        "## License",
        "",
        f"`{license_id}`" + (": the sources' terms differ; each applies to its rows and images." if license_id == "other"
                             else ": the terms every source below shares."),
        "The captions were generated from the sources' annotations. This summary is not legal advice:",
        "read each source's own terms before redistributing its images.",
        "",
        "| source | terms |",
        "|---|---|",
    ]
    lines += [f"| `{s}` | {source_terms.terms(s, declared.get(s)).text} |" for s in sources]
    lines += ["", _demote(card).rstrip("\n"), "", "## Citation", "",
              "SCaR and VIRTUE, then the sources this build read:", "", "```bibtex"]
    lines += ["\n\n".join(source_terms.CITATIONS[k] for k in source_terms.citation_keys(list(sources), declared)), "```", ""]
    return "\n".join(lines)


def write_readme(out: Path, stats: dict[str, Any], card: str) -> Path:
    path = Path(out) / README_NAME
    atomic_write_bytes(path, render(stats, card).encode("utf-8"))
    return path
