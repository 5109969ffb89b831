"""Online transport: AsyncOpenAI with bounded concurrency, retries, timeouts and format fallback.

The openai client's own retries are off (max_retries=0) so that every HTTP attempt is counted,
budgeted and backed off here: exponential backoff with jitter on 429, 5xx, timeouts and dropped
connections, honouring Retry-After. Errors that retrying cannot fix (bad key, unknown model)
stop the build with a sanitized one-line ScarError. Every attempt passes the circuit breaker
(breaker.py), which holds requests back while the server looks down and stops the run once it is.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import io
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import openai
from PIL import Image

try:  # the HTTP library the installed openai client is built on (httpx, renamed httpx2 in newer releases)
    import httpx2 as httpx
except ImportError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]

from scar.core.errors import BudgetExhausted, ScarError
from scar.generate.llm.breaker import CircuitBreaker, ServerDown
from scar.generate.llm.images import ImageRef, data_url, render_marked
from scar.generate.llm.request import ChatRequest, Message, Reply, SamplingParams
from scar.generate.llm.secrets import Redactor, short_error
from scar.generate.llm.usage import Budget, Price

log = logging.getLogger("scar.llm")

FORMAT_LEVELS = ("json_schema", "json_object", "none")
REQUEST_FAILED = "llm request failed"
PROBE_TEXT = "Reply with the word ok."
PROBE_IMAGE_SIDE = 16


@functools.lru_cache(maxsize=1)
def probe_image_url() -> str:
    """A 16 x 16 grey JPEG as a data URL: the probe's picture, for servers that are asked about images."""
    buffer = io.BytesIO()
    Image.new("RGB", (PROBE_IMAGE_SIDE, PROBE_IMAGE_SIDE), (128, 128, 128)).save(buffer, format="JPEG")
    return data_url(buffer.getvalue())


