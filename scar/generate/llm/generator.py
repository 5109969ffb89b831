"""LLMGenerator: the Generator protocol on top of the flow, the cache and a transport."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import openai

from scar.core.errors import BudgetExhausted, ScarError
from scar.core.schema import Entity, GeneratorInfo, Rejected, Sample
from scar.core.seeding import rng_for
from scar.generate.llm.batch import BatchSettings, BatchTransport
from scar.generate.llm.breaker import BUILD_ADVICE, DEFAULT_THRESHOLD, CircuitBreaker, server_label
from scar.generate.llm.cache import NoCache, ResponseCache
from scar.generate.llm.client import REQUEST_FAILED, ImageEncoder, OnlineTransport, RetryPolicy, http_client
from scar.generate.llm.flow import EntityFlow, FlowSettings
from scar.generate.llm.images import MarkStyle
from scar.generate.llm.prompts import load_prompts
from scar.generate.llm.request import ChatRequest, Reply, SamplingParams
from scar.generate.llm.secrets import Redactor, short_error
from scar.generate.llm.taxonomy import load_object_swap_check
from scar.generate.llm.usage import Budget, PriceTable, Usage

log = logging.getLogger("scar.llm")
OPENAI_DEFAULT_KEY_ENV = "OPENAI_API_KEY"


@dataclass(frozen=True)
class LLMConfig:
    model: str
    seed: int
    out: Path
    base_url: str | None = None
    api_key_env: str = OPENAI_DEFAULT_KEY_ENV
    mode: str = "online"  # online | batch
    concurrency: int = 16
    max_retries: int = 2
    http_retries: int = 6
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    max_consecutive_failures: int = DEFAULT_THRESHOLD  # failures in a row (see breaker.py) that stop the build; 0: never
    request_timeout_s: float = 120.0
    max_cost: float | None = None
    max_requests: int | None = None
    use_cache: bool = True
    cache_path: Path | None = None  # default <out>/.llm-cache.sqlite
    price_table: Path | None = None
    temperature: float = 0.0
    max_tokens: int = 1024
    mark: MarkStyle = "box"
    image_max_side: int = 1024
    batch_dir: Path | None = None  # default <out>/.llm-batch
    batch_poll_s: float = 30.0
    batch_max_lines: int = 50_000
    batch_max_bytes: int = 180 * 1024 * 1024


class Gateway:
    """Cache first, then the transport; identical requests in flight at once are sent once."""

    def __init__(self, cache: ResponseCache | NoCache, transport: OnlineTransport | BatchTransport, usage: Usage) -> None:
        self._cache = cache
        self._transport = transport
        self._usage = usage
        self._inflight: dict[str, asyncio.Future[Reply]] = {}

    async def complete(self, request: ChatRequest) -> Reply:
        key = request.cache_key()
        hit = self._cache.get(key)
        if hit is not None:
            self._usage.cache_hits += 1
            return hit
        if self._transport.is_batch:
            # A batch is flushed once every live flow waits on the transport; a flow waiting here for
            # another's identical request would never count, and the flush never come (two entities
            # with the same gold caption hung the build). The batch transport merges such lines itself.
            reply = await self._transport.send(request)
            self._cache.put(key, request.step, reply)
            return reply
        if key in self._inflight:  # the same request is already on its way: share its reply
            self._usage.cache_hits += 1
            return await asyncio.shield(self._inflight[key])
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            reply = await self._transport.send(request)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            self._inflight.pop(key, None)
        self._cache.put(key, request.step, reply)
        future.set_result(reply)
        return reply


class LLMGenerator:
    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        prompts = load_prompts()
        self.info = GeneratorInfo(name="llm", model=config.model, prompt_version=prompts.version, seed=config.seed)
        # Batch mode waits hours per submission: hand it whole shards, not progress-sized slices.
        self.wants_whole_shard = config.mode == "batch"
        self._prices = PriceTable.load(config.price_table)
        price = self._prices.get(config.model)
        if price is None:
            if config.max_cost is not None:
                raise ScarError(
                    f"--max-cost needs a price for model {config.model!r}; add it with --price-table FILE"
                )
            log.warning("no price known for model %s: cost is reported as 0", config.model)
        self._redact = Redactor()
        self.usage = Usage()
        self._budget = Budget(self.usage, config.max_requests, config.max_cost)
        self._cache: ResponseCache | NoCache = (
            ResponseCache(config.cache_path or config.out / ".llm-cache.sqlite") if config.use_cache else NoCache()
        )
        images = ImageEncoder()
        params = SamplingParams(config.model, config.temperature, config.seed, config.max_tokens)
        retry = RetryPolicy(attempts=config.http_retries, base_s=config.backoff_base_s, max_s=config.backoff_max_s)
        jitter = rng_for(config.seed, "llm-backoff-jitter")  # timing only; never changes rows
        # Online only: the Batch API's whole-batch failures already stop the build after --llm-http-retries.
        self._breaker = CircuitBreaker(
            config.max_consecutive_failures if config.mode == "online" else 0,
            server_label(config.base_url, config.model),
            BUILD_ADVICE,
        )
        self._transport: OnlineTransport | BatchTransport
        if config.mode == "batch":
            settings = BatchSettings(
                state_dir=config.batch_dir or config.out / ".llm-batch",
                poll_interval_s=config.batch_poll_s,
                max_lines=config.batch_max_lines,
                max_bytes=config.batch_max_bytes,
            )
            self._transport = BatchTransport(
                self._make_client, settings, retry, self._budget, price, self._redact, images, jitter, self._cache.put
            )
        elif config.mode == "online":
            self._transport = OnlineTransport(
                self._make_client, config.concurrency, config.request_timeout_s, retry, self._budget, price,
                self._redact, images, jitter, self._breaker,
            )  # fmt: skip
            online = self._transport
            self._breaker.probe = lambda: online.probe(params, with_image=True)
        else:
            raise ScarError(f"unknown --llm-mode {config.mode!r}; expected online or batch")
        self._gateway = Gateway(self._cache, self._transport, self.usage)
        settings_ = FlowSettings(self.info, params, config.max_retries, config.mark, config.image_max_side)
        self._flow = EntityFlow(prompts, self._gateway.complete, settings_, self.usage, load_object_swap_check())
        self._loop = asyncio.new_event_loop()

    def _make_client(self) -> openai.AsyncOpenAI:
        """Created on the first request that misses the cache, so a fully cached rerun needs no key."""
        key = os.environ.get(self.config.api_key_env, "")
        if not key:
            if self.config.base_url is None:
                raise ScarError(
                    f"environment variable {self.config.api_key_env} is not set; export your API key there "
                    "(or name another variable with --llm-api-key-env)"
                )
            key = "unused"  # local OpenAI-compatible servers often need no key
        self._redact.set_secret(key)
        return openai.AsyncOpenAI(
            api_key=key,
            base_url=self.config.base_url,
            max_retries=0,
            timeout=self.config.request_timeout_s,
            http_client=http_client(self.config.concurrency),
        )

    # ------------------------------------------------------------ Generator protocol

    def generate(self, entities: Sequence[Entity], images_root: Path | None) -> list[Sample | Rejected]:
        if self._loop.is_closed():
            raise ScarError("the LLM generator was closed")
        try:
            return self._loop.run_until_complete(self._generate(list(entities), images_root))
        except (ScarError, KeyboardInterrupt):
            raise
        except Exception as exc:  # never let a raw exception (with who knows what text) escape unsanitized
            raise ScarError(f"LLM generation failed: {short_error(exc, self._redact)}") from None

    async def _generate(self, entities: list[Entity], images_root: Path | None) -> list[Sample | Rejected]:
        if isinstance(self._transport, BatchTransport):
            outcomes = await self._transport.run([self._flow.run(e, images_root) for e in entities])
        else:
            outcomes = await self._run_online(entities, images_root)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        for kind in (lambda e: not isinstance(e, ScarError), lambda e: not isinstance(e, BudgetExhausted)):
            for error in errors:
                if kind(error):
                    raise error
        if errors:
            raise errors[0]
        # Records that failed with no success after them may have met a server that just went down:
        # they are returned as rejected rows only once the server is seen answering.
        await self._breaker.confirm()
        return outcomes  # type: ignore[return-value]

    async def _run_online(self, entities: list[Entity], images_root: Path | None) -> list[Any]:
        """A pool of workers over the entities; after a budget stop or fatal error no new entity starts.
        Records that failed in transport are counted by the circuit breaker, which may stop the run."""
        outcomes: list[Any] = [None] * len(entities)
        todo = iter(range(len(entities)))
        stop = False

        async def worker() -> None:
            nonlocal stop
            for i in todo:
                if stop:
                    outcomes[i] = BudgetExhausted("stopped")
                    continue
                try:
                    outcome = await self._flow.run(entities[i], images_root)
                    outcomes[i] = outcome
                    if isinstance(outcome, Rejected) and outcome.reason == REQUEST_FAILED:
                        await self._breaker.record_failed(entities[i].id, outcome.detail)
                except Exception as exc:
                    outcomes[i] = exc
                    stop = True

        workers = max(1, min(len(entities), self.config.concurrency * 2))
        await asyncio.gather(*(worker() for _ in range(workers)))
        return outcomes

    def stats(self) -> dict[str, Any]:
        return {"model": self.config.model, "mode": self.config.mode, **self.usage.to_dict()}

    def progress_text(self) -> str:
        """Usage for the progress bar: requests, cache hits, tokens, estimated cost."""
        u = self.usage
        tokens = u.prompt_tokens + u.completion_tokens
        return f"{u.requests:,} req, {u.cache_hits:,} cached, {tokens / 1e3:,.1f}k tok, ${u.cost_usd:,.2f}"

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._loop.run_until_complete(self._transport.aclose())
        finally:
            self._loop.close()
            self._cache.close()
