"""Token and cost accounting, and the --max-cost / --max-requests budget."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from scar.errors import BudgetExhausted, ScarError


@dataclass(frozen=True)
class Price:
    input_per_mtok: float  # USD per million prompt tokens
    output_per_mtok: float
    batch_discount: float = 0.5  # Batch API price as a fraction of the online one


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
            out[name] = Price(float(p["input"]), float(p["output"]), float(p.get("batch_discount", 0.5)))
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
    """Stops sending when --max-requests or --max-cost is reached (in-flight work still completes and is cached)."""

    def __init__(self, usage: Usage, max_requests: int | None, max_cost: float | None) -> None:
        self.usage = usage
        self.max_requests = max_requests
        self.max_cost = max_cost

    def reserve_request(self) -> None:
        if self.max_requests is not None and self.usage.requests >= self.max_requests:
            raise BudgetExhausted(f"--max-requests {self.max_requests} reached; rerun the same command to continue")
        if self.max_cost is not None and self.usage.cost_usd >= self.max_cost:
            raise BudgetExhausted(
                f"--max-cost {self.max_cost:g} USD reached (spent {self.usage.cost_usd:.4f}); rerun to continue"
            )
        self.usage.requests += 1

    def charge(self, price: Price | None, prompt_tokens: int, completion_tokens: int, batch: bool) -> None:
        self.usage.prompt_tokens += prompt_tokens
        self.usage.completion_tokens += completion_tokens
        if price is not None:
            cost = (prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok) / 1e6
            self.usage.cost_usd += cost * (price.batch_discount if batch else 1.0)
