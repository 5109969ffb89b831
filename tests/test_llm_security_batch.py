"""The API key never leaks; Batch API mode (files + batches endpoints, partly failed batch, resume)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from scar.core.errors import ScarError
from scar.core.schema import Rejected, Sample
from scar.generate.llm.batch import BatchTransport
from tests.llm_fake_server import Fault, FakeOpenAIServer
from tests.llm_helpers import SECRET, entity, generator, root, server  # noqa: F401 (fixtures)


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_the_key_reaches_the_server_and_nothing_else(server, root, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # openai, httpx and our own loggers, all at their most verbose
    out = tmp_path / "out"
    server.push_faults(Fault("500"), Fault("429", retry_after="0.01"))
    gen = generator(server.base_url, out, concurrency=1)
    results = gen.generate([entity(0), entity(1, "elk xx-malformed-always")], root)
    stats = gen.stats()
    gen.close()
    assert server.log.auth_headers == {f"Bearer {SECRET}"}  # it was used...
    rows = [r.to_row() for r in results if isinstance(r, Sample)]
    rejected = [r for r in results if isinstance(r, Rejected)]
    assert len(rows) == 1 and len(rejected) == 1
    # ...and appears in no log record, stats, row, rejection, nor in the cache files (db + WAL)
    for text in (caplog.text, json.dumps(stats), json.dumps(rows), repr(rejected)):
        assert SECRET not in text and "SECRETVALUE" not in text
    assert SECRET.encode() not in _all_bytes(out) and b"SECRETVALUE" not in _all_bytes(out)
    assert any(p.name.startswith(".llm-cache.sqlite") for p in out.iterdir())


def test_an_error_that_quotes_the_key_is_sanitized(server, root, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    server.push_faults(Fault("401-echo"))
    gen = generator(server.base_url, tmp_path / "out", concurrency=1)
    with pytest.raises(ScarError) as info:
        gen.generate([entity(0)], root)
    gen.close()
    message = str(info.value)
    assert "Incorrect API key provided" in message and "***" in message
    assert "SECRETVALUE" not in message and "SECRETVALUE" not in caplog.text


def _batch_gen(server: FakeOpenAIServer, out: Path, **kw):
    return generator(server.base_url, out, mode="batch", batch_poll_s=0.01, **kw)


def test_batch_mode_matches_online_and_retries_failed_lines(server, root, tmp_path):
    entities = [entity(0, "cat"), entity(1, "elk xx-batch-fail"), entity(2, "cow xx-bad-negative-once")]
    online = generator(server.base_url, tmp_path / "online")
    expected = [r.to_row() for r in online.generate(entities, root)]
    online.close()
    sent_online = server.log.chat_requests

    gen = _batch_gen(server, tmp_path / "batch")
    results = gen.generate(entities, root)
    stats = gen.stats()
    gen.close()
    assert server.log.chat_requests == sent_online  # nothing went through the online endpoint
    assert [r.to_row() for r in results] == expected
    # the elk's line fails once at each of its 3 steps and is sent again in a follow-up batch
    assert server.log.batches_created == server.log.files_uploaded
    assert stats["retries"] == 3 and stats["batches"] == server.log.batches_created
    assert server.log.batch_lines == stats["requests"]
    assert list((tmp_path / "batch" / ".llm-batch").glob("chunk-*.jsonl")) == []  # inputs removed once submitted
    states = [json.loads(p.read_text()) for p in (tmp_path / "batch" / ".llm-batch").glob("chunk-*.json")]
    assert states and all(s["status"] == "done" for s in states)

    again = _batch_gen(server, tmp_path / "batch")
    assert [r.to_row() for r in again.generate(entities, root)] == expected
    assert again.stats()["requests"] == 0
    again.close()


def test_batch_mode_resumes_a_submitted_batch_after_a_crash(server, root, tmp_path, monkeypatch):
    entities = [entity(0, "cat"), entity(1, "owl")]
    real_collect = BatchTransport._collect
    crashed = []

    async def crash_once(self, record, steps):
        if not crashed:
            crashed.append(record.batch_id)
            raise ScarError("simulated crash while polling")
        return await real_collect(self, record, steps)

    monkeypatch.setattr(BatchTransport, "_collect", crash_once)
    gen = _batch_gen(server, tmp_path / "out")
    with pytest.raises(ScarError, match="simulated crash"):
        gen.generate(entities, root)
    gen.close()
    assert server.log.batches_created == 1
    state = json.loads(next((tmp_path / "out" / ".llm-batch").glob("chunk-*.json")).read_text())
    assert state["status"] == "submitted" and state["batch_id"] == crashed[0]

    gen = _batch_gen(server, tmp_path / "out")
    results = gen.generate(entities, root)
    gen.close()
    assert all(isinstance(r, Sample) for r in results)
    # the caption batch was adopted, not sent again: 3 batches in all (caption, negatives, verify)
    assert server.log.batches_created == 3 and server.log.batch_lines == 6
