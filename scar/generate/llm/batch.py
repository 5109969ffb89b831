"""Batch transport: the OpenAI Batch API, resumable across process restarts.

Entity flows call `send` exactly as online; the requests wait while every flow that is still
running reaches its next request, then they all go out as batch files (JSONL, one line per
request, custom_id = cache key). Each batch is recorded on disk (<out>/.llm-batch/chunk-*.json)
from the moment it is uploaded, so a restarted build adopts the batches already on the server
instead of paying for them again. Lines that fail are sent again in a follow-up batch.

Faults: before creating a batch, the server's batch list is searched for one made from the same
uploaded file, so a create whose reply was lost (a stall, a timeout, a kill) is adopted, never paid
twice. A batch that fails as a whole (failed, expired, cancelled) more often than --llm-http-retries
stops the build with an error, commits nothing, and the rerun resubmits its lines. Every line holds
its worst-case cost against --max-cost from the moment it is queued (see usage.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Coroutine, Sequence, TypeVar

import numpy as np
import openai

from scar.core.errors import BudgetExhausted, ScarError
from scar.generate.llm.client import ImageEncoder, RetryPolicy, TransportFailure, retry_after_seconds
from scar.generate.llm.request import ChatRequest, Reply
from scar.generate.llm.secrets import Redactor, short_error
from scar.generate.llm.usage import Budget, Price

log = logging.getLogger("scar.llm")
T = TypeVar("T")

TERMINAL = ("completed", "failed", "expired", "cancelled")
ENDPOINT = "/v1/chat/completions"
WHOLE_BATCH = "batch ended"  # how a line's error starts when its whole batch failed
FIND_BATCH_SCAN = 1_000  # newest batches searched for one made from a given file


@dataclass
class BatchSettings:
    state_dir: Path
    poll_interval_s: float = 30.0
    max_lines: int = 50_000
    max_bytes: int = 180 * 1024 * 1024
    completion_window: str = "24h"


class BatchTransport:
    is_batch = True

    def __init__(
        self,
        make_client: Callable[[], openai.AsyncOpenAI],
        settings: BatchSettings,
        retry: RetryPolicy,
        budget: Budget,
        price: Price | None,
        redact: Redactor,
        images: ImageEncoder,
        rng: np.random.Generator,
        on_reply: Callable[[str, str, Reply], None],
    ) -> None:
        self._make_client = make_client
        self._client: openai.AsyncOpenAI | None = None
        self._settings = settings
        self._retry = retry
        self._budget = budget
        self._price = price
        self._redact = redact
        self._images = images
        self._rng = rng
        self._on_reply = on_reply
        self._pending: list[tuple[ChatRequest, asyncio.Future[Reply], float]] = []
        self._held: dict[str, list[float]] = {}  # key -> worst-case costs held for its lines in flight
        self._wake: asyncio.Event | None = None

    # ------------------------------------------------------------ what flows see

    async def send(self, request: ChatRequest) -> Reply:
        held = self._budget.reserve_request(self._worst(request))
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending.append((request, future, held))
        assert self._wake is not None, "BatchTransport.send outside BatchTransport.run"
        self._wake.set()
        return await future

    async def run(self, flows: Sequence[Coroutine[Any, Any, T]]) -> list[T | BaseException]:
        """Run all flows, flushing their requests as batches whenever every live flow is waiting."""
        self._wake = asyncio.Event()
        tasks = [asyncio.ensure_future(f) for f in flows]
        live = set(tasks)

        def finished(task: asyncio.Task[Any]) -> None:
            live.discard(task)
            assert self._wake is not None
            self._wake.set()

        for task in tasks:
            task.add_done_callback(finished)
        while live:
            await self._wake.wait()
            self._wake.clear()
            waiting = sum(1 for _, f, _ in self._pending if not f.done())
            if live and waiting >= len(live):
                batch, self._pending = self._pending, []
                await self._flush(batch)
        return [t.exception() or t.result() for t in tasks]

    # ------------------------------------------------------------ one flush = batches until all lines answered

    def _worst(self, request: ChatRequest) -> float:
        return self._price.worst_case_usd(request, batch=True) if self._price is not None else 0.0

    def _settle(self, key: str, reply: Reply) -> None:
        """A line's reply arrived: its first hold becomes its cost, holds of duplicate lines are freed."""
        holds = self._held.pop(key, [])
        if not holds:  # a line of a batch adopted from an earlier run: nothing was held for it
            self._budget.charge(self._price, reply.prompt_tokens, reply.completion_tokens, batch=True)
            return
        self._budget.settle(holds[0], self._price, reply.prompt_tokens, reply.completion_tokens, batch=True)
        for held in holds[1:]:
            self._budget.release(held)

    def _release(self, keys: Any) -> None:
        for key in list(keys):
            for held in self._held.pop(key, []):
                self._budget.release(held)

    async def _flush(self, pending: list[tuple[ChatRequest, asyncio.Future[Reply], float]]) -> None:
        by_key: dict[str, ChatRequest] = {}
        futures: dict[str, list[asyncio.Future[Reply]]] = {}
        for request, future, held in pending:
            key = request.cache_key()
            by_key.setdefault(key, request)
            futures.setdefault(key, []).append(future)
            self._held.setdefault(key, []).append(held)
        merged = len(pending) - len(by_key)  # identical requests of several flows: one line, one reply for all
        self._budget.usage.requests -= merged
        self._budget.usage.cache_hits += merged
        remaining = dict(by_key)
        errors: dict[str, str] = {}
        try:
            for attempt in range(self._retry.attempts + 1):
                if attempt:
                    for key in remaining:  # each re-sent line is a request for the budget
                        self._held.setdefault(key, []).append(self._budget.reserve_request(self._worst(remaining[key])))
                    self._budget.usage.retries += len(remaining)
                replies, errors = await self._run_round(remaining)
                for key, reply in replies.items():
                    for f in futures.pop(key, []):
                        f.set_result(reply)
                remaining = {k: remaining[k] for k in errors}
                self._release(remaining)  # failed lines are not billed
                if not remaining:
                    return
                log.info("%d batch lines failed; sending them again", len(remaining))
            if all(errors.get(k, "").startswith(WHOLE_BATCH) for k in remaining):
                first = errors[next(iter(remaining))]
                raise ScarError(
                    f"{first} ({self._retry.attempts + 1} attempts); nothing was kept: rerun the same command to resubmit"
                )
            for key in remaining:
                for f in futures.pop(key, []):
                    f.set_exception(TransportFailure(f"batch line failed: {errors.get(key, 'unknown')}"))
        except Exception as exc:  # budget reached or a fatal API error: every waiting flow gets it
            error = exc if isinstance(exc, (BudgetExhausted, ScarError)) else ScarError(short_error(exc, self._redact))
            for fs in futures.values():
                for f in fs:
                    if not f.done():
                        f.set_exception(error)
        finally:
            self._release(by_key)

    async def _run_round(self, requests: dict[str, ChatRequest]) -> tuple[dict[str, Reply], dict[str, str]]:
        wanted = set(requests)
        records = [r for r in _load_records(self._settings.state_dir) if r.status != "done" and wanted & set(r.keys)]
        covered = {k for r in records for k in r.keys}
        if covered:
            log.info("adopting %d batch(es) already submitted", len(records))
        todo = sorted(wanted - covered)
        records += await self._write_chunks(todo, requests)
        for record in records:
            await self._submit(record)
        replies: dict[str, Reply] = {}
        errors: dict[str, str] = {}
        steps = {k: r.step for k, r in requests.items()}
        for record in records:
            got, failed = await self._collect(record, steps)
            replies.update({k: v for k, v in got.items() if k in wanted})
            errors.update({k: v for k, v in failed.items() if k in wanted})
        for key in sorted(wanted - replies.keys() - errors.keys()):  # sorted: no order from string hashing
            errors[key] = "no output line"
        return replies, errors

    async def _write_chunks(self, keys: list[str], requests: dict[str, ChatRequest]) -> list["ChunkRecord"]:
        out: list[ChunkRecord] = []
        lines: list[bytes] = []
        chunk_keys: list[str] = []
        size = 0

        def close_chunk() -> None:
            nonlocal lines, chunk_keys, size
            if chunk_keys:
                out.append(ChunkRecord.create(self._settings.state_dir, chunk_keys, b"".join(lines)))
            lines, chunk_keys, size = [], [], 0

        for key in keys:
            body = await self._images.body(requests[key], "json_schema")
            line = json.dumps({"custom_id": key, "method": "POST", "url": ENDPOINT, "body": body}).encode() + b"\n"
            if chunk_keys and (len(chunk_keys) >= self._settings.max_lines or size + len(line) > self._settings.max_bytes):
                close_chunk()
            lines.append(line)
            chunk_keys.append(key)
            size += len(line)
        close_chunk()
        return out

    async def _submit(self, record: "ChunkRecord") -> None:
        client = self._ready()
        if record.file_id is None:
            data = record.input_path.read_bytes()
            uploaded = await self._api(lambda: client.files.create(file=(record.input_path.name, io.BytesIO(data)), purpose="batch"))
            record.file_id = uploaded.id
            record.save()
        if record.batch_id is None:
            created = await self._create_batch(str(record.file_id))
            record.batch_id = created.id
            record.status = "submitted"
            record.save()
            record.input_path.unlink(missing_ok=True)  # can be GBs of images; the server has it now
            self._budget.usage.batches += 1

    async def _create_batch(self, file_id: str) -> Any:
        """Create the batch for an uploaded file, unless an earlier create (whose reply was lost to a
        stall, a timeout or a kill) already did: that one is adopted, not paid for twice."""
        client = self._ready()
        attempt = 0
        while True:
            found = await self._find_batch(file_id)
            if found is not None:
                log.info("adopting batch %s, created earlier from file %s", found.id, file_id)
                return found
            try:
                return await client.batches.create(
                    input_file_id=file_id, endpoint=ENDPOINT, completion_window=self._settings.completion_window  # type: ignore[arg-type]
                )
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as exc:
                if attempt >= self._retry.attempts:
                    raise ScarError(f"batch API call failed: {short_error(exc, self._redact)}; rerun to resume") from None
                headers = getattr(getattr(exc, "response", None), "headers", None)
                delay = self._retry.delay(attempt, retry_after_seconds(headers), self._rng)
                attempt += 1
                await asyncio.sleep(delay)
            except openai.APIStatusError as exc:
                raise ScarError(f"batch API call failed: {short_error(exc, self._redact)}") from None

    async def _find_batch(self, file_id: str) -> Any:
        """The newest live batch made from `file_id` among the server's most recent batches, or None."""
        client = self._ready()
        seen = 0
        try:
            async for batch in client.batches.list(limit=100):
                if batch.input_file_id == file_id and batch.status not in ("failed", "expired", "cancelled"):
                    return batch
                seen += 1
                if seen >= FIND_BATCH_SCAN:
                    break
        except openai.APIError as exc:  # a server without the list endpoint: creating is all we can do
            log.debug("cannot list batches: %s", short_error(exc, self._redact))
        return None

    async def _collect(self, record: "ChunkRecord", steps: dict[str, str]) -> tuple[dict[str, Reply], dict[str, str]]:
        client = self._ready()
        while True:
            batch = await self._api(lambda: client.batches.retrieve(str(record.batch_id)))
            if batch.status in TERMINAL:
                break
            await asyncio.sleep(self._settings.poll_interval_s)
        replies: dict[str, Reply] = {}
        errors: dict[str, str] = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await self._api(lambda: client.files.content(file_id))
            for raw in content.text.splitlines():
                if not raw.strip():
                    continue
                line = json.loads(raw)
                key = line.get("custom_id", "")
                response = line.get("response") or {}
                if response.get("status_code") == 200 and not line.get("error"):
                    reply = Reply.from_completion(response.get("body") or {})
                    self._settle(key, reply)
                    self._on_reply(key, steps.get(key, ""), reply)
                    replies[key] = reply
                else:
                    error = line.get("error") or {}
                    errors[key] = self._redact(error.get("message") or f"HTTP {response.get('status_code')}")[:200]
        if batch.status != "completed" and not replies and not errors:
            detail = self._redact(json.dumps(getattr(batch, "errors", None), default=str))[:200]
            errors.update({k: f"{WHOLE_BATCH} {batch.status}: {detail}" for k in record.keys})
        record.status = "done"
        record.save()
        return replies, errors

    # ------------------------------------------------------------ plumbing

    def _ready(self) -> openai.AsyncOpenAI:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    async def _api(self, call: Callable[[], Awaitable[T]]) -> T:
        """A files/batches API call, retried like online requests; a hopeless error stops the build."""
        attempt = 0
        while True:
            try:
                return await call()
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as exc:
                if attempt >= self._retry.attempts:
                    raise ScarError(f"batch API call failed: {short_error(exc, self._redact)}") from None
                delay = self._retry.delay(attempt, retry_after_seconds(getattr(getattr(exc, "response", None), "headers", None)), self._rng)
                attempt += 1
                await asyncio.sleep(delay)
            except openai.APIStatusError as exc:
                raise ScarError(f"batch API call failed: {short_error(exc, self._redact)}") from None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


