"""--max-cost is never exceeded; Batch API faults (stalls, lost replies, failed batches) resume without paying twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scar.core.errors import BudgetExhausted, ScarError
from scar.core.schema import Sample
from scar.generate.llm.prompts import load_prompts
from scar.generate.llm.request import SamplingParams
from scar.generate.llm.usage import Budget, Price, Usage, max_prompt_tokens
from tests.llm_fake_server import FakeOpenAIServer
from tests.llm_helpers import entity, generator, root, server  # noqa: F401 (fixtures)

# $1000 per million tokens: a request costs about a dollar on the fake server.
PRICES = {"models": {"fake-model": {"input": 1000.0, "output": 1000.0, "image_tokens": 2000}}}


def _prices(tmp_path: Path) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(PRICES))
    return path


def test_worst_case_bounds_what_the_server_bills(server, root, tmp_path):
    gen = generator(server.base_url, tmp_path / "out", price_table=_prices(tmp_path))
    results = gen.generate([entity(0), entity(1)], root)
    gen.close()
    assert all(isinstance(r, Sample) for r in results)
    from tests.llm_fake_server import completion

    prompts = load_prompts()
    params = SamplingParams("fake-model", 0.0, 7, 1024)
    request = prompts.negatives(results[0].gold, results[0].caption, {"object": 3, "relation": 3, "scene": 3}, {}, [], params)
    body = request.body(lambda ref: "data:,", "json_schema")
    billed = completion(body, {"content": "", "refusal": None})["usage"]["prompt_tokens"]
    assert billed <= max_prompt_tokens(request, 2000)
    price = Price(1000.0, 1000.0, image_tokens=2000)
    assert price.worst_case_usd(request, batch=True) == pytest.approx(price.worst_case_usd(request, batch=False) / 2)


def test_budget_holds_worst_cases_and_settles_real_costs():
    usage = Usage()
    budget = Budget(usage, max_requests=None, max_cost=10.0)
    price = Price(1e6, 0.0)  # a dollar a token
    held = [budget.reserve_request(4.0), budget.reserve_request(4.0)]
    assert not budget.fits(4.0) and budget.fits(2.0)
    with pytest.raises(BudgetExhausted, match="max-cost 10"):
        budget.reserve_request(4.0)
    budget.settle(held[0], price, 1, 0, batch=False)  # cost 1 of the 4 held
    assert budget.fits(4.0)
    budget.release(held[1], maybe_billed=True)  # a timeout: it may be billed, so it stays counted
    assert usage.cost_usd == 1.0 and budget.held_usd == 0.0 and budget.unconfirmed_usd == 4.0
    assert budget.fits(5.0) and not budget.fits(5.5)


@pytest.mark.parametrize("concurrency", [1, 8])
def test_max_cost_is_never_exceeded_with_requests_in_flight(root, tmp_path, concurrency):
    """It stopped at $38.40 for --max-cost 30: the check only looked at what was already spent."""
    with FakeOpenAIServer(latency_s=0.02) as slow:
        gen = generator(slow.base_url, tmp_path / "out", max_cost=12.0, price_table=_prices(tmp_path),
                        concurrency=concurrency)  # fmt: skip
        with pytest.raises(BudgetExhausted, match="max-cost 12"):
            gen.generate([entity(i % 12) for i in range(40)], root)
        stats = gen.stats()
        gen.close()
    assert 0 < stats["cost_usd"] <= 12.0
    assert stats["cost_usd"] >= 12.0 - 6.0  # it waits for cheap in-flight replies rather than stopping early


def test_batch_mode_never_exceeds_max_cost(server, root, tmp_path):
    gen = generator(server.base_url, tmp_path / "out", mode="batch", batch_poll_s=0.01, max_cost=5.0,
                    price_table=_prices(tmp_path))  # fmt: skip
    with pytest.raises(BudgetExhausted):
        gen.generate([entity(i) for i in range(12)], root)
    stats = gen.stats()
    gen.close()
    assert stats["cost_usd"] <= 5.0


# ---------------------------------------------------------------- Batch API faults


def _batch(server: FakeOpenAIServer, out: Path, **kw):
    settings = dict(mode="batch", batch_poll_s=0.01, request_timeout_s=0.4, http_retries=0)
    settings.update(kw)
    return generator(server.base_url, out, **settings)


def _expected(server_url: str, tmp_path: Path, root: Path, entities):
    online = generator(server_url, tmp_path / "online")
    rows = [r.to_row() for r in online.generate(entities, root)]
    online.close()
    return rows


@pytest.fixture()
def stalling():
    with FakeOpenAIServer(hang_s=1.2) as s:
        yield s


@pytest.mark.parametrize("after", [True, False], ids=["reply-lost", "nothing-done"])
def test_a_stalled_batch_create_resumes_on_rerun_without_paying_twice(stalling, root, tmp_path, after):
    entities = [entity(0, "cat"), entity(1, "owl")]
    expected = _expected(stalling.base_url, tmp_path, root, entities)
    stalling.stall("create", after=after)  # once, right after the first upload
    gen = _batch(stalling, tmp_path / "out")
    with pytest.raises(ScarError, match="batch API call failed"):
        gen.generate(entities, root)
    gen.close()
    assert stalling.log.files_uploaded == 1 and stalling.log.batches_created == (1 if after else 0)
    again = _batch(stalling, tmp_path / "out")
    assert [r.to_row() for r in again.generate(entities, root)] == expected
    again.close()
    # caption, negatives and verify rounds: one file and one batch each, the stalled one adopted or made once
    assert stalling.log.files_uploaded == 3 and stalling.log.batches_created == 3


def test_a_lost_create_reply_is_adopted_by_the_retry_in_the_same_run(stalling, root, tmp_path):
    entities = [entity(0, "cat")]
    expected = _expected(stalling.base_url, tmp_path, root, entities)
    stalling.stall("create", after=True)
    gen = _batch(stalling, tmp_path / "out", http_retries=2, backoff_base_s=0.01)
    assert [r.to_row() for r in gen.generate(entities, root)] == expected
    gen.close()
    assert stalling.log.batches_created == 3  # not 4: the retry found the batch its lost reply had made


def test_a_stalled_poll_is_retried(stalling, root, tmp_path):
    entities = [entity(0, "cat")]
    expected = _expected(stalling.base_url, tmp_path, root, entities)
    stalling.stall("retrieve", after=False)
    gen = _batch(stalling, tmp_path / "out", http_retries=1, backoff_base_s=0.01)
    assert [r.to_row() for r in gen.generate(entities, root)] == expected
    gen.close()


def test_a_batch_that_keeps_failing_stops_the_build_and_resumes_on_rerun(server, root, tmp_path):
    """Its lines used to become 'llm request failed' rejections, committed with the shard."""
    entities = [entity(0, "cat"), entity(1, "owl")]
    expected = _expected(server.base_url, tmp_path, root, entities)
    server.fail_batches(2)  # more than 1 + --llm-http-retries 1
    gen = _batch(server, tmp_path / "out", http_retries=1, backoff_base_s=0.01)
    with pytest.raises(ScarError, match="batch ended failed.*rerun the same command to resubmit"):
        gen.generate(entities, root)
    gen.close()
    again = _batch(server, tmp_path / "out", http_retries=1, backoff_base_s=0.01)
    assert [r.to_row() for r in again.generate(entities, root)] == expected
    again.close()


def test_identical_requests_of_two_entities_do_not_hang_batch_mode(server, root, tmp_path):
    """Two entities with the same gold caption ask the same negatives request: the second flow used
    to wait on the first's reply outside the batch transport, which then never flushed (a hang)."""
    import signal

    def hung(*_):
        raise TimeoutError("batch mode hung")

    entities = [entity(0, "cat"), entity(1, "cat")]
    expected = _expected(server.base_url, tmp_path, root, entities)
    gen = _batch(server, tmp_path / "out")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        results = gen.generate(entities, root)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert [r.to_row() for r in results] == expected
    stats = gen.stats()
    gen.close()
    assert stats["requests"] == server.log.batch_lines  # merged lines are not counted as sent
