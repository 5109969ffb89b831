"""`scar audit`: the blind baselines, the tallies, reading build folders and official files, audit.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scar.audit import audit_path
from scar.audit.core import Tally, run_audit
from scar.audit.ngram import KneserNeyTrigram, tokens
from scar.audit.rows import AuditRow, read_rows
from scar.audit.scorers import ConsensusVote, LengthRule, NgramLM, Training, default_scorers
from scar.cli import main

TYPES = ("object",) * 3 + ("relation",) * 3 + ("scene",) * 3


def row(i: int, gold: str, negatives: list[str], split: str = "eval", source: str = "demo", types=TYPES) -> AuditRow:
    return AuditRow(f"{source}:{i}", source, split, (gold, *negatives), tuple(types) if types else None, image=f"img{i // 2}")


# ---------------------------------------------------------------- the language model


def test_kneser_ney_is_a_distribution_and_prefers_seen_sequences():
    lm = KneserNeyTrigram(["a dog on the grass in a park", "a cat on the sofa in a living room", "a dog on the sofa"])
    vocab = {w for s in ("a dog on the grass in a park a cat sofa living room",) for w in tokens(s)} | {"</s>"}
    for context in (("a", "dog"), ("the", "sofa"), ("never", "seen")):
        total = sum(math.exp(lm.logprob_word(*context, w)) for w in vocab)
        unseen = math.exp(lm.logprob_word(*context, "zebra-unknown"))
        assert total < 1.0 and total + unseen * 1 <= 1.0 + 1e-9  # mass is left for unseen words
        assert total > 0.5
    seen, _ = lm.logprob("a dog on the grass in a park")
    swapped, _ = lm.logprob("a sofa on the grass in a park")
    assert seen > swapped


def test_length_rules_and_consensus():
    r = row(0, "a dog on the mat", ["a cat on the mat", "a dog under the mat", "a dog on the big mat"])
    assert LengthRule(longest=True).scores(r) == [16.0, 16.0, 19.0, 20.0]
    assert LengthRule(longest=False).scores(r) == [-16.0, -16.0, -19.0, -20.0]
    consensus = ConsensusVote().scores(r)
    assert consensus.index(max(consensus)) == 0  # one-element swaps: the gold is the centre


def test_tally_counts_ties_fairly_and_flags_only_clear_wins():
    t = Tally()
    assert t.add([3.0, 1.0, 2.0], ["object", "scene"]) is True
    assert t.add([2.0, 2.0, 1.0], ["object", "scene"]) is False  # tied at the top: half a hit, not solved
    assert t.add([0.0, 1.0, 1.0], None) is False
    d = t.to_dict()
    assert d["n"] == 3 and d["p_at_1"] == round(1.5 / 3, 4)
    assert d["win_rate"] == {"all": 0.0, "object": 0.75, "scene": 1.0}


class Spy:
    """A scorer that checks it never scores a row whose gold it was fitted on, and notes what it scored."""

    name, per_candidate, description = "spy", True, "test"

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    def fit(self, train) -> None:
        self.train = train

    def scores(self, row):
        first = ("<s>", "<s>", row.gold.split()[0])
        assert self.train.trigrams[first] == 0, f"{row.id} scored by a model that read it"
        self.seen.append(row.id)
        return [0.0] * len(row.candidates)


def test_no_row_is_scored_by_a_model_that_read_it():
    rows = [row(i, f"gold{i} here", ["x", "y"], split="train" if i < 20 else "eval", types=None) for i in range(30)]
    seen: list[str] = []
    result = run_audit(rows, lambda: [Spy(seen)])
    assert result.n_rows[("demo", None)] == 30 and sorted(seen) == sorted(r.id for r in rows)
    assert "train rows" in result.training["demo/eval"] and "cross-fitting" in result.training["demo/train"]
    eval_only = run_audit([r for r in rows if r.split == "eval"], lambda: [Spy([])])
    assert "cross-fitting" in eval_only.training["demo/eval"]
    first: list[str] = []
    capped = run_audit(rows, lambda: [Spy(first)], max_rows_per_split=4)
    assert capped.n_rows[("demo", "train")] == 4 and capped.n_rows[("demo", "eval")] == 4
    second: list[str] = []
    run_audit(rows[::-1], lambda: [Spy(second)], max_rows_per_split=4)
    assert sorted(first) == sorted(second)  # the same sample, whatever the order


def test_a_shortcut_is_found_and_a_fair_benchmark_is_not():
    # gold always says "red": the trigram model learns it from the training golds
    train = [row(i, f"a red ball {i % 3} on the floor", [f"a blue ball {i % 3} on the floor"] * 9, split="train") for i in range(40)]
    unfair = [row(100 + i, f"a red ball {i % 3} on the floor", [f"a blue ball {i % 3} on the floor"] * 9) for i in range(20)]
    result = run_audit(train + unfair, default_scorers)
    ngram = result.tallies[("demo", "eval", "ngram")].to_dict()
    assert ngram["win_rate"]["object"] == 1.0 and not result.passes("demo")
    # gold and negatives drawn from the same phrases: nothing to learn
    words = ["red", "blue", "green", "pink", "grey", "black", "white", "brown", "tan", "gold"]
    fair = [row(200 + i, f"a {words[i % 10]} ball", [f"a {words[(i + k) % 10]} ball" for k in range(1, 10)]) for i in range(60)]
    fair_train = [row(300 + i, f"a {words[(i * 7) % 10]} ball", [f"a {words[(i * 7 + k) % 10]} ball" for k in range(1, 10)], split="train") for i in range(60)]
    result = run_audit(fair + fair_train, default_scorers)
    assert result.tallies[("demo", "eval", "ngram")].to_dict()["p_at_1"] < 0.3


# ---------------------------------------------------------------- files


def _official(path: Path, n: int = 12) -> Path:
    table = pa.table({
        "qry_text": ["<|image_1|>\nFind the caption"] * n,
        "qry_image_path": [f"images/{i // 3}.jpg" for i in range(n)],
        "tgt_text": [[f"a dog on the grass {i}", *[f"a cat on the grass {i} {k}" for k in range(9)]] for i in range(n)],
        "bbox": [[0.0, 0.0, 10.0, 10.0]] * n,
    })  # fmt: skip
    pq.write_table(table, path)
    return path


def test_official_file_without_types_or_ids(tmp_path: Path):
    path = _official(tmp_path / "SCAR_RefCOCO_plus_val_filtered.parquet")
    rowset = read_rows(path)
    assert {r.source for r in rowset.rows} == {"RefCOCO_plus"} and {r.split for r in rowset.rows} == {"eval"}
    assert rowset.rows[0].id == "SCAR_RefCOCO_plus_val_filtered:0" and rowset.rows[0].neg_types is None
    report, result = audit_path(path)
    src = report["sources"]["RefCOCO_plus"]
    assert src["n"] == 12 and not src["neg_types_known"]
    assert set(src["scorers"]["ngram"]["win_rate"]) == {"all"}
    assert "does not say which negative is of which type" in main_markdown(path)


def main_markdown(path: Path) -> str:
    from scar.audit import to_markdown

    return to_markdown(audit_path(path)[0])


def test_bad_input_is_one_line_error(tmp_path: Path, capsys):
    assert main(["audit", str(tmp_path / "nothing")]) == 2
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    assert main(["audit", str(tmp_path / "bad.parquet")]) == 2
    pq.write_table(pa.table({"x": [1]}), tmp_path / "other.parquet")
    assert main(["audit", str(tmp_path / "other.parquet")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("scar: error: ") for line in err)
    assert "no tgt_text column" in err[2]


def test_build_writes_audit_into_stats_card_and_audit_json(tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["build", "--source", "demo", "--out", str(out), "--images", str(tmp_path / "img"), "--no-progress",
                 "--limit", "60"]) == 0  # fmt: skip
    stats = json.loads((out / "stats.json").read_text())
    demo = stats["audit"]["sources"]["demo"]
    assert demo["n"] > 50 and set(demo["scorers"]) >= {"ngram", "ngram_per_word", "longest", "shortest", "consensus"}
    assert set(demo["scorers"]["ngram"]["win_rate"]) == {"object", "relation", "scene"}
    card = (out / "dataset_card.md").read_text()
    assert "## SCaR benchmark audit" in card and "| ngram |" in card
    audit = json.loads((out / "audit.json").read_text())
    ids = {r["id"] for p in (out / "demo").glob("*.parquet") for r in pq.read_table(p, columns=["id"]).to_pylist()}
    assert audit["row_flags"] and set(audit["row_flags"]) <= ids
    assert all(f.startswith("solved:") for flags in audit["row_flags"].values() for f in flags)
    assert all("solved:consensus" in flags for flags in audit["row_flags"].values())
    # `scar audit DIR` rewrites it, and --json gives the same report
    assert main(["audit", str(out), "--json", str(tmp_path / "a.json")]) == 0
    report = json.loads((tmp_path / "a.json").read_text())
    assert report["sources"]["demo"]["scorers"]["ngram"] == json.loads((out / "audit.json").read_text())["sources"]["demo"]["scorers"]["ngram"]
    assert "SCaR benchmark audit" in capsys.readouterr().out
    # --no-audit: nothing written
    out2 = tmp_path / "out2"
    assert main(["build", "--source", "demo", "--out", str(out2), "--images", str(tmp_path / "img"), "--no-progress",
                 "--limit", "20", "--no-audit"]) == 0  # fmt: skip
    assert "audit" not in json.loads((out2 / "stats.json").read_text()) and not (out2 / "audit.json").exists()


def test_llm_judge_rates_each_caption_alone(tmp_path: Path, monkeypatch):
    from tests.llm_fake_server import FakeOpenAIServer

    n = 16
    table = pa.table({
        "qry_text": ["q"] * n, "qry_image_path": [f"{i}.jpg" for i in range(n)], "bbox": [[0.0, 0.0, 1.0, 1.0]] * n,
        "tgt_text": [[f"xx-likely gold {i}", *[f"negative {i} {k}" for k in range(9)]] for i in range(n)],
        "neg_types": [list(TYPES)] * n, "id": [f"r{i}" for i in range(n)], "source": ["demo"] * n, "split": ["eval"] * n,
    })  # fmt: skip
    path = tmp_path / "rows.parquet"
    pq.write_table(table, path)
    monkeypatch.setenv("SCAR_TEST_KEY", "sk-test-0123456789abcdef")
    with FakeOpenAIServer() as server:
        args = ["audit", str(path), "--llm-judge", "--llm-rows", "10", "--llm-model", "fake-model", "--llm-base-url",
                server.base_url, "--llm-api-key-env", "SCAR_TEST_KEY", "--json", str(tmp_path / "a.json")]  # fmt: skip
        assert main(args) == 0
        requests = server.log.chat_requests
        assert requests == 10 * 10  # every caption of 10 rows, each on its own
        assert main(args) == 0 and server.log.chat_requests == requests  # the second run is served by the cache
    llm = json.loads((tmp_path / "a.json").read_text())["sources"]["demo"]["scorers"]["llm"]
    assert llm["n"] == 10 and llm["p_at_1"] == 1.0
    assert all("sk-test" not in p.read_text(errors="ignore") for p in tmp_path.glob("*.json"))


@pytest.mark.parametrize("per_word", [False, True])
def test_ngram_scorer_is_fitted_on_golds_only(per_word: bool):
    scorer = NgramLM(per_word=per_word)
    training = Training()
    training.add("a dog on the grass")
    scorer.fit(training)
    s = scorer.scores(row(1, "a dog on the grass", ["a cow on the grass"]))
    assert s[0] > s[1]