class TransportFailure(Exception):
    """A request that still failed after all retries; the entity becomes a Rejected with this reason."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.reason = REQUEST_FAILED
        self.detail = detail


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # retries after the first attempt
    base_s: float = 1.0
    max_s: float = 60.0
    max_retry_after_s: float = 600.0

    def delay(self, attempt: int, retry_after: float | None, rng: np.random.Generator) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after_s)
        ceiling = min(self.max_s, self.base_s * (2**attempt))
        return float(ceiling * (0.5 + 0.5 * rng.random()))  # "equal jitter": never 0, never above ceiling


def status_failure(exc: openai.APIStatusError, redact: Redactor) -> str:
    """`HTTP 500: <the server's message>`, one sanitized line."""
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    text = " ".join(redact(f"HTTP {exc.status_code}: {message or exc.message}").split())
    return text if len(text) <= 300 else text[:297] + "..."


def retry_after_seconds(headers: Any) -> float | None:
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return float(ms) / 1000.0
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


class ImageEncoder:
    """Renders marked images off the event loop, keeping a few recent ones (the caption and verify steps share one)."""

    def __init__(self, keep: int = 256) -> None:
        self._recent: OrderedDict[ImageRef, str] = OrderedDict()
        self._keep = keep

    def url_now(self, ref: ImageRef) -> str:
        url = self._recent.get(ref)
        if url is None:
            url = data_url(render_marked(ref))
            self._recent[ref] = url
            while len(self._recent) > self._keep:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(ref)
        return url

    async def body(self, request: ChatRequest, response_format: str) -> dict[str, Any]:
        refs = [p for m in request.messages for p in m.parts if isinstance(p, ImageRef) and p not in self._recent]
        if refs:  # PIL decodes/encodes outside the GIL for the most part
            urls = await asyncio.to_thread(lambda: {r: data_url(render_marked(r)) for r in refs})
            for ref, url in urls.items():
                self._recent[ref] = url
        return request.body(self.url_now, response_format)


def http_client(concurrency: int) -> httpx.AsyncClient:
    """The openai client over aiohttp (its documented transport for high concurrency), pool sized to
    the concurrency. httpx's own pool rescans every connection per request: measured with 64 in
    flight, about 2.8 ms of client CPU per request against a local server."""
    limits = httpx.Limits(max_connections=concurrency + 8, max_keepalive_connections=concurrency + 8)
    try:
        return openai.DefaultAioHttpClient(limits=limits)
    except RuntimeError:  # installed without the aiohttp extra
        return openai.DefaultAsyncHttpxClient(limits=limits)


class OnlineTransport:
    is_batch = False

    def __init__(
        self,
        make_client: Callable[[], openai.AsyncOpenAI],
        concurrency: int,
        timeout_s: float,
        retry: RetryPolicy,
        budget: Budget,
        price: Price | None,
        redact: Redactor,
        images: ImageEncoder,
        rng: np.random.Generator,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._make_client = make_client
        self._client: openai.AsyncOpenAI | None = None
        self._sem: asyncio.Semaphore | None = None
        self._concurrency = concurrency
        self._timeout_s = timeout_s
        self._retry = retry
        self._budget = budget
        self._price = price
        self._redact = redact
        self._images = images
        self._rng = rng
        self._breaker = breaker if breaker is not None else CircuitBreaker(0, "")
        self._format_level = 0
        self._settled: asyncio.Event | None = None  # set whenever a held request settles or is released

    def _ready(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]:
        if self._client is None:
            self._client = self._make_client()
        if self._sem is None:
            self._sem = asyncio.Semaphore(self._concurrency)
        return self._client, self._sem

    async def send(self, request: ChatRequest) -> Reply:
        token = object()  # this request, to the breaker
        try:
            return await self._send(request, token, None)
        finally:
            self._breaker.leave(token)

    async def probe(self, params: SamplingParams, with_image: bool) -> str | None:
        """One small request (a one-token reply; with a tiny grey picture when the caller's requests
        carry images), never cached: None when the server answers it, else why it still failed after
        all retries. An error status that retrying cannot fix is an answer too: the server is up."""
        one_token = SamplingParams(params.model, params.temperature, params.seed, 1)
        parts: list[dict[str, Any]] = [{"type": "text", "text": PROBE_TEXT}]
        if with_image:
            parts.append({"type": "image_url", "image_url": {"url": probe_image_url()}})
        body = {**one_token.as_body(), "messages": [{"role": "user", "content": parts}]}
        # What the budget sees: the same text, and an image at the model's worst-case image price.
        image = (ImageRef(Path("probe"), (0.0, 0.0, 1.0, 1.0), None, "box", PROBE_IMAGE_SIDE, "probe"),) if with_image else ()
        request = ChatRequest("probe", "scar_probe", {}, (Message("user", (PROBE_TEXT, *image)),), "probe", one_token)
        try:
            await self._send(request, None, body)
        except TransportFailure as exc:
            return exc.detail
        except (BudgetExhausted, ServerDown):
            raise
        except ScarError:  # refused (bad request, say): the server is up
            pass
        return None

    async def _send(self, request: ChatRequest, token: object | None, fixed_body: dict[str, Any] | None) -> Reply:
        client, sem = self._ready()
        usage = self._budget.usage
        breaker = self._breaker
        attempt = 0
        worst = self._price.worst_case_usd(request, batch=False) if self._price is not None else 0.0
        while True:
            await breaker.admit(token)
            level = self._format_level
            retry_after: float | None = None
            async with sem:
                if not breaker.admit_now(token):  # the server failed while this one waited for a slot
                    continue
                # Inside the slot: at most `concurrency` requests hold their worst case at once. When the
                # next one does not fit, the ones in flight usually cost far less than held: wait for them.
                while self._budget.in_flight and not self._budget.fits(worst):
                    settled_event = self._settled_event()
                    settled_event.clear()
                    await settled_event.wait()
                held = self._budget.reserve_request(worst)
                settled = maybe_billed = False
                try:
                    body = fixed_body if fixed_body is not None else await self._images.body(request, FORMAT_LEVELS[level])
                    try:
                        # the client's generic POST: same auth, errors and URL handling as chat.completions.create,
                        # without re-validating our already-built body against the typed params (~2 ms/request)
                        raw = await client.post(
                            "/chat/completions", cast_to=httpx.Response, body=body, options={"timeout": self._timeout_s}
                        )
                        completion = json.loads(raw.content)
                    except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                        if fixed_body is None and self._format_unsupported(exc) and level + 1 < len(FORMAT_LEVELS):
                            if self._format_level == level:
                                self._format_level = level + 1
                                usage.format_fallbacks += 1
                                log.warning("server refused response_format=%s; falling back to %s",
                                            FORMAT_LEVELS[level], FORMAT_LEVELS[level + 1])
                            continue
                        raise ScarError(f"LLM server rejected the request: {short_error(exc, self._redact)}") from None
                    except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
                        raise ScarError(f"LLM server refused us: {short_error(exc, self._redact)}") from None
                    except openai.APIConnectionError as exc:  # timeouts too: the server may have answered, and billed
                        maybe_billed = True
                        failure = short_error(exc, self._redact)
                    except (openai.RateLimitError, openai.InternalServerError, openai.ConflictError) as exc:
                        failure = status_failure(exc, self._redact)
                        retry_after = retry_after_seconds(exc.response.headers)
                    except openai.APIStatusError as exc:  # other 4xx/5xx: retry 5xx-like codes only
                        failure = status_failure(exc, self._redact)
                        if exc.status_code < 500 and exc.status_code not in (408, 409, 425, 429):
                            raise ScarError(f"LLM server rejected the request: {failure}") from None
                        retry_after = retry_after_seconds(exc.response.headers)
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        maybe_billed = True  # it answered 200
                        failure = "server sent a reply that is not a JSON chat completion"
                    else:
                        reply = Reply.from_completion(completion)
                        self._budget.settle(held, self._price, reply.prompt_tokens, reply.completion_tokens, batch=False)
                        settled = True
                        breaker.attempt_succeeded()
                        return reply
                finally:
                    if not settled:
                        self._budget.release(held, maybe_billed)
                    self._settled_event().set()
            breaker.attempt_failed()
            if attempt >= self._retry.attempts:
                raise TransportFailure(f"{failure} (after {attempt + 1} attempts)")
            delay = self._retry.delay(attempt, retry_after, self._rng)
            log.info("retrying %s request in %.2fs: %s", request.step, delay, failure)
            usage.retries += 1
            attempt += 1
            await breaker.sleep(delay)

    def _settled_event(self) -> asyncio.Event:
        if self._settled is None:
            self._settled = asyncio.Event()
        return self._settled

    @staticmethod
    def _format_unsupported(exc: openai.APIStatusError) -> bool:
        text = str(getattr(exc, "message", "")) + " " + str(getattr(exc, "body", ""))
        return any(w in text.lower() for w in ("response_format", "json_schema", "json_object", "structured output"))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        self._sem = None
