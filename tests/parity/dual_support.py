"""What the SigLIP and OpenCLIP parity tests share: the MMEB-layout fixture `data/dual/mmeb`, a family's
golden data, and the comparison (picks, num_correct, max abs diff per item) as test_parity_clip.py makes it."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from evaluators.cache import EmbeddingCache
from evaluators.tasks.catalog import ALL_TASKS
from evaluators.tasks.mmeb import load_mmeb_task
from scar.cli import main
from tests.parity.support import DATA, load_golden, unique_sides

MMEB = DATA / "dual" / "mmeb"
PINNED_COMMIT = "28fdbdd68a66374ec1b53207ad7a24b9979f1ab6"


def relative(path: str | None) -> str:
    return "" if path is None else Path(path).relative_to(MMEB / "images").as_posix()


def first_best(candidates: np.ndarray, query: np.ndarray) -> int:
    """The top-1 candidate by cosine (unit vectors), ties to the first index as np.argmax. Each score is
    its own row's sum: a matrix product (BLAS) may give two identical rows scores one ulp apart, which
    would break an exact tie (a repeated candidate) by position instead of to the first."""
    return int(np.argmax((candidates * query).sum(axis=1)))


class Family:
    """One family's golden data on the shared fixture, and the project run that must reproduce it."""

    def __init__(self, family: str, model: Path) -> None:
        self.family = family
        self.model = model

    def golden(self) -> dict:
        return load_golden(self.family)

    @property
    def task_names(self) -> list[str]:
        return list(self.golden()["tasks"])

    @lru_cache(maxsize=1)
    def tasks(self) -> dict:
        return {name: load_mmeb_task(ALL_TASKS[name], MMEB) for name in self.task_names}

    def recorded_inputs(self) -> dict:
        """The fixture rows as the golden file records them, rebuilt from what the project loads."""
        return {name: [[t.item.text, relative(t.item.image), [c.text for c in t.candidates],
                        [relative(c.image) for c in t.candidates]] for t in task.queries]
                for name, task in self.tasks().items()}

    def official_vectors(self, task: str) -> dict[tuple[str, str, str], np.ndarray]:
        """(side, text, image path relative to the images folder) -> the official embedding (L2-normalised)."""
        data = self.golden()["tasks"][task]["embeddings"]
        return {(side, text, image): np.asarray(vec) for side in ("qry", "tgt") for text, image, vec in data[side]}

    def compare(self, vectors_of) -> dict[str, dict]:
        """Per task: picks and num_correct from `vectors_of(distinct items) -> (n, d)` (each item encoded
        once, as the runner and the official scripts do, so repeated items tie exactly), max|d| to the
        official vectors overall and per item."""
        report = {}
        for name, task in self.tasks().items():
            official = self.official_vectors(name)
            sides = unique_sides(task)
            keys = list(sides)
            vectors = dict(zip(keys, vectors_of([sides[k][1] for k in keys])))
            diffs = {(side, item.text, relative(item.image)):
                     float(np.abs(vectors[k] - official[(side, item.text, relative(item.image))]).max())
                     for k, (side, item) in sides.items()}
            picks = [first_best(np.stack([vectors[c.key()] for c in query.candidates]), vectors[query.item.key()])
                     for query in task.queries]
            report[name] = {"picks": picks, "num_correct": sum(p == 0 for p in picks),
                            "max_abs_diff": max(diffs.values()), "diffs": diffs}
        return report

    def run_scar_eval(self, tmp_path: Path, *extra: str) -> tuple[dict, dict]:
        """`scar eval --family <family>` on the fixture; -> (comparison from its embedding cache, result files)."""
        out = tmp_path / "results"
        assert main(["eval", "--model", str(self.model), "--family", self.family, "--tasks", ",".join(self.task_names),
                     "--mmeb-root", str(MMEB), "--out", str(out), "--batch-size", "16", "--device", "cpu",
                     "--no-progress", *extra]) == 0
        (fingerprint,) = [d.name for d in (out / ".embed-cache").iterdir() if d.is_dir()]
        cache = EmbeddingCache(out / ".embed-cache", fingerprint)
        report = self.compare(lambda items: cache.get([item.key() for item in items]).astype(np.float64))
        results = {name: json.loads((out / self.model.name / f"{name}.json").read_text()) for name in self.task_names}
        return report, results


def encode_with(embedder, batch_size: int = 16):
    return lambda items: embedder.encode(items, batch_size=batch_size).numpy().astype(np.float64)


# The checks both families' tests make against their official run (`Family.run_scar_eval`).


def check_picks_and_counts(family: Family, official_run, task: str) -> None:
    report, results = official_run
    expected = family.golden()["tasks"][task]
    assert results[task]["protocol"] == "official" and results[task]["num_correct"] == expected["num_correct"]
    assert report[task]["num_correct"] == expected["num_correct"]  # the cache agrees with the result file
    assert report[task]["picks"] == expected["picks"], f"{task}: top-1 picks differ from the official script"


def check_embeddings(official_run, task: str, tolerance: float) -> None:
    diff = official_run[0][task]["max_abs_diff"]
    assert diff <= tolerance, f"{task}: max|d| {diff:.2e} > {tolerance:g}"


def check_fixed_protocol_differs(family: Family, tmp_path, tolerance: float) -> None:
    report, results = family.run_scar_eval(tmp_path, "--protocol", "fixed")
    assert all(r["protocol"] == "fixed" for r in results.values())
    assert all(report[t]["max_abs_diff"] > 100 * tolerance for t in report)  # every task has texts
    assert any(report[t]["picks"] != family.golden()["tasks"][t]["picks"] for t in report)
