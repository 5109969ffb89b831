"""`scar audit`'s trained scorer: logistic regression on hashed word 1-3-grams, gold vs negative.

It must find an artefact the negatives carry (and fail the audit), stay at chance where golds and
negatives come from one distribution, never score a row with a model trained on it or on its image,
give the same report under any PYTHONHASHSEED, and say "not fitted" when there is too little to learn from.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from scar.audit.core import run_audit
from scar.audit.rows import AuditRow
from scar.audit.scorers import default_scorers
from scar.audit.trained import MIN_TRAIN_ROWS, TrainedNgramLR
from scar.audit.training import Training
from scar.cli import main

NAME = TrainedNgramLR.name
TYPES = ("object",) * 3 + ("relation",) * 3 + ("scene",) * 3
ROOT = Path(__file__).resolve().parents[1]

# golds draw every slot from the whole list, artefacts included, so a model of golds alone (the trigram
# LM) finds nothing odd in a negative; the negatives always put an artefact into the swapped slot
ARTEFACTS = {
    "object": ["eye", "hand", "ear", "foot"],
    "relation": ["stuck to", "glued to", "sewn to", "taped to"],
    "scene": ["in a void", "in a dream", "in a box", "in a cloud"],
}
PLAIN = {
    "object": ["cup", "dog", "lamp", "chair", "book", "vase", "clock", "plant"],
    "relation": ["left of", "right of", "above", "below", "near", "behind", "under", "beside"],
    "scene": ["in a kitchen", "in a park", "on a beach", "in a street", "in a bedroom", "in an office", "in a garden", "in a shop"],
}
ALL = {k: PLAIN[k] + ARTEFACTS[k] for k in PLAIN}


def caption(parts: dict[str, str], anchor: str) -> str:
    return f"a {parts['object']} {parts['relation']} the {anchor} {parts['scene']}"


def swapped_row(i: int, rng: random.Random, pools: dict[str, list[str]], split: str, source: str = "demo") -> AuditRow:
    """A gold and 3 + 3 + 3 one-slot swaps, each swapped value drawn from `pools[slot]`."""
    gold = {k: rng.choice(ALL[k]) for k in ALL}
    anchor = rng.choice(["table", "wall", "door", "window"])
    negatives = []
    for kind in ("object", "relation", "scene"):
        for value in rng.sample([v for v in pools[kind] if v != gold[kind]], 3):
            negatives.append(caption({**gold, kind: value}, anchor))
    return AuditRow(f"{source}:{split}:{i}", source, split, (caption(gold, anchor), *negatives), TYPES, image=f"{split}/img{i // 2}")


def dataset(pools: dict[str, list[str]], n_train: int, n_eval: int, seed: int = 0) -> list[AuditRow]:
    rng = random.Random(seed)
    return [swapped_row(i, rng, pools, "train") for i in range(n_train)] + [swapped_row(i, rng, pools, "eval") for i in range(n_eval)]


def write_rows(rows: list[AuditRow], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({
        "id": [r.id for r in rows], "source": [r.source for r in rows], "split": [r.split for r in rows],
        "qry_text": ["<|image_1|>\nFind the caption"] * len(rows), "qry_image_path": [f"{r.image}.jpg" for r in rows],
        "tgt_text": [list(r.candidates) for r in rows], "neg_types": [list(r.neg_types or ()) for r in rows],
        "bbox": [[0.0, 0.0, 1.0, 1.0]] * len(rows),
    }), path)  # fmt: skip
    return path


def figures(result, split: str | None = None, name: str = NAME) -> dict:
    return result.tallies[("demo", split, name)].to_dict()


def test_an_artefact_of_the_negatives_is_found_and_fails_the_audit():
    result = run_audit(dataset(ARTEFACTS, 300, 200), default_scorers)
    trained = figures(result)
    # a gold with an artefact word of its own (a third of the slots) can lose, hence not 100%
    assert trained["n"] == 500 and trained["p_at_1"] > 0.3, trained
    assert min(trained["win_rate"].values()) > 0.75, trained
    assert figures(result, "eval")["p_at_1"] > 0.3 and figures(result, "train")["p_at_1"] > 0.3
    assert figures(result, name="ngram")["p_at_1"] < trained["p_at_1"] / 2  # the LM of golds hardly sees it
    assert not result.passes("demo")
    assert "trained-ngram-lr" in {s.name for s in result.scorers if s.per_candidate}


def test_golds_and_negatives_from_one_distribution_stay_at_chance():
    result = run_audit(dataset(ALL, 300, 300), default_scorers)
    for split in ("train", "eval", None):
        trained = figures(result, split)
        assert trained["p_at_1"] <= 0.2, (split, trained)
        assert all(0.35 <= v <= 0.65 for v in trained["win_rate"].values()), (split, trained)


def memorisable(n: int, split: str) -> list[AuditRow]:
    """Every row unique (words no other row has), its image's twin row carrying the same candidates:
    any model that read the row or its twin puts the gold first."""
    rows = []
    for i in range(n):
        j = i // 2
        cands = (f"gold{j} alpha{j} beta{j}", *[f"neg{j}x{k} alpha{j} gamma{j}x{k}" for k in range(9)])
        rows.append(AuditRow(f"demo:{split}:{i}", "demo", split, cands, TYPES, image=f"img{j}"))
    return rows


def test_cross_fitting_never_scores_a_row_with_a_model_that_read_it_or_its_image():
    rows = memorisable(300, "train")
    leaky = TrainedNgramLR()
    training = Training()
    for r in rows:
        training.add_row(r)
    leaky.fit(training)
    hits = sum(s[0] == max(s) for s in leaky.scores_many(rows))
    assert hits / len(rows) > 0.9  # what a model that read them would do
    for split in ("train", "eval"):  # train rows, and an eval-only input: both cross-fitted by image
        result = run_audit(memorisable(300, split), default_scorers)
        trained = figures(result, split)
        assert trained["n"] == 300 and trained["p_at_1"] <= 0.15 and trained["win_rate"]["object"] <= 0.55, trained
        assert "cross-fitting" in result.training[f"demo/{split}"]


def test_training_keeps_the_same_bounded_rows_in_any_order():
    rows = dataset(ALL, 60, 0)
    a, b = Training(cap=25), Training(cap=25)
    for r in rows:
        a.add_row(r)
    for r in reversed(rows):
        b.add_row(r)
    assert a.examples() == b.examples() and len(a.examples()) == 25 and a.captions == 60
    merged = a.merged(Training(cap=25))
    assert merged.examples() == a.examples()


# runs `scar audit` and also writes every trained score at full precision (the report rounds figures)
AUDIT_AND_SCORES = """
import json, sys
from scar.audit import trained
from scar.cli import main
seen = []
scores_many = trained.TrainedNgramLR.scores_many
def spy(self, rows):
    out = scores_many(self, rows)
    seen.extend(zip([r.id for r in rows], out))
    return out
