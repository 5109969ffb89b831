"""The LLM generator against a scripted OpenAI-compatible server on loopback (online mode)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.llm_fake_server import REFUSAL_TEXT, Fault, FakeOpenAIServer
from tests.llm_helpers import SECRET, entity, generator, root, server  # noqa: F401 (fixtures)
from scar.core.errors import BudgetExhausted, ScarError
from scar.core.schema import Rejected, Sample


def run(server: FakeOpenAIServer, out: Path, entities, root: Path, **kw):
    gen = generator(server.base_url, out, **kw)
    try:
        return gen.generate(entities, root), gen.stats()
    finally:
        gen.close()


def test_three_steps_fill_a_sample(server, root, tmp_path):
    results, stats = run(server, tmp_path / "out", [entity(0, "cat"), entity(1, "zebra", scene=None)], root)
    cat, zebra = results
    assert isinstance(cat, Sample) and isinstance(zebra, Sample)
    # the fake model's gold: "the <category> next to the <first neighbour> in the <scene or room>"
    assert cat.gold_text == "the cat next to the dog in the kitchen"
    assert (cat.gold.object, cat.gold.relation, cat.gold.scene) == ("the cat", "next to the dog", "in the kitchen")
    assert zebra.gold_text == "the zebra next to the dog in the room"
    assert cat.negatives[:3] == (
        "a red umbrella next to the dog in the kitchen",
        "a wooden chair next to the dog in the kitchen",
        "a black dog next to the dog in the kitchen",
    )
    assert cat.negatives[3] == "the cat hanging above the dog in the kitchen"
    assert cat.negatives[6] == "the cat next to the dog on a snowy mountain"
    assert cat.neg_types == ("object",) * 3 + ("relation",) * 3 + ("scene",) * 3
    assert cat.check() == []
    assert (cat.generator.name, cat.generator.model, cat.generator.prompt_version, cat.generator.seed) == (
        "llm", "fake-model", "scar-llm-v1", 7)  # fmt: skip
    assert server.log.chat_by_step == {"caption": 2, "negatives": 2, "verify": 2}
    assert stats["requests"] == 6 and stats["cache_hits"] == 0 and stats["rejections"] == {}
    assert stats["prompt_tokens"] > 0 and stats["completion_tokens"] > 0
    caption_body = next(b for b in server.log.bodies if b["response_format"]["json_schema"]["name"] == "scar_caption")
    assert caption_body["temperature"] == 0 and caption_body["seed"] == 7 and caption_body["model"] == "fake-model"
    assert caption_body["response_format"]["json_schema"]["strict"] is True
    image_part = caption_body["messages"][1]["content"][1]
    assert image_part["image_url"]["url"].startswith("data:image/jpeg;base64,")
    negatives_body = next(b for b in server.log.bodies if b["response_format"]["json_schema"]["name"] == "scar_negatives")
    assert all(isinstance(m["content"], str) for m in negatives_body["messages"])  # text only, no image


def test_second_run_is_served_from_cache(server, root, tmp_path):
    entities = [entity(i, cat) for i, cat in enumerate(["cat", "elk", "cow", "owl"])]
    first, _ = run(server, tmp_path / "out", entities, root)
    sent = server.log.chat_requests
    second, stats = run(server, tmp_path / "out", entities, root)
    assert server.log.chat_requests == sent == 12
    assert stats["requests"] == 0 and stats["cache_hits"] == 12
    assert [s.to_row() for s in second] == [s.to_row() for s in first]


def test_cache_can_be_switched_off(server, root, tmp_path):
    run(server, tmp_path / "out", [entity(0)], root, use_cache=False)
    run(server, tmp_path / "out", [entity(0)], root, use_cache=False)
    assert server.log.chat_requests == 6
    assert not (tmp_path / "out" / ".llm-cache.sqlite").exists()


@pytest.mark.parametrize(
    ("category", "reason"),
    [
        ("cat xx-malformed-always", "llm malformed output"),
        ("cat xx-refusal", "llm refusal"),
        ("cat xx-wrong-count-always", "llm wrong candidate count"),
        ("cat xx-bad-negative-always", "negatives failed verification"),
        ("cat xx-gold-false", "gold caption not confirmed"),
    ],
)
def test_unusable_replies_are_rejected_with_their_reason(server, root, tmp_path, category, reason):
    (result,), stats = run(server, tmp_path / "out", [entity(0, category)], root, max_retries=2)
    assert isinstance(result, Rejected)
    assert result.reason == reason and result.record == "demo:img0:e0"
    assert stats["rejections"] == {reason: 1}


def test_refusal_is_asked_again_then_rejected(server, root, tmp_path):
    (result,), stats = run(server, tmp_path / "out", [entity(0, "cat xx-refusal")], root, max_retries=2)
    assert result.reason == "llm refusal" and REFUSAL_TEXT[:20] in result.detail
    assert server.log.chat_by_step == {"caption": 3} and stats["content_retries"] == 2


def test_malformed_and_wrong_counts_are_repaired(server, root, tmp_path):
    entities = [entity(0, "cat xx-malformed-once"), entity(1, "cat xx-wrong-count-once")]
    results, stats = run(server, tmp_path / "out", entities, root)
    assert all(isinstance(r, Sample) for r in results)
    assert stats["content_retries"] == 2
    assert server.log.chat_by_step == {"caption": 3, "negatives": 3, "verify": 2}
    repair = [b for b in server.log.bodies if len(b["messages"]) == 4]
    assert len(repair) == 2
    assert repair[0]["messages"][2]["role"] == "assistant"
    assert "could not be used" in repair[0]["messages"][3]["content"]


def test_rejected_negatives_are_regenerated(server, root, tmp_path):
    (result,), stats = run(server, tmp_path / "out", [entity(0, "cat xx-bad-negative-once")], root)
    assert isinstance(result, Sample)
    assert not any("red umbrella" in n for n in result.negatives)
    assert result.negatives[:3] == (
        "a wooden chair next to the dog in the kitchen",
        "a black dog next to the dog in the kitchen",
        "a blue bicycle next to the dog in the kitchen",
    )
    assert stats["regenerations"] == 1
    # round 2 asks for one object negative only, with the rejected one and its reason as context
    regen = [b for b in server.log.bodies if b["response_format"]["json_schema"]["name"] == "scar_negatives"][1]
    text = regen["messages"][1]["content"]
    assert '"object": 1' in text and "red umbrella" in text and "reads oddly" in text
    # the second verification judges only the new negative
    verify2 = [b for b in server.log.bodies if b["response_format"]["json_schema"]["name"] == "scar_verify"][1]
    assert verify2["messages"][1]["content"][0]["text"].count('"index"') == 1


def test_taxonomy_rule_rejects_same_head_noun_object_swaps(server, root, tmp_path):
    (result,), stats = run(server, tmp_path / "out", [entity(0, "cat xx-synonym")], root)
    assert isinstance(result, Sample)
    assert not any(n.startswith("a big cat") for n in result.negatives)
    assert stats["regenerations"] == 1


def test_missing_and_corrupt_images_reject_the_record_without_requests(server, root, tmp_path):
    (root / "images" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    entities = [entity(0, image="images/nope.png"), entity(1, image="images/broken.png")]
    results, stats = run(server, tmp_path / "out", entities, root)
    assert [r.reason for r in results] == ["image missing", "image corrupt"]
    assert results[0].file == "images/nope.png"
    assert server.log.chat_requests == 0


def test_retries_on_429_500_and_timeouts(server, root, tmp_path):
    server.hang_s = 1.5
    server.push_faults(Fault("429", retry_after="0.3"), Fault("500"), Fault("hang"))
    t0 = time.perf_counter()
    (result,), stats = run(server, tmp_path / "out", [entity(0)], root, request_timeout_s=0.4, concurrency=1)
    elapsed = time.perf_counter() - t0
    assert isinstance(result, Sample)
    assert server.log.faults_served == ["429", "500", "hang"]
    assert stats["retries"] == 3 and stats["requests"] == 6  # 3 failed attempts + 3 steps
    assert elapsed >= 0.3 + 0.4  # Retry-After honoured, and the hang waited for its timeout


def test_exhausted_transport_retries_reject_the_record(server, root, tmp_path):
    server.push_faults(Fault("500"), Fault("500"))
    (result,), stats = run(server, tmp_path / "out", [entity(0)], root, http_retries=1, concurrency=1)
    assert isinstance(result, Rejected) and result.reason == "llm request failed"
    assert "500" in result.detail or "InternalServerError" in result.detail


def test_json_schema_unsupported_falls_back_to_json_object(root, tmp_path):
    with FakeOpenAIServer(no_json_schema=True) as server:
        (result,), stats = run(server, tmp_path / "out", [entity(0)], root, concurrency=1)
    assert isinstance(result, Sample)
    assert stats["format_fallbacks"] == 1
    assert server.log.bodies[-1]["response_format"] == {"type": "json_object"}


def test_budget_stop_then_rerun_matches_an_uninterrupted_run(server, root, tmp_path):
    entities = [entity(i, cat) for i, cat in enumerate(["cat", "elk xx-bad-negative-once", "cow", "owl", "fox"])]
    whole, whole_stats = run(server, tmp_path / "whole", entities, root)
    with pytest.raises(BudgetExhausted):
        run(server, tmp_path / "parts", entities, root, max_requests=7)
    gen = generator(server.base_url, tmp_path / "parts", max_requests=7)
    with pytest.raises(BudgetExhausted):  # a rerun under the same spent budget... still has 7 to spend
        gen.generate(entities, root)
    first_two = gen.stats()["requests"]
    gen.close()
    rest, rest_stats = run(server, tmp_path / "parts", entities, root)
    assert [r.to_row() for r in rest] == [r.to_row() for r in whole]
    # no call paid twice: the interrupted runs plus the last one sent exactly what the whole run sent
    assert 7 + first_two + rest_stats["requests"] == whole_stats["requests"] == 17


def test_max_cost_stops_cleanly(server, root, tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"models": {"fake-model": {"input": 1000000.0, "output": 0.0}}}))
    with pytest.raises(BudgetExhausted, match="max-cost"):
        run(server, tmp_path / "out", [entity(i) for i in range(3)], root, max_cost=0.5, price_table=prices, concurrency=1)
    assert server.log.chat_requests == 0  # the first request alone could cost more than the budget: never sent


def test_max_cost_without_a_price_is_a_clear_error(tmp_path):
    with pytest.raises(ScarError, match="price"):
        generator("http://127.0.0.1:9/v1", tmp_path, model="unknown-model", max_cost=1.0)


def test_missing_key_for_openai_is_a_clear_error(root, tmp_path, monkeypatch):
    monkeypatch.delenv("SCAR_TEST_KEY")
    gen = generator(None, tmp_path / "out")  # type: ignore[arg-type]
    with pytest.raises(ScarError, match="SCAR_TEST_KEY is not set"):
        gen.generate([entity(0)], root)
    gen.close()
