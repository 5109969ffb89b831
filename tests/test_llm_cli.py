"""End to end: `scar build --source demo --generator llm` against the fake server, budget stop, resume, validate."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from scar.cli import EXIT_BUDGET, EXIT_OK, main
from tests.llm_fake_server import FakeOpenAIServer
from tests.llm_helpers import SECRET


def _rows(out: Path) -> list[dict]:
    return [row for p in sorted(out.glob("demo/*.parquet")) for row in pq.read_table(p).to_pylist()]


def test_build_demo_with_llm_then_validate(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SCAR_TEST_KEY", SECRET)
    with FakeOpenAIServer() as server:
        args = ["build", "--source", "demo", "--limit", "3", "--generator", "llm", "--llm-model", "fake-model",
                "--llm-base-url", server.base_url, "--llm-api-key-env", "SCAR_TEST_KEY", "--llm-backoff", "0.01",
                "--no-progress"]  # fmt: skip
        whole = tmp_path / "whole"
        assert main([*args, "--out", str(whole)]) == EXIT_OK, capsys.readouterr().err
        sent = server.log.chat_requests
        # 6 entities: a caption and a verify each; negatives requests are shared by entities with the same gold
        assert sent >= 6 * 2

        parts = tmp_path / "parts"
        assert main([*args, "--out", str(parts), "--max-requests", "5"]) == EXIT_BUDGET
        assert "max-requests" in capsys.readouterr().err
        assert main([*args, "--out", str(parts)]) == EXIT_OK
        assert server.log.chat_requests == 2 * sent  # the stopped run + its rerun paid for each call once

    assert main(["validate", str(whole)]) == EXIT_OK, capsys.readouterr()
    assert main(["validate", str(parts)]) == EXIT_OK
    rows = _rows(whole)
    assert len(rows) == 6 and rows == _rows(parts)
    assert all(r["generator"]["name"] == "llm" and r["generator"]["prompt_version"] == "scar-llm-v1" for r in rows)
    assert all(len(r["tgt_text"]) == 10 for r in rows)
    stats = json.loads((whole / "stats.json").read_text())
    usage = stats["sources"]["demo"]["generator_usage"]
    assert usage["requests"] == sent and usage["completion_tokens"] > 0
    for out in (whole, parts):
        blob = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
        assert b"SECRETVALUE" not in blob
