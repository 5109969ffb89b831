"""`--generator llm`: gold captions, hard negatives and their verification by an LLM (openai client).

Three steps per entity (caption -> negatives -> verify), versioned prompts shipped in
scar/generate/prompts/, a SQLite response cache, token/cost accounting with budgets, and an
online (async) or Batch API transport. See generator.py for the pieces.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scar.core.errors import ScarError
from scar.generate.llm.breaker import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from scar.generate.llm.generator import LLMConfig, LLMGenerator

__all__ = ["LLMConfig", "LLMGenerator", "add_arguments", "from_args"]


def __getattr__(name: str) -> Any:
    # The openai client takes about 2 s to import; `scar build` registers these options on every
    # run, so the generator itself is imported only when it is used.
    if name in ("LLMConfig", "LLMGenerator"):
        from scar.generate.llm import generator

        return getattr(generator, name)
    raise AttributeError(name)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("llm generator (--generator llm)")
    g.add_argument("--llm-model", default="gpt-4o", help="model name on the server (default gpt-4o)")
    g.add_argument("--llm-base-url", help="any OpenAI-compatible server, e.g. http://localhost:8000/v1 (default: OpenAI)")
    g.add_argument(
        "--llm-api-key-env", default="OPENAI_API_KEY", metavar="NAME",
        help="environment variable holding the API key (default OPENAI_API_KEY); keys are never taken from the command line",
    )  # fmt: skip
    g.add_argument("--llm-mode", choices=("online", "batch"), default="online", help="online requests or the Batch API")
    g.add_argument("--concurrency", dest="llm_concurrency", type=_positive_int, default=16, help="requests in flight (default 16)")
    g.add_argument(
        "--max-retries", dest="llm_max_retries", type=_non_negative_int, default=2,
        help="per step: re-asks after malformed/refused/wrong-count replies, and rounds of regenerating rejected negatives (default 2)",
    )  # fmt: skip
    g.add_argument("--llm-http-retries", type=_non_negative_int, default=6, help="retries on 429/5xx/timeouts (default 6)")
    g.add_argument("--llm-backoff", type=_positive_float, default=1.0, metavar="SECONDS", help="backoff base (default 1s, doubling, with jitter)")
    g.add_argument("--llm-backoff-max", type=_positive_float, default=60.0, metavar="SECONDS", help="backoff ceiling (default 60s)")
    g.add_argument(
        "--llm-max-consecutive-failures", type=_non_negative_int, default=DEFAULT_THRESHOLD, metavar="N",
        help="stop, the server being down, after N failed requests in a row with no reply in between: N-1 records "
        f"failing all their HTTP retries, then a probe (default {DEFAULT_THRESHOLD}; 0: never, each record is rejected on its own)",
    )  # fmt: skip
    g.add_argument("--request-timeout", dest="llm_request_timeout", type=_positive_float, default=120.0, metavar="SECONDS", help="per request (default 120)")
    g.add_argument("--max-cost", dest="llm_max_cost", type=_positive_float, metavar="USD", help="stop cleanly after this estimated spend")
    g.add_argument("--max-requests", dest="llm_max_requests", type=_positive_int, metavar="N", help="stop cleanly after N requests")
    g.add_argument("--no-cache", dest="llm_no_cache", action="store_true", help="do not read or write the response cache")
    g.add_argument("--llm-cache", type=Path, metavar="PATH", help="response cache file (default OUT/.llm-cache.sqlite)")
    g.add_argument("--price-table", dest="llm_price_table", type=Path, metavar="FILE", help="JSON prices per model, overriding the shipped table")
    g.add_argument("--llm-temperature", type=float, default=0.0, help="sampling temperature (default 0, deterministic)")
    g.add_argument("--llm-max-tokens", type=_positive_int, default=1024, help="max tokens per reply (default 1024)")
    g.add_argument("--llm-mark", choices=("box", "mask"), default="box", help="draw the region's box, or its mask outline where there is one")
    g.add_argument("--llm-image-max-side", type=_positive_int, default=1024, help="longest side of the image sent (default 1024)")
    g.add_argument("--llm-batch-dir", type=Path, metavar="DIR", help="batch state (default OUT/.llm-batch)")
    g.add_argument("--llm-batch-poll", type=_positive_float, default=30.0, metavar="SECONDS", help="batch status poll interval (default 30)")
    g.add_argument("--llm-batch-max-lines", type=_positive_int, default=50_000, help="requests per batch file (default 50,000)")


def from_args(args: argparse.Namespace) -> "LLMGenerator":
    from scar.generate.llm.generator import LLMConfig, LLMGenerator

    out = getattr(args, "out", None)
    if out is None:
        raise ScarError("--generator llm needs --out (the cache and batch state live there)")
    return LLMGenerator(
        LLMConfig(
            model=args.llm_model,
            seed=int(getattr(args, "seed", 0) or 0),
            out=Path(out),
            base_url=args.llm_base_url,
            api_key_env=args.llm_api_key_env,
            mode=args.llm_mode,
            concurrency=args.llm_concurrency,
            max_retries=args.llm_max_retries,
            http_retries=args.llm_http_retries,
            backoff_base_s=args.llm_backoff,
            backoff_max_s=args.llm_backoff_max,
            max_consecutive_failures=args.llm_max_consecutive_failures,
            request_timeout_s=args.llm_request_timeout,
            max_cost=args.llm_max_cost,
            max_requests=args.llm_max_requests,
            use_cache=not args.llm_no_cache,
            cache_path=args.llm_cache,
            price_table=args.llm_price_table,
            temperature=args.llm_temperature,
            max_tokens=args.llm_max_tokens,
            mark=args.llm_mark,
            image_max_side=args.llm_image_max_side,
            batch_dir=args.llm_batch_dir,
            batch_poll_s=args.llm_batch_poll,
            batch_max_lines=args.llm_batch_max_lines,
        )
    )
