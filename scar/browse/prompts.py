"""Perturbed prompts for the browser: `scar browse --robustness FILE` reads the prompts a robustness run
drew (`scar eval --robustness`: `<task>.predictions.jsonl`, or the folder holding them) and the detail
view draws each over the query's image. Boxes are turned into the page's xywh; a line that is not a
prompt record is one error naming the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scar.core.errors import InputFileError, ScarError
from scar.core.jsonfiles import json_lines

SUFFIX = ".predictions.jsonl"


def prompt_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(path.glob(f"*{SUFFIX}")) if path.is_dir() else []
    if not files:
        raise ScarError(f"{path}: no robustness predictions (<task>{SUFFIX} of `scar eval --robustness`)")
    return files


def _compact(prompt: dict[str, Any], level: str, correct: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"l": level}
    box = prompt.get("box")
    if box is not None:
        x1, y1, x2, y2 = (float(v) for v in box)
        out["box"] = [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)]
    if prompt.get("point") is not None:
        out["pt"] = [round(float(v), 2) for v in prompt["point"]]
    mask = prompt.get("mask")
    if isinstance(mask, dict):
        out["m"] = {"size": [int(v) for v in mask["size"]], "counts": str(mask["counts"])}
    for key, short in (("iou", "iou"), ("distance", "d"), ("skipped", "s")):
        if prompt.get(key) is not None:
            out[short] = prompt[key]
    if isinstance(correct, bool):
        out["ok"] = correct
    return out


def read_prompts(path: Path) -> dict[str, list[dict[str, Any]]]:
    """query id -> its prompts, one per level, in the file's (the suite's) order."""
    prompts: dict[str, list[dict[str, Any]]] = {}
    for file in prompt_files(path):
        for number, row in json_lines(file, "robustness predictions file"):
            try:
                query, level, prompt = str(row["query"]), str(row["level"]), row["prompt"]
                compact = _compact(prompt, level, row.get("correct"))
            except (KeyError, TypeError, ValueError, AttributeError):
                raise InputFileError(file, "not a robustness prediction (query, level, prompt)",
                                     record=f"line {number}") from None
            prompts.setdefault(query, []).append(compact)
    return prompts