trained.TrainedNgramLR.scores_many = spy
code = main(["audit", sys.argv[1], "--markdown", sys.argv[2] + ".md"])
open(sys.argv[2] + ".scores", "w").write(json.dumps(sorted(seen)))
sys.exit(code)
"""


def _audit_in_subprocess(folder: Path, seed: str) -> tuple[str, str, str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = folder.parent / f"run-{seed}"
    subprocess.run([sys.executable, "-c", AUDIT_AND_SCORES, str(folder), str(out)],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)  # fmt: skip
    read = lambda p: p.read_text(encoding="utf-8")  # noqa: E731
    return read(folder / "audit.json"), read(out.with_suffix(".md")), read(out.with_suffix(".scores"))


def test_the_report_and_the_scores_are_the_same_under_any_hash_seed(tmp_path: Path):
    rows = dataset({k: ARTEFACTS[k][:2] + PLAIN[k] for k in PLAIN}, 120, 80, seed=3)
    folder = tmp_path / "build"
    write_rows([r for r in rows if r.split == "train"], folder / "demo" / "train-00000.parquet")
    write_rows([r for r in rows if r.split == "eval"], folder / "demo" / "eval-00000.parquet")
    first, second = _audit_in_subprocess(folder, "1"), _audit_in_subprocess(folder, "2")
    assert first == second
    audit_json, _, scores = first
    report = json.loads(audit_json)
    assert report["sources"]["demo"]["scorers"][NAME]["n"] == 200 and len(json.loads(scores)) == 200
    assert any(f"solved:{NAME}" in flags for flags in report["row_flags"].values())


def test_too_few_rows_is_reported_as_not_fitted(tmp_path: Path, capsys):
    rows = dataset(ARTEFACTS, 0, 24)  # an eval-only input: each cross-fitting half has ~12 training rows
    path = write_rows(rows, tmp_path / "rows.parquet")
    assert main(["audit", str(path), "--json", str(tmp_path / "a.json")]) == 0
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "a.json").read_text())
    src = report["sources"]["demo"]
    assert NAME in report["scorers"] and NAME not in src["scorers"]
    nf = src["splits"]["eval"]["not_fitted"][NAME]
    assert nf["rows"] == 24 and f"{MIN_TRAIN_ROWS} needed" in nf["reason"]
    assert f"`{NAME}` not fitted for the 24 eval rows" in out
    # a train split too small to fit on: neither split is scored, nothing crashes
    few = dataset(ARTEFACTS, 10, 40)
    result = run_audit(few, default_scorers)
    assert ("demo", None, NAME) not in result.tallies
    assert {k[1] for k in result.not_fitted if k[2] == NAME} == {"train", "eval"}
    assert figures(result, name="ngram")["n"] == 50


def test_strict_cli_fails_on_the_artefact_and_prints_the_scorer(tmp_path: Path, capsys):
    path = write_rows(dataset(ARTEFACTS, 100, 60), tmp_path / "rows.parquet")
    assert main(["audit", str(path), "--strict"]) == 1
    out = capsys.readouterr().out
    assert f"| {NAME} |" in out and "FAILS" in out and "logistic regression on hashed word 1-3-grams" in out
