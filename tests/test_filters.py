"""Candidate fairness checks and the duplicate-entity filter."""

from __future__ import annotations

from scar.core.filters import (
    LENGTH_ABS_TOL,
    DuplicateEntityFilter,
    candidate_problems,
    duplicates,
    length_ok,
    normalise,
)
from scar.core.schema import Entity, Region, Rejected

GOLD = "a red ball to the left of the umbrella on a sunny beach"  # 55 characters


def test_normalise_folds_case_space_and_final_punctuation():
    assert normalise("  A Red   Ball.\n") == "a red ball"
    assert normalise("a red ball") == normalise("A RED BALL!")
    assert normalise("...") == ""


def test_length_tolerance_is_absolute_or_relative_whichever_is_larger():
    assert len(GOLD) == 55
    relative = int(0.35 * 55)  # 19 characters
    assert length_ok(GOLD, "x" * (55 + relative))
    assert not length_ok(GOLD, "x" * (55 + relative + 1))
    assert length_ok(GOLD, "x" * (55 - relative))
    short = "a cup"
    assert length_ok(short, "x" * (5 + LENGTH_ABS_TOL)) and not length_ok(short, "x" * (5 + LENGTH_ABS_TOL + 1))


def test_duplicates_after_normalisation():
    assert duplicates(["A cat", "a dog", "a  cat.", "a dog", "a bird"]) == ["a cat", "a dog"]
    assert duplicates(["a", "b"]) == []


def test_candidate_problems():
    good = [GOLD.replace("red ball", x) for x in ("blue cup", "green kite", "white boat")]
    assert candidate_problems(GOLD, good) == []
    dup = candidate_problems(GOLD, [*good, GOLD.upper()])
    assert len(dup) == 1 and dup[0].startswith("candidates not distinct")
    long = candidate_problems(GOLD, [*good, GOLD + " with many extra words to give it away"])
    assert len(long) == 1 and long[0].startswith("length parity")
    assert "empty candidate" in candidate_problems(GOLD, [*good, "  "])


def _entity(eid: str, image: str, category: str, box: tuple[float, float, float, float]) -> Entity:
    return Entity("vg", "train", image, eid, f"{image}.jpg", 100, 100, category, Region(box))


def test_duplicate_entity_filter():
    f = DuplicateEntityFilter(box_tolerance=2.0)
    assert f.check(_entity("1", "a", "man", (10, 10, 30, 40))) is None
    again = f.check(_entity("2", "a", "man", (11, 9, 31, 41)))
    assert isinstance(again, Rejected) and again.reason == "duplicate entity" and again.record == "vg:a:2"
    assert f.check(_entity("3", "a", "man", (14, 10, 30, 40))) is None  # moved by more than the tolerance
    assert f.check(_entity("4", "a", "person", (10, 10, 30, 40))) is None  # other category
    assert f.check(_entity("5", "b", "man", (10, 10, 30, 40))) is None  # other image
