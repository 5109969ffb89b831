"""Token and cost accounting, and the --max-cost / --max-requests budget.

--max-cost is never exceeded: before a request is sent, its worst-case cost is held against the
budget (`Price.worst_case_usd`: every byte of prompt text billed as a token, since a token is at
least one byte; each image at the model's most expensive image; the full `max_tokens` of reply).
The hold becomes the real cost when the reply arrives. A request whose reply was lost (timeout,
dropped connection) may still be billed, so its hold stays counted against the budget.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from scar.core.errors import BudgetExhausted, ScarError
from scar.generate.llm.images import ImageRef
from scar.generate.llm.request import ChatRequest

# The most prompt tokens one image can cost on any listed model (gpt-4o-mini, 8 tiles: 48,169);
# a price-table entry may give its model's own ceiling as "image_tokens".
DEFAULT_IMAGE_TOKENS = 50_000
MESSAGE_OVERHEAD_TOKENS = 16  # role and separators, per message (OpenAI's own count is 3-4)


@dataclass(frozen=True)
class Price:
    input_per_mtok: float  # USD per million prompt tokens
    output_per_mtok: float
    batch_discount: float = 0.5  # Batch API price as a fraction of the online one
    image_tokens: int = DEFAULT_IMAGE_TOKENS  # the most prompt tokens one image can cost

    def worst_case_usd(self, request: ChatRequest, batch: bool) -> float:
        prompt = max_prompt_tokens(request, self.image_tokens)
        cost = (prompt * self.input_per_mtok + request.params.max_tokens * self.output_per_mtok) / 1e6
        return cost * (self.batch_discount if batch else 1.0)


def max_prompt_tokens(request: ChatRequest, image_tokens: int) -> int:
    """An upper bound on the prompt tokens of `request` (the response schema counts as prompt)."""
    total = len(json.dumps(request.schema, ensure_ascii=False).encode("utf-8"))
    for message in request.messages:
        total += MESSAGE_OVERHEAD_TOKENS
        for part in message.parts:
            total += image_tokens if isinstance(part, ImageRef) else len(part.encode("utf-8", "surrogatepass"))
    return total


class PriceTable:
    """Prices per model. The shipped table (scar/data/llm_prices.json) is overridable with --price-table."""

    def __init__(self, prices: dict[str, Price]) -> None:
        self._prices = prices

    @staticmethod
    def load(override: Path | None = None) -> "PriceTable":
        text = resources.files("scar").joinpath("data/llm_prices.json").read_text(encoding="utf-8")
        table = _parse(json.loads(text), "scar/data/llm_prices.json")
        if override is not None:
            try:
                extra = json.loads(override.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ScarError(f"{override}: cannot read the price table ({exc})") from None
            table.update(_parse(extra, str(override)))
        return PriceTable(table)

    def get(self, model: str) -> Price | None:
        if model in self._prices:
            return self._prices[model]
        # dated snapshots ("gpt-4o-2024-08-06") fall back to the longest listed prefix
        matches = [m for m in self._prices if model.startswith(m + "-")]
        return self._prices[max(matches, key=len)] if matches else None


def _parse(raw: Any, where: str) -> dict[str, Price]:
    models = raw.get("models") if isinstance(raw, dict) else None
    if not isinstance(models, dict):
        raise ScarError(f"{where}: a price table is {{\"models\": {{NAME: {{\"input\": USD/1M, \"output\": USD/1M}}}}}}")
    out: dict[str, Price] = {}
    for name, p in models.items():
        try:
            out[name] = Price(
                float(p["input"]), float(p["output"]), float(p.get("batch_discount", 0.5)),
                int(p.get("image_tokens", DEFAULT_IMAGE_TOKENS)),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError):
            raise ScarError(f"{where}: model {name!r} needs numeric 'input' and 'output' prices") from None
    return out


@dataclass
class Usage:
    """Counters of one generator's life (all shards of a build process)."""

    requests: int = 0  # HTTP attempts / batch lines sent, the unit of --max-requests
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    retries: int = 0  # transport retries (429, 5xx, timeouts, failed batch lines)
    content_retries: int = 0  # malformed / refused / wrong-count replies asked again
    regenerations: int = 0  # negatives rejected by the judge or the taxonomy rule and written again
    format_fallbacks: int = 0
    batches: int = 0
    rejections: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.rejections[reason] = self.rejections.get(reason, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["cost_usd"] = round(self.cost_usd, 6)
        out["rejections"] = dict(sorted(self.rejections.items()))
        return out


class Budget:
    """Stops sending before --max-requests or --max-cost would be passed (in-flight work completes and is cached)."""

    def __init__(self, usage: Usage, max_requests: int | None, max_cost: float | None) -> None:
        self.usage = usage
        self.max_requests = max_requests
        self.max_cost = max_cost
        self.held_usd = 0.0  # worst-case cost of the requests sent and not answered yet
        self.in_flight = 0  # how many requests hold a part of held_usd
        self.unconfirmed_usd = 0.0  # worst-case cost of requests whose reply was lost (maybe billed)

    def fits(self, worst_usd: float) -> bool:
        """Whether a request of this worst-case cost may be sent now without risking --max-cost."""
        if self.max_cost is None:
            return True
        committed = self.usage.cost_usd + self.held_usd + self.unconfirmed_usd
        return committed < self.max_cost and committed + worst_usd <= self.max_cost

    def reserve_request(self, worst_usd: float = 0.0) -> float:
        """Count one request and hold its worst-case cost; returns the hold, to `settle` or `release`."""
        if self.max_requests is not None and self.usage.requests >= self.max_requests:
            raise BudgetExhausted(f"--max-requests {self.max_requests} reached; rerun the same command to continue")
        if self.max_cost is not None:
            if not self.fits(worst_usd):
                raise BudgetExhausted(
                    f"--max-cost {self.max_cost:g} USD reached (spent {self.usage.cost_usd:.4f}, "
                    f"{self.held_usd + self.unconfirmed_usd:.4f} held for requests in flight; the next could cost "
                    f"{worst_usd:.4f}); rerun to continue"
                )
        self.usage.requests += 1
        self.held_usd += worst_usd
        self.in_flight += 1
        return worst_usd

    def _unhold(self, held_usd: float) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        self.held_usd = max(0.0, self.held_usd - held_usd) if self.in_flight else 0.0  # no float residue

    def release(self, held_usd: float, maybe_billed: bool = False) -> None:
        """A request ended without a reply; one that may still be billed keeps counting against the budget."""
        self._unhold(held_usd)
        if maybe_billed:
            self.unconfirmed_usd += held_usd

    def settle(self, held_usd: float, price: Price | None, prompt_tokens: int, completion_tokens: int, batch: bool) -> None:
        """A reply arrived: its hold becomes its real cost."""
        self._unhold(held_usd)
        self.charge(price, prompt_tokens, completion_tokens, batch)

    def charge(self, price: Price | None, prompt_tokens: int, completion_tokens: int, batch: bool) -> None:
        self.usage.prompt_tokens += prompt_tokens
        self.usage.completion_tokens += completion_tokens
        if price is not None:
            cost = (prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok) / 1e6
            self.usage.cost_usd += cost * (price.batch_discount if batch else 1.0)