@dataclass
class ChunkRecord:
    """One batch's state on disk: its keys, file id, batch id and status (written | submitted | done)."""

    path: Path
    keys: list[str]
    file_id: str | None = None
    batch_id: str | None = None
    status: str = "written"

    @property
    def input_path(self) -> Path:
        return self.path.with_suffix(".jsonl")

    @staticmethod
    def create(state_dir: Path, keys: list[str], data: bytes) -> "ChunkRecord":
        state_dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:24]
        record = ChunkRecord(path=state_dir / f"chunk-{name}.json", keys=keys)
        tmp = record.input_path.with_suffix(".jsonl.tmp")
        tmp.write_bytes(data)
        tmp.replace(record.input_path)
        record.save()
        return record

    def save(self) -> None:
        state = {"keys": self.keys, "file_id": self.file_id, "batch_id": self.batch_id, "status": self.status}
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        tmp.replace(self.path)

    @staticmethod
    def load(path: Path) -> "ChunkRecord":
        state = json.loads(path.read_text(encoding="utf-8"))
        return ChunkRecord(path, list(state["keys"]), state.get("file_id"), state.get("batch_id"), state.get("status", "written"))


def _load_records(state_dir: Path) -> list[ChunkRecord]:
    if not state_dir.is_dir():
        return []
    records = []
    for path in sorted(state_dir.glob("chunk-*.json")):
        try:
            record = ChunkRecord.load(path)
        except (OSError, ValueError, KeyError) as exc:
            raise ScarError(f"{path}: unreadable batch state ({exc}); delete it to resubmit those requests") from None
        if record.status == "written" and record.file_id is None and not record.input_path.exists():
            continue  # crashed before the input file was complete: nothing on the server
        records.append(record)
    return records
