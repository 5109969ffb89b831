"""Ties: a degenerate model is caught (tie rates, tie-aware expected scores, a warning, a flag in the
result and a mark on the leaderboard) while the official first-index rule stays the metric."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import scar
from evaluators.cli import run_eval
from evaluators.metrics import OFFICIAL, STRICT, rank_outcome, summarize
from evaluators.models.protocol import Item
from scar.cli import main as scar_main
from tests.eval_fixtures import TEST_MODEL, eval_args, scar_fixture

H10 = sum(1 / r for r in range(1, 11))


class Constant:
    """The same vector for every input: every query is a 10-way tie."""

    name = "const"
    revision = "1"

    def encode(self, items: list[Item], batch_size: int) -> torch.Tensor:
        return torch.full((len(items), 8), 8 ** -0.5)


def test_a_ten_way_tie_expects_one_in_ten():
    o = rank_outcome(np.full(10, 0.3, np.float32), 0, OFFICIAL)
    assert (o.rank, o.above, o.tied, o.top_tied) == (1, 0, 10, 10)
    assert o.expected_hit(1) == pytest.approx(0.1) and o.expected_hit(5) == pytest.approx(0.5)
    assert o.expected_reciprocal_rank == pytest.approx(H10 / 10)
    assert rank_outcome(np.full(10, 0.3), 0, STRICT).rank == 10


def test_partial_ties_by_hand():
    top = rank_outcome(np.array([0.8, 0.2, 0.8, 0.1]), 0)  # the gold shares the top with one other
    assert (top.rank, top.top_tied, top.tied) == (1, 2, 2)
    below = rank_outcome(np.array([0.5, 0.9, 0.5, 0.1]), 0)  # tied with one other, one above both
    assert (below.rank, below.top_tied, below.tied, below.above) == (2, 1, 2, 1)
    s = summarize([top, below])
    assert s.precision_at_1 == 0.5  # the official rule: the first tie at the top is a hit
    assert s.ties is not None
    assert (s.ties.rate_top, s.ties.rate_gold) == (0.5, 1.0)
    assert s.ties.expected_precision_at_1 == pytest.approx((1 / 2 + 0) / 2)
    assert s.ties.expected_recall_at_5 == 1.0
    assert s.ties.expected_mrr == pytest.approx(((1 + 1 / 2) / 2 + (1 / 2 + 1 / 3) / 2) / 2)


def test_bfloat16_rows_tie_where_float32_rows_do_not():
    """Scores are compared exactly: candidates a bf16 model cannot tell apart tie, and are counted."""
    q = torch.nn.functional.normalize(torch.tensor([[1.0, 0.5, 0.25]]), dim=-1)
    cands = torch.nn.functional.normalize(torch.tensor([[1.0, 0.5, 0.2501], [1.0, 0.5, 0.2502]]), dim=-1)
    f32 = (cands @ q.T).squeeze(1).numpy()
    bf16 = (cands.bfloat16().float() @ q.bfloat16().float().T).squeeze(1).numpy()
    assert rank_outcome(f32, 0).top_tied == 1
    assert rank_outcome(bf16, 0).top_tied == 2


def test_constant_embedder_is_flagged_with_expected_p_at_1_of_ten_percent(tmp_path, capsys):
    scar_fixture(tmp_path / "scar")
    out = scar.evaluate(Constant(), tasks="RefCOCO+", scar_root=tmp_path / "scar", out=tmp_path / "res",
                        progress=False, device="cpu")
    r = out.records["RefCOCO+"]
    assert r["precision@1"] == 1.0 and r["mrr"] == 1.0  # the official rule, kept for parity
    assert r["tie_rate_top"] == 1.0 and r["tie_rate_gold"] == 1.0 and r["num_top_ties"] == 4
    assert r["expected_precision@1"] == pytest.approx(0.1)
    assert r["expected_recall@5"] == pytest.approx(0.5)
    assert r["expected_mrr"] == pytest.approx(H10 / 10)
    assert r["ties_flagged"] is True and r["tie_threshold"] == 0.05
    assert out.summary["ties_flagged"] == {"RefCOCO+": 1.0}
    warnings = [line for line in capsys.readouterr().err.splitlines() if "ties at the top" in line]
    assert len(warnings) == 1
    assert "100.0% of queries" in warnings[0] and "expected P@1 10.0" in warnings[0]
    rows = [json.loads(line) for line in (out.run_dir / "RefCOCO+.predictions.jsonl").read_text().splitlines()]
    assert all(row["top_tied"] == 10 and row["gold_tied"] == 10 for row in rows)

    strict = scar.evaluate(Constant(), tasks="RefCOCO+", scar_root=tmp_path / "scar", out=tmp_path / "res",
                           progress=False, device="cpu", strict_ties=True).records["RefCOCO+"]
    assert strict["precision@1"] == 0.0 and strict["expected_precision@1"] == pytest.approx(0.1)


def test_the_threshold_is_settable(tmp_path, capsys):
    scar_fixture(tmp_path / "scar")
    out = scar.evaluate(Constant(), tasks="RefCOCO+", scar_root=tmp_path / "scar", out=tmp_path / "res",
                        progress=False, device="cpu", tie_threshold=1.0)
    assert out.records["RefCOCO+"]["ties_flagged"] is False and out.records["RefCOCO+"]["tie_threshold"] == 1.0
    assert "ties at the top" not in capsys.readouterr().err


@pytest.mark.usefixtures("test_model_registered")
def test_fixture_ties_by_hand_through_the_cli(tmp_path, capsys):
    """q1: the gold ties with 8 zero-score negatives below one higher; q2: a 2-way tie at the top."""
    scar_fixture(tmp_path / "scar")
    argv = ["--model", TEST_MODEL, "--device", "cpu", "--out", str(tmp_path / "out"), "--no-progress",
            "--tasks", "RefCOCO+", "--scar-root", str(tmp_path / "scar"), "--tie-threshold", "0.3"]
    assert run_eval(eval_args(argv)) == 0
    r = json.loads((tmp_path / "out" / TEST_MODEL / "RefCOCO+.json").read_text())
    assert r["tie_rate_top"] == 0.25 and r["tie_rate_gold"] == 0.5
    assert r["expected_precision@1"] == pytest.approx((1 + 0 + 1 / 2 + 1) / 4)
    assert r["ties_flagged"] is False  # 25% is under the 30% asked for
    printed = capsys.readouterr().out
    assert "ties%" in printed and "25.00" in printed and "62.50" in printed


def test_leaderboard_marks_a_flagged_cell(tmp_path):
    scar_fixture(tmp_path / "scar")
    scar.evaluate(Constant(), tasks="RefCOCO+", scar_root=tmp_path / "scar", out=tmp_path / "res", progress=False,
                  device="cpu")
    assert scar_main(["leaderboard", "--results", str(tmp_path / "res"), "--out", str(tmp_path / "lb")]) == 0
    table = (tmp_path / "lb" / "scar.md").read_text()
    (row,) = [line for line in table.splitlines() if line.startswith("| const ")]
    assert "100.0†[^" in row and "**" not in row
    assert "const on RefCOCO+: ties at the top in 100.0% of queries; expected P@1 10.0" in table
