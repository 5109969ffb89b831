"""The robustness files of a run: `<out>/<model>/<run>/robustness/<suite>-seed<N>/`.

  <task>.json                schema scar-robustness/1: per level P@1 (and expected P@1, ties, the realised
                             IoU / distance), its drop from the clean box and from its kind's own clean
                             prompt, the task's robustness score, the kinds skipped and why
  <task>.predictions.jsonl   per level and query: the perturbed prompt (box / point / mask RLE, realised
                             IoU or distance, how it was drawn), the gold's rank, the ranking and its ties
  summary.json               schema scar-robustness-summary/1: the model's score (definition included),
                             per level P@1 averaged over tasks, the reuse counts (embedding cache, text
                             items, image tower, SAM image encoder, decoded files) and the cost

The folder is a subfolder of the run folder, so `scar eval`'s result readers never see it; the
leaderboard finds the summaries with `summaries(results_dir)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from evaluators.results import run_dir, slug, write_json_atomic, write_jsonl_atomic
from scar.core.errors import InputFileError
from scar.core.jsonfiles import read_json

SCHEMA = "scar-robustness/1"
SUMMARY_SCHEMA = "scar-robustness-summary/1"
FOLDER = "robustness"
SUMMARY = "summary.json"


def suite_dir(out: Path, model: str, run: str, suite: str, seed: int) -> Path:
    return run_dir(out, model, run) / FOLDER / f"{slug(suite)}-seed{int(seed)}"


def write_task(folder: Path, record: Mapping[str, Any], predictions: Iterable[Mapping[str, Any]]) -> Path:
    path = folder / f"{slug(record['task'])}.json"
    write_jsonl_atomic(folder / f"{slug(record['task'])}.predictions.jsonl", predictions)
    write_json_atomic(path, dict(record))
    return path


def write_summary(folder: Path, summary: Mapping[str, Any]) -> Path:
    path = folder / SUMMARY
    write_json_atomic(path, dict(summary))
    return path


def summaries(results_dir: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every robustness summary under a results folder (`<model>/<run>/robustness/<suite>/summary.json`)."""
    for path in sorted(Path(results_dir).glob(f"*/*/{FOLDER}/*/{SUMMARY}")):
        data = read_json(path, "robustness summary")
        if not isinstance(data, dict) or data.get("schema") != SUMMARY_SCHEMA:
            raise InputFileError(path, f"not a {SUMMARY_SCHEMA} file")
        yield path, data
