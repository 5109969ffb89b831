"""The optional LLM judge of `scar audit --llm-judge`: a language model rates each caption alone, without the image.

Same server options as the LLM generator (--llm-model, --llm-base-url, --llm-api-key-env, budgets,
cache), same transport, cache and redaction. Every candidate of a sample of rows (--llm-rows per
source, a fixed sample) is sent on its own: "how likely is this to be the true caption of a real
photograph, 0-100". A model that often rates the gold highest has found a text-only shortcut.
A caption whose request fails after all retries leaves its rows unjudged; --llm-max-consecutive-failures
failures in a row stop the audit with one line (scar.generate.llm.breaker; with 0, the first one does).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import zlib
from pathlib import Path
from typing import Callable

from scar.audit.core import ScorerInfo
from scar.audit.rows import AuditRow
from scar.core.errors import ScarError

PROMPT_VERSION = "audit-1"
SYSTEM = (
    "You rate image captions without seeing the image. Given one caption, say how likely it is to be "
    "the true caption of a real photograph: plausible, common scenes score high, odd or impossible ones low. "
    'Answer with JSON only: {"score": <integer 0-100>}.'
)
SCHEMA = {
    "type": "object",
    "properties": {"score": {"type": "integer"}},
    "required": ["score"],
    "additionalProperties": False,
}
INFO = ScorerInfo("llm", "LLM judge rating each caption alone, without the image (0-100)", True)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")

External = Callable[[list[AuditRow]], list[tuple[ScorerInfo, dict[str, list[float]]]]]


def parse_score(content: str | None) -> float | None:
    if not content:
        return None
    try:
        value = json.loads(content).get("score")
    except (ValueError, AttributeError):
        match = _NUMBER.search(content)
        value = float(match.group(0)) if match else None
    return float(value) if isinstance(value, (int, float)) else None


def sample_rows(rows: list[AuditRow], per_source: int) -> list[AuditRow]:
    by_source: dict[str, list[AuditRow]] = {}
    for r in rows:
        by_source.setdefault(r.source, []).append(r)
    out = []
    for source in sorted(by_source):
        out += sorted(by_source[source], key=lambda r: zlib.crc32(r.id.encode("utf-8")))[:per_source]
    return out


def judge_from_args(args: argparse.Namespace) -> External:
    """The judge as an `audit_path(external=...)` hook, built from the --llm-* options."""
    if args.llm_rows < 1:
        raise ScarError(f"--llm-rows must be >= 1, got {args.llm_rows}")
    cache_dir = Path(args.out) if getattr(args, "out", None) else (args.path if args.path.is_dir() else args.path.parent)

    def run(rows: list[AuditRow]) -> list[tuple[ScorerInfo, dict[str, list[float]]]]:
        chosen = sample_rows(rows, args.llm_rows)
        return [(INFO, asyncio.run(_score_all(args, chosen, cache_dir)))]

    return run


async def _score_all(args: argparse.Namespace, rows: list[AuditRow], cache_dir: Path) -> dict[str, list[float]]:
    # imported here: the openai client takes seconds to import and most audits never need it
    from scar.core.seeding import rng_for
    from scar.generate.llm.breaker import AUDIT_ADVICE, CircuitBreaker, server_label
    from scar.generate.llm.cache import NoCache, ResponseCache
    from scar.generate.llm.client import ImageEncoder, OnlineTransport, RetryPolicy, TransportFailure, http_client
    from scar.generate.llm.generator import Gateway
    from scar.generate.llm.request import ChatRequest, Message, SamplingParams
    from scar.generate.llm.secrets import Redactor, short_error
    from scar.generate.llm.usage import Budget, PriceTable, Usage

    import openai

    redact = Redactor()
    usage = Usage()
    budget = Budget(usage, args.llm_max_requests, args.llm_max_cost)
    price = PriceTable.load(args.llm_price_table).get(args.llm_model)

    def make_client() -> openai.AsyncOpenAI:
        key = os.environ.get(args.llm_api_key_env, "")
        if not key:
            if args.llm_base_url is None:
                raise ScarError(f"environment variable {args.llm_api_key_env} is not set; export your API key there")
            key = "unused"
        redact.set_secret(key)
        return openai.AsyncOpenAI(api_key=key, base_url=args.llm_base_url, max_retries=0, timeout=args.llm_request_timeout,
                                  http_client=http_client(args.llm_concurrency))  # fmt: skip

    retry = RetryPolicy(attempts=args.llm_http_retries, base_s=args.llm_backoff, max_s=args.llm_backoff_max)
    breaker = CircuitBreaker(args.llm_max_consecutive_failures, server_label(args.llm_base_url, args.llm_model), AUDIT_ADVICE)
    transport = OnlineTransport(make_client, args.llm_concurrency, args.llm_request_timeout, retry, budget, price, redact,
                                ImageEncoder(), rng_for(args.seed, "audit-llm-jitter"), breaker)  # fmt: skip
    cache = NoCache() if args.llm_no_cache else ResponseCache(args.llm_cache or cache_dir / ".llm-cache.sqlite")
    gateway = Gateway(cache, transport, usage)
    params = SamplingParams(args.llm_model, args.llm_temperature, args.seed, min(args.llm_max_tokens, 64))
    breaker.probe = lambda: transport.probe(params, with_image=False)  # the judge never sends images

    async def score(caption: str) -> float | None:
        request = ChatRequest("audit", "scar_audit", SCHEMA,
                              (Message.text("system", SYSTEM), Message.text("user", caption)), PROMPT_VERSION, params)  # fmt: skip
        try:
            reply = await gateway.complete(request)
        except TransportFailure as exc:
            if not breaker.enabled:
                raise
            await breaker.record_failed(caption, exc.detail)  # raises once the server is down
            return None  # this caption goes unscored, and its rows unjudged
        return parse_score(reply.content)

    texts = sorted({c for r in rows for c in r.candidates})
    tasks = [asyncio.ensure_future(score(t)) for t in texts]
    try:
        results = await asyncio.gather(*tasks)
        await breaker.confirm()
    except ScarError:
        raise
    except Exception as exc:  # never a raw exception (with who knows what text) out of here
        raise ScarError(f"LLM judge failed: {short_error(exc, redact)}") from None
    finally:
        for task in tasks:  # after a stop, nothing else is sent
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await transport.aclose()
        cache.close()
    by_text = dict(zip(texts, results))
    out: dict[str, list[float]] = {}
    for r in rows:
        scores = [by_text.get(c) for c in r.candidates]
        if all(s is not None for s in scores):
            out[r.id] = [float(s) for s in scores]  # type: ignore[arg-type]
    return out
