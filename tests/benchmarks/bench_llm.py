"""Throughput of the LLM generator's online transport against the fake server with 200 ms latency.

Target (issue 4): at --concurrency 64, >= 90% of 64 / 0.2 s = 320 requests/s. Also reports the
client's CPU time per request. The server runs in its own process so its CPU is not counted.

    .venv/bin/python tests/benchmarks/bench_llm.py [--requests 6000] [--entities 400]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scar.core.schema import CaptionParts  # noqa: E402
from scar.generate.llm.cache import NoCache  # noqa: E402
from scar.generate.llm.generator import Gateway  # noqa: E402
from scar.generate.llm.prompts import load_prompts  # noqa: E402
from scar.generate.llm.request import SamplingParams  # noqa: E402
from tests.llm_fake_server import FakeOpenAIServer  # noqa: E402
from tests.llm_helpers import SECRET, entity, generator, make_images  # noqa: E402

LATENCY_S = 0.2
CONCURRENCY = 64


def _serve(queue: "mp.Queue[str]", stop: "mp.synchronize.Event", latency_s: float = LATENCY_S) -> None:
    server = FakeOpenAIServer(latency_s=latency_s, keep_bodies=False).start()
    queue.put(server.base_url)
    stop.wait()
    queue.put(time.process_time())
    server.stop()


def bench_transport(base_url: str, n: int, out: Path) -> tuple[float, float]:
    """n distinct text-only requests through the gateway (no cache): pure client + HTTP cost."""
    gen = generator(base_url, out, concurrency=CONCURRENCY, use_cache=False)
    gateway = Gateway(NoCache(), gen._transport, gen.usage)
    prompts = load_prompts()
    params = SamplingParams("fake-model", 0.0, 0, 512)
    counts = {"object": 3, "relation": 3, "scene": 3}
    requests = [
        prompts.negatives(CaptionParts(f"the thing {i}", "next to the wall", "in the room"), f"the thing {i} next to the wall in the room", counts, {}, [], params)
        for i in range(n)
    ]

    async def main() -> None:
        await asyncio.gather(*(gateway.complete(r) for r in requests))

    cpu0, t0 = time.process_time(), time.perf_counter()
    gen._loop.run_until_complete(main())
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    gen.close()
    return n / wall, cpu / n * 1000


def bench_generator(base_url: str, n: int, out: Path) -> tuple[float, float, int]:
    """n entities through all three steps (images rendered, SQLite cache written)."""
    root = out / "data"
    make_images(root, [f"images/img{i}.png" for i in range(n)])
    gen = generator(base_url, out, concurrency=CONCURRENCY)
    cpu0, t0 = time.process_time(), time.perf_counter()
    results = gen.generate([entity(i, f"thing{i}") for i in range(n)], root)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    sent = gen.stats()["requests"]
    gen.close()
    assert len(results) == n
    return sent / wall, cpu / sent * 1000, sent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=6000, help="enough waves of 64 that ramp-up and drain stay small")
    ap.add_argument("--entities", type=int, default=400)
    args = ap.parse_args()
    os.environ["SCAR_TEST_KEY"] = SECRET
    ctx = mp.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_serve, args=(queue, stop), daemon=True)
    proc.start()
    base_url = queue.get(timeout=30)
    target = CONCURRENCY / LATENCY_S
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rate, cpu_ms = bench_transport(base_url, args.requests, Path(tmp) / "t")
            print(f"transport: {rate:7.1f} req/s = {rate / target:5.1%} of {target:.0f} (goal >= 90%), "
                  f"client CPU {cpu_ms:.2f} ms/request, {args.requests} requests")  # fmt: skip
            rate, cpu_ms, sent = bench_generator(base_url, args.entities, Path(tmp) / "g")
            print(f"generator: {rate:7.1f} req/s = {rate / target:5.1%} of {target:.0f}, "
                  f"client CPU {cpu_ms:.2f} ms/request, {sent} requests ({args.entities} entities x 3 steps, "
                  "images rendered, cache written)")  # fmt: skip
    finally:
        stop.set()
        server_cpu = queue.get(timeout=30)
        proc.join(timeout=10)
    total = args.requests + sent
    print(f"server:    CPU {server_cpu / total * 1000:.2f} ms/request (its own process)")
    print(f"machine: {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
