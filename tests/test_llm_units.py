"""Small pieces of the LLM generator: parsing, retry timing, cache keys, prices, redaction, taxonomy rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scar.core.errors import BudgetExhausted, ScarError
from scar.core.schema import mask_to_rle
from scar.generate.llm.cache import ResponseCache
from scar.generate.llm.client import RetryPolicy, retry_after_seconds
from scar.generate.llm.images import ImageProblem, image_ref_for, render_marked
from scar.generate.llm.parsing import MALFORMED, REFUSAL, TRUNCATED, WRONG_COUNT, OutputProblem, parse_caption, parse_negatives, parse_verify
from scar.generate.llm.prompts import load_prompts
from scar.generate.llm.request import Reply, SamplingParams
from scar.generate.llm.secrets import Redactor
from scar.generate.llm.taxonomy import object_swap_allowed
from scar.generate.llm.usage import Budget, PriceTable, Usage
from tests.llm_helpers import entity


def reply(content: object, **kw: object) -> Reply:
    return Reply(content=content if isinstance(content, str) or content is None else json.dumps(content), refusal=kw.get("refusal"), finish_reason=kw.get("finish", "stop"))  # type: ignore[arg-type]


def test_caption_parsing_is_strict():
    gold = parse_caption(reply({"object": " the  cat ", "relation": "on the mat", "scene": "in a hall", "caption": "the cat on the mat in a hall."}))
    assert (gold.parts.object, gold.caption) == ("the cat", "the cat on the mat in a hall")
    assert parse_caption(reply('```json\n{"object":"a","relation":"b","scene":"c","caption":"a b c"}\n```')).caption == "a b c"
    for bad, reason in [
        ("{not json", MALFORMED), ("[1, 2]", MALFORMED), ({"object": "a", "relation": "", "scene": "c", "caption": "x"}, MALFORMED),
        ({"object": "a", "relation": 3, "scene": "c", "caption": "x"}, MALFORMED),
    ]:  # fmt: skip
        with pytest.raises(OutputProblem) as info:
            parse_caption(reply(bad))
        assert info.value.reason == reason
    with pytest.raises(OutputProblem, match="refusal") as info:
        parse_caption(reply(None, refusal="no"))
    assert info.value.reason == REFUSAL
    with pytest.raises(OutputProblem) as info:
        parse_caption(reply('{"object": "a"', finish="length"))
    assert info.value.reason == TRUNCATED


def test_negative_counts_and_verdicts_must_match():
    item = {"replacement": "a dog", "caption": "a dog on the mat"}
    drafts = parse_negatives(reply({"object": [item], "relation": [], "scene": []}), {"object": 1})
    assert [(d.kind, d.replacement) for d in drafts] == [("object", "a dog")]
    with pytest.raises(OutputProblem) as info:
        parse_negatives(reply({"object": [item, item], "relation": [], "scene": []}), {"object": 1})
    assert info.value.reason == WRONG_COUNT
    ok = {"index": 0, "false_for_region": True, "fluent_and_plausible": True, "reason": ""}
    odd = {"index": 1, "false_for_region": True, "fluent_and_plausible": False, "reason": "odd"}
    verdict = parse_verify(reply({"gold": {"true": True, "reason": ""}, "negatives": [ok, odd]}), 2)
    assert verdict.gold.ok and [j.ok for j in verdict.negatives] == [True, False] and verdict.negatives[1].reason == "odd"
    with pytest.raises(OutputProblem) as info:
        parse_verify(reply({"gold": {"true": True, "reason": ""}, "negatives": [ok]}), 2)
    assert info.value.reason == WRONG_COUNT
    with pytest.raises(OutputProblem):  # indices out of order
        parse_verify(reply({"gold": {"true": True, "reason": ""}, "negatives": [odd, ok]}), 2)


def test_backoff_doubles_with_jitter_and_honours_retry_after():
    policy = RetryPolicy(attempts=5, base_s=1.0, max_s=8.0)
    rng = np.random.default_rng(0)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 8.0)]:
        delays = [policy.delay(attempt, None, rng) for _ in range(50)]
        assert min(delays) >= ceiling / 2 and max(delays) <= ceiling and len(set(delays)) > 1
    assert policy.delay(0, 3.5, rng) == 3.5
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert 0 <= retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) <= 0.0 + 1e-9  # past date
    assert retry_after_seconds({}) is None and retry_after_seconds({"retry-after": "soon"}) is None


def test_cache_key_follows_content_and_excludes_transport(tmp_path: Path):
    root = tmp_path
    Image.new("RGB", (64, 48), (1, 2, 3)).save(root / "a.png")
    e = entity(0, image="a.png")
    prompts = load_prompts()
    params = SamplingParams("m", 0.0, 7, 100)
    ref = image_ref_for(e, root, "box", 256)
    key = prompts.caption(e, ref, params).cache_key()
    assert key == prompts.caption(e, image_ref_for(e, root, "box", 256), params).cache_key()
    assert key != prompts.caption(e, ref, SamplingParams("m", 0.0, 8, 100)).cache_key()  # seed
    assert key != prompts.caption(e, ref, SamplingParams("other", 0.0, 7, 100)).cache_key()  # model
    Image.new("RGB", (64, 48), (9, 9, 9)).save(root / "a.png")  # same path, new pixels
    assert key != prompts.caption(e, image_ref_for(e, root, "box", 256), params).cache_key()
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put(key, "caption", Reply("x", None, "stop", 3, 4))
    assert cache.get(key) == Reply("x", None, "stop", 3, 4) and cache.get("nope") is None and len(cache) == 1
    cache.close()


def test_marked_image_is_a_reencoded_copy_with_the_region_drawn(tmp_path: Path):
    Image.new("RGB", (64, 48), (255, 255, 255)).save(tmp_path / "a.png")
    e = entity(0, image="a.png")  # box x=4, y=5, w=20, h=10
    import io

    marked = np.asarray(Image.open(io.BytesIO(render_marked(image_ref_for(e, tmp_path, "box", 1024)))).convert("RGB")).astype(int)
    assert marked[5, 14, 0] > 200 and marked[5, 14, 1] < 80  # top edge red
    assert marked[10, 14].min() > 200  # inside untouched (white)
    mask = np.zeros((48, 64), bool)
    mask[10:30, 10:30] = True
    masked = entity(0, image="a.png")
    masked = type(masked)(**{**masked.__dict__, "region": type(masked.region)((10, 10, 20, 20), None, mask_to_rle(mask))})
    ref = image_ref_for(masked, tmp_path, "mask", 1024)
    assert ref.mark == "mask"
    out = np.asarray(Image.open(io.BytesIO(render_marked(ref))).convert("RGB")).astype(int)
    assert out[10, 20, 0] > 200 and out[10, 20, 1] < 80 and out[20, 20].min() > 200
    small = Image.open(io.BytesIO(render_marked(image_ref_for(e, tmp_path, "box", 32))))
    assert small.size == (32, 24)
    with pytest.raises(ImageProblem, match="image missing"):
        image_ref_for(entity(0, image="none.png"), tmp_path, "box", 32)


def test_prices_budget_and_override(tmp_path: Path):
    table = PriceTable.load()
    assert table.get("gpt-4o-2024-08-06") == table.get("gpt-4o") and table.get("nobody") is None
    override = tmp_path / "p.json"
    override.write_text(json.dumps({"models": {"mine": {"input": 1.0, "output": 2.0}}}))
    table = PriceTable.load(override)
    usage = Usage()
    budget = Budget(usage, max_requests=2, max_cost=None)
    budget.reserve_request()
    budget.charge(table.get("mine"), 1_000_000, 500_000, batch=False)
    budget.charge(table.get("mine"), 1_000_000, 0, batch=True)
    assert usage.cost_usd == pytest.approx(1.0 + 1.0 + 0.5)
    budget.reserve_request()
    with pytest.raises(BudgetExhausted):
        budget.reserve_request()
    override.write_text("{}")
    with pytest.raises(ScarError, match="p.json"):
        PriceTable.load(override)


def test_redactor_removes_the_key_and_key_shaped_text():
    r = Redactor("s3cr3t-value")
    assert r("bad key s3cr3t-value here") == "bad key *** here"
    assert "sk-" not in r("Incorrect API key provided: sk-proj-abcdefghijklmnop") 
    assert r("Authorization: Bearer abc.def") == "Authorization: ***"


def test_taxonomy_rule_uses_the_offline_taxonomy():
    assert not object_swap_allowed("the striped cat on the left", "a big cat")  # same head noun
    assert not object_swap_allowed("the dog", "an animal")  # hypernym
    assert not object_swap_allowed("the sofa", "a couch")  # synonym
    assert not object_swap_allowed("a car", "a vehicle")
    assert object_swap_allowed("the cat", "a red umbrella")
    assert object_swap_allowed("the man", "a woman")
