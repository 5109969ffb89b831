"""A dead LLM server stops the build (and the audit judge) within seconds, with one line, keeping what is done."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scar.cli import EXIT_OK, main
from scar.core.schema import Rejected, Sample
from scar.generate.llm.breaker import ServerDown, server_label
from scar.generate.llm.client import REQUEST_FAILED
from tests.llm_fake_server import Fault, FakeOpenAIServer
from tests.llm_helpers import SECRET, entity, generator, root, server  # noqa: F401 (fixtures)

RETRIES = 2  # --llm-http-retries: 3 attempts a request


def _build_args(server: FakeOpenAIServer, *extra: str, limit: int = 40) -> list[str]:
    return ["build", "--source", "demo", "--limit", str(limit), "--generator", "llm", "--llm-model", "fake-model",
            "--llm-base-url", server.base_url, "--llm-api-key-env", "SCAR_TEST_KEY", "--llm-backoff", "0.01",
            "--llm-backoff-max", "0.02", "--llm-http-retries", str(RETRIES), "--no-progress", "--no-audit", *extra]  # fmt: skip


def _rows(out: Path) -> list[dict]:
    return [row for p in sorted(out.glob("demo/*.parquet")) for row in pq.read_table(p).to_pylist()]


def _transport_rejections(out: Path) -> int:
    """'llm request failed' records in the finished shards' sidecars."""
    total = 0
    for sidecar in out.glob("demo/*.stats.json"):
        counts = json.loads(sidecar.read_text())["rejections"]["counts"]
        total += sum(n for reason, n in counts.items() if reason.endswith(REQUEST_FAILED))
    return total


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and "no price known" not in line]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture()
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAR_TEST_KEY", SECRET)


def test_dead_server_stops_the_build_then_the_rerun_completes(server, tmp_path, key, capsys):
    args = _build_args(server, "--split", "eval")  # 40 entities
    whole = tmp_path / "whole"
    assert main([*args, "--out", str(whole)]) == EXIT_OK, capsys.readouterr().err
    capsys.readouterr()

    server.fail_all("500")
    parts = tmp_path / "parts"
    sent = server.log.chat_requests
    started = time.perf_counter()
    code = main([*args, "--out", str(parts)])
    elapsed = time.perf_counter() - started
    line = _one_line(capsys.readouterr().err)
    assert code != EXIT_OK
    assert f"LLM server {server.base_url} (model fake-model) failed 8 requests in a row" in line
    assert "last: HTTP 500: boom (after 3 attempts)" in line and "rerun the same command" in line
    # 7 records and then the probe, each with all its attempts; nothing else
    assert server.log.chat_requests - sent <= 8 * (1 + RETRIES)
    assert elapsed < 10
    assert not list(parts.glob("demo/*.parquet")), "no shard may hold records the dead server failed"

    server.fail_all(None)  # the server is back
    assert main([*args, "--out", str(parts)]) == EXIT_OK, capsys.readouterr().err
    assert _rows(parts) == _rows(whole) and len(_rows(whole)) == 40


