"""Circuit breaker: stop a build (or an audit) soon after the LLM server goes down, instead of failing
every record on its own with full retries.

Counting. A record whose request still failed after all its transport retries (TransportFailure)
is one failure; any successful reply resets the count. Records count once each. Replies the model
got wrong (unparseable, refused, rejected by the judge) are answers, not failures. At `threshold`
failures in a row the breaker trips: waiting and retrying requests raise ServerDown (a ScarError:
one line, non-zero exit) and nothing more is sent.

Probe. The last of those failures is a probe, not a record: after threshold - 1 failed records, one
small request (no cached reply, nothing of any record in it) asks whether the server answers at all.
If it does, the failed records were the server refusing those records (they stay rejected) and the
count starts again; a batch's last records, retrying after every other record is done, are never
mistaken for a dead server. The same probe runs before a batch's outcomes are returned while
records failed with no success after them, so records that met a server going down are never
written as rejected rows: either the server answers, or the build stops without them.

Cost of a dead server. While the server looks down (a failed attempt and no success since) only
threshold - 1 requests of different records may keep trying per outage, then the probe; the others
wait for the outcome. A new breaker starts that way too, until the first success. So a server that
is down from the start costs at most threshold x (1 + retries) requests; one that goes down mid-run
costs the requests that were already in flight on top.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

from scar.core.errors import ScarError

DEFAULT_THRESHOLD = 8
OPENAI_URL = "https://api.openai.com/v1"
BUILD_ADVICE = "Finished shards are kept; rerun the same command to resume."
AUDIT_ADVICE = "Replies so far are cached; rerun the same command to resume."
_PROBE = "\x00probe"  # the probe's place among the failed records

Probe = Callable[[], Awaitable["str | None"]]  # None: the server answered; else why not, after all retries


class ServerDown(ScarError):
    """The LLM server failed too many requests in a row; nothing more is sent."""


def server_label(base_url: str | None, model: str) -> str:
    """`URL (model M)` for messages, without any user:password or query the URL may carry."""
    parts = urlsplit(base_url or OPENAI_URL)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return f"{urlunsplit((parts.scheme, host, parts.path, '', ''))} (model {model})"


class CircuitBreaker:
    def __init__(self, threshold: int, server: str, advice: str = BUILD_ADVICE, probe: Probe | None = None) -> None:
        self.threshold = threshold  # 0: disabled
        self.probe = probe  # set by whoever owns the transport; without one, no probing
        self._server = server
        self._advice = advice
        self._failed: dict[str, None] = {}  # records failed since the last success, in order
        self._last_error = ""
        self._healthy = False  # until the first success, go as carefully as during an outage
        self._pilots: set[object] = set()  # requests that may keep trying while the server looks down
        self._pilots_used = 0  # ... admitted during this outage
        self._probing: asyncio.Future[None] | None = None
        self._tripped: str | None = None  # the stop message, once tripped
        self._changed: asyncio.Event | None = None
        self._tripped_event: asyncio.Event | None = None

    @property
    def enabled(self) -> bool:
        return self.threshold > 0

    @property
    def _max_pilots(self) -> int:
        """Records that may keep trying during an outage: as many as can fail before the verdict."""
        return self.threshold if self.probe is None or self.threshold == 1 else self.threshold - 1

    # ------------------------------------------------------------ what the transport calls

    async def admit(self, token: object | None) -> None:
        """Before each attempt of the request `token` (None: the probe, let through until the breaker
        trips): raises once tripped; while the server looks down, waits unless this request is, or
        may become, one of the outage's pilots."""
        while not self.admit_now(token):
            await self._event().wait()

    def admit_now(self, token: object | None) -> bool:
        """`admit` without waiting: whether `token` may send now (raises once tripped)."""
        self.check()
        if not self.enabled or token is None or self._healthy or token in self._pilots:
            return True
        # The last clause only keeps requests from waiting forever (records deduplicated onto one
        # request count several failures for one pilot); a failing outage trips before it applies.
        if self._probing is None and (self._pilots_used < self._max_pilots or not self._pilots):
            self._pilots.add(token)
            self._pilots_used += 1
            return True
        return False

    def leave(self, token: object | None) -> None:
        """The request `token` ended (reply, failure or error)."""
        if token in self._pilots:
            self._pilots.discard(token)
            self._notify()

    def attempt_succeeded(self) -> None:
        self._failed.clear()
        if not self._healthy:
            self._healthy = True
            self._pilots_used = len(self._pilots)
            self._notify()

    def attempt_failed(self) -> None:
        self._healthy = False

    async def sleep(self, seconds: float) -> None:
        """Back-off that ends at once when the breaker trips."""
        self.check()
        if not self.enabled:
            await asyncio.sleep(seconds)
            return
        if self._tripped_event is None:
            self._tripped_event = asyncio.Event()
        try:
            await asyncio.wait_for(self._tripped_event.wait(), seconds)
        except asyncio.TimeoutError:
            pass
        self.check()

    # ------------------------------------------------------------ what the callers report

    async def record_failed(self, record: str, error: str) -> None:
        """A record's request failed after all retries (it would become an 'llm request failed' row).
        Raises ServerDown when that makes `threshold` failures in a row: threshold - 1 records and
        then the probe (without a probe, or at threshold 1: `threshold` records)."""
        if not self.enabled:
            return
        self._failed[record] = None
        self._last_error = error
        if self.probe is None or self.threshold == 1:
            if len(self._failed) >= self.threshold:
                self._trip()
        elif len(self._failed) >= self.threshold - 1:
            # The probe decides, even when more records fail meanwhile: records the server refuses
            # may fail together (they retry longest), while the server answers everything else.
            await self._confirm()

    async def confirm(self) -> None:
        """Before outcomes are returned: when records failed with no success after them, the probe
        decides whether they stay rejected (the server answers) or the breaker trips."""
        if self.enabled and self._failed and self.probe is not None:
            await self._confirm()

    def check(self) -> None:
        if self._tripped is not None:
            raise ServerDown(self._tripped)

    # ------------------------------------------------------------ plumbing

    async def _confirm(self) -> None:
        if self._probing is None:
            self._probing = asyncio.ensure_future(self._probe_once())
            self._probing.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved, even if unawaited
        await asyncio.shield(self._probing)

    async def _probe_once(self) -> None:
        assert self.probe is not None
        try:
            error = await self.probe()
        finally:
            self._probing = None
            self._notify()
        if error is None:
            self.attempt_succeeded()
            return
        self._failed[_PROBE] = None
        self._last_error = error
        self._trip()

    def _trip(self) -> None:
        if self._tripped is None:
            self._tripped = (
                f"LLM server {self._server} failed {len(self._failed)} requests in a row, last: {self._last_error}; "
                f"stopped. {self._advice}"
            )
        if self._tripped_event is not None:
            self._tripped_event.set()
        self._notify()
        self.check()

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None
