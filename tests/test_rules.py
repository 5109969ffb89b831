"""The negative rules both generators obey (scar.generate.rules), and the LLM path's filter built on them."""

from __future__ import annotations

import pytest

from scar.generate.llm.taxonomy import negative_problem
from scar.generate.rules import (
    distinct_meanings,
    object_swap_allowed,
    relation_class,
    relation_swap_allowed,
    scene_key,
    scene_swap_allowed,
)


@pytest.mark.parametrize(
    "gold, new, allowed",
    [
        ("a man", "a skier", False),  # co-hyponyms that can name the same person
        ("the man on the left", "a player", False),
        ("a man", "a woman", True),  # persons of another gender or age cannot be the same one
        ("a girl", "an old man", True),
        ("a dog", "a puppy", False),  # hyponym
        ("a dog", "an animal", False),  # hypernym
        ("the sofa", "a couch", False),  # synonym (WordNet lemma)
        ("a car", "a sedan", False),
        ("the sky", "the clouds", False),  # a `near` pair: one region, either name
        ("a cat", "a red umbrella", True),
        ("a zorbly widget", "a big widget", False),  # unknown words: the same head noun
    ],
)
def test_object_rule(gold, new, allowed):
    assert object_swap_allowed(gold, new) is allowed


@pytest.mark.parametrize(
    "gold, new, allowed",
    [
        ("under the table", "beneath the table", False),
        ("under the table", "underneath the table", False),
        ("on top of the table", "above the table", False),
        ("to the left of the dog", "left of the puppy", False),  # synonym wording, same thing
        ("to the left of the dog", "to the right of the dog", True),
        ("to the left of the dog", "to the left of the bench", True),  # another anchor
        ("under the table", "on top of the table", True),
        ("next to the car", "beside the car", False),
    ],
)
def test_relation_rule(gold, new, allowed):
    assert relation_swap_allowed(gold, new) is allowed


def test_relation_classes_read_the_wording():
    assert relation_class("on top of the table") == ("up", "the table")
    assert relation_class("on the left side of a beach") == ("f_left", "a beach")
    assert relation_class("hovering weirdly near x") == (None, "hovering weirdly near x")


@pytest.mark.parametrize(
    "gold, new, allowed",
    [
        ("in a kitchen", "in a bright kitchen", False),
        ("in a kitchen", "in a dining room", False),  # confusable
        ("in a kitchen", "on a sunny beach", True),
        ("at the harbor", "in a busy harbour", False),  # an alias
    ],
)
def test_scene_rule(gold, new, allowed):
    assert scene_swap_allowed(gold, new) is allowed
    assert scene_key("on a sunny beach") == "beach"


def test_no_two_negatives_mean_the_same():
    assert not distinct_meanings("relation", ["under the table", "beneath the table"])
    assert not distinct_meanings("object", ["a couch", "a sofa"])
    assert not distinct_meanings("scene", ["on a beach", "on a sunny beach"])
    assert distinct_meanings("relation", ["under the table", "under the bench", "left of the table"])


def test_the_llm_filter_applies_the_same_rules():
    assert negative_problem("object", "a man", "a skier") == "object is a synonym, hypernym or hyponym of the gold object"
    assert negative_problem("relation", "under the table", "beneath the table") == "relation says the same as the gold relation"
    assert negative_problem("scene", "in a kitchen", "in a tidy kitchen") == "scene is the gold scene or a confusable one"
    assert negative_problem("relation", "under the table", "on the bench", accepted=["on top of the bench"]) == (
        "means the same as another negative"
    )
    assert negative_problem("object", "a man", "a woman") == ""


def test_parts_are_object_swaps_only_for_parts():
    from scar.generate.rules import object_swap_allowed

    assert not object_swap_allowed("a sink", "an eye")
    assert not object_swap_allowed("the oven", "a hand")
    assert not object_swap_allowed("a red cup", "glasses")
    assert object_swap_allowed("a hand", "an eye")
    assert object_swap_allowed("a sink", "a bowl")