def test_server_dying_mid_build_keeps_finished_shards_and_resumes(server, tmp_path, key, capsys):
    args = _build_args(server, "--shard-size", "10", "--concurrency", "4", limit=20)
    whole = tmp_path / "whole"
    assert main([*args, "--out", str(whole)]) == EXIT_OK, capsys.readouterr().err
    whole_requests = server.log.chat_requests
    capsys.readouterr()

    server.fail_all("500", after=whole_requests // 2)
    parts = tmp_path / "parts"
    assert main([*args, "--out", str(parts)]) != EXIT_OK
    # a shard that ended in failed records: the probe failed too, so it stopped before the threshold
    assert re.search(r"failed [2-8] requests in a row, last: HTTP 500", _one_line(capsys.readouterr().err))
    kept = sorted(p.name for p in parts.glob("demo/*.parquet"))
    assert kept, "the shards finished before the server went down are kept"
    assert _transport_rejections(parts) == 0, "records the dying server failed are not written as rejected"
    assert (parts / ".llm-cache.sqlite").exists()

    server.fail_all(None)
    resumed = server.log.chat_requests
    assert main([*args, "--out", str(parts)]) == EXIT_OK, capsys.readouterr().err
    assert _rows(parts) == _rows(whole)
    assert server.log.chat_requests - resumed < whole_requests  # finished shards and cached replies not asked again


def test_failures_below_the_threshold_reject_those_records_only(tmp_path, key, capsys):
    with FakeOpenAIServer() as server:
        server.push_faults(*[Fault("500")] * (2 * (1 + RETRIES)))  # two records fail all their attempts
        out = tmp_path / "out"
        args = _build_args(server, "--concurrency", "1", "--llm-max-consecutive-failures", "3", "--split", "eval")
        assert main([*args, "--out", str(out)]) == EXIT_OK, capsys.readouterr().err
    assert _transport_rejections(out) == 2
    assert server.log.chat_by_step.get("other", 0) == 1  # after 2 failures the probe: the server answers


def test_records_the_server_always_fails_are_rejected_not_a_dead_server(server, root, tmp_path):
    """Records the server refuses retry longest, so they fail last, together, after every other
    record is done: the probe tells them from a dead server."""
    entities = [entity(i, "cat xx-http-500" if i % 2 else "cat") for i in range(12)]
    gen = generator(server.base_url, tmp_path / "out", http_retries=1, max_consecutive_failures=3)
    results = gen.generate(entities, root)
    gen.close()
    assert all(isinstance(r, Sample) for r in results[::2])
    assert all(isinstance(r, Rejected) and r.reason == REQUEST_FAILED for r in results[1::2])
    assert server.log.chat_by_step.get("other", 0) >= 1


def test_a_batch_ending_in_failures_is_not_returned_while_the_server_is_down(server, root, tmp_path):
    gen = generator(server.base_url, tmp_path / "out", http_retries=1, concurrency=1, max_consecutive_failures=8)
    assert isinstance(gen.generate([entity(0)], root)[0], Sample)
    server.fail_all("500")
    with pytest.raises(ServerDown, match="failed 3 requests in a row"):  # 2 records, then the probe
        gen.generate([entity(1), entity(2)], root)
    gen.close()


def test_threshold_zero_never_stops(server, root, tmp_path):
    server.fail_all("500")
    gen = generator(server.base_url, tmp_path / "out", http_retries=0, max_consecutive_failures=0)
    results = gen.generate([entity(i) for i in range(10)], root)
    gen.close()
    assert all(isinstance(r, Rejected) and r.reason == REQUEST_FAILED for r in results)
    assert server.log.chat_requests == 10  # one attempt per record, no probe


def _audit_rows(tmp_path: Path) -> Path:
    n = 12
    table = pa.table({
        "qry_text": ["q"] * n, "qry_image_path": [f"{i}.jpg" for i in range(n)], "bbox": [[0.0, 0.0, 1.0, 1.0]] * n,
        "tgt_text": [[f"xx-likely gold {i}", *[f"negative {i} {k}" for k in range(9)]] for i in range(n)],
        "neg_types": [["object"] * 3 + ["relation"] * 3 + ["scene"] * 3] * n, "id": [f"r{i}" for i in range(n)],
        "source": ["demo"] * n, "split": ["eval"] * n,
    })  # fmt: skip
    path = tmp_path / "rows.parquet"
    pq.write_table(table, path)
    return path


def test_audit_judge_stops_on_a_dead_server(server, tmp_path, key, capsys):
    path = _audit_rows(tmp_path)
    args = ["audit", str(path), "--llm-judge", "--llm-rows", "10", "--llm-model", "fake-model", "--llm-base-url",
            server.base_url, "--llm-api-key-env", "SCAR_TEST_KEY", "--llm-backoff", "0.01", "--llm-backoff-max", "0.02",
            "--llm-http-retries", str(RETRIES), "--llm-max-consecutive-failures", "4", "--json", str(tmp_path / "a.json")]  # fmt: skip
    server.fail_all("500")
    started = time.perf_counter()
    assert main(args) != EXIT_OK
    assert time.perf_counter() - started < 10
    line = _one_line(capsys.readouterr().err)
    assert f"LLM server {server.base_url} (model fake-model) failed 4 requests in a row, last: HTTP 500" in line
    assert server.log.chat_requests <= 4 * (1 + RETRIES)
    # going down mid-run: the requests already queued for a slot wait instead of trying their luck
    server.fail_all("500", after=20)
    sent = server.log.chat_requests
    assert main([*args, "--no-cache"]) != EXIT_OK
    assert "failed 4 requests in a row" in _one_line(capsys.readouterr().err)
    # at most: the 20 answered, then every request already in flight (--concurrency 16) with its retries
    # (a slow machine lets each of them fail and retry before the breaker opens), and the 4 that open it
    assert server.log.chat_requests - sent <= 20 + 16 * (1 + RETRIES) + 4 * (1 + RETRIES)
    server.fail_all(None)
    assert main(args) == EXIT_OK
    assert json.loads((tmp_path / "a.json").read_text())["sources"]["demo"]["scorers"]["llm"]["n"] == 10


def test_server_label_drops_credentials_and_query():
    assert server_label("http://user:pw@host:8000/v1?key=x", "m") == "http://host:8000/v1 (model m)"
    assert server_label(None, "gpt-4o") == "https://api.openai.com/v1 (model gpt-4o)"
