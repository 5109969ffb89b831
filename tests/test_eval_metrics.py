import numpy as np
import pytest

from evaluators.metrics import OFFICIAL, STRICT, gold_rank, summarize_ranks


def test_rank_without_ties_is_one_plus_higher_scores():
    scores = np.array([0.5, 0.9, 0.1, 0.7])
    assert gold_rank(scores, 0, OFFICIAL) == 3
    assert gold_rank(scores, 0, STRICT) == 3


def test_tie_with_gold_at_index_zero_is_correct_officially_and_wrong_strictly():
    scores = np.array([0.8, 0.2, 0.8, 0.1])
    assert gold_rank(scores, 0, OFFICIAL) == 1  # np.argmax picks the first of the tied
    assert int(np.argmax(scores)) == 0
    assert gold_rank(scores, 0, STRICT) == 2


def test_official_rule_is_first_index_wins_for_a_gold_elsewhere():
    scores = np.array([0.8, 0.2, 0.8, 0.8])
    assert gold_rank(scores, 2, OFFICIAL) == 2  # index 0 comes first, index 3 after
    assert gold_rank(scores, 2, STRICT) == 3


def test_summary_by_hand():
    s = summarize_ranks([1, 2, 6, 1])
    assert (s.num_pred, s.num_correct) == (4, 2)
    assert s.precision_at_1 == 0.5
    assert s.recall_at_5 == 0.75
    assert s.mrr == pytest.approx((1 + 0.5 + 1 / 6 + 1) / 4)
    d = s.as_dict()
    assert d["acc"] == d["precision@1"] == 0.5


def test_unknown_tie_rule():
    with pytest.raises(ValueError):
        gold_rank(np.array([1.0]), 0, "lenient")
