"""Encoding every unique item once: the work list, its cost order, batches through the model (staged
ahead on accelerators), a broken image blamed and skipped, results gathered from every rank into the cache."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from evaluators import distributed
from evaluators.batching import Batch, image_pixels, plan_batches
from evaluators.cache import EmbeddingCache
from evaluators.distributed import DistContext
from evaluators.models.protocol import Embedder, Item, is_staged
from evaluators.models.vision_cache import file_digest
from evaluators.tasks.base import LoadedTask
from scar.core.errors import InputFileError, ScarError

# ---------------------------------------------------------------- unique items and their cost

BAD_IMAGE = "image failed to decode"  # the skip reason recorded with --skip-bad


def unique_items(tasks: Iterable[LoadedTask]) -> tuple[dict[str, Item], dict[str, str], int]:
    """key -> item (first seen), image path -> the first record naming it, and the reference count."""
    items: dict[str, Item] = {}
    image_record: dict[str, str] = {}
    references = 0
    for task in tasks:
        for query in task.queries:
            for item in query.items():
                references += 1
                items.setdefault(item.key(), item)
                if item.image is not None:
                    image_record.setdefault(item.image, query.record)
    return items, image_record, references


def order_by_cost(
    items: dict[str, Item],
    image_record: dict[str, str],
    skip_bad: bool,
    progress: bool,
) -> tuple[list[str], dict[str, str]]:
    """Keys, most expensive first (image pixels, then text length), and images that failed to open.

    Every image file is also read once for its digest (memoised for `plan_batches` and the models'
    picture caches)."""
    pixels: dict[str, int] = {}
    bad: dict[str, str] = {}
    for path in tqdm(sorted(image_record), desc="check images", unit="img", disable=not progress):
        try:
            pixels[path] = image_pixels(path)
            file_digest(path)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            if not skip_bad:
                raise InputFileError(path, f"image failed to decode: {exc}", record=image_record[path]) from None
            bad[path] = BAD_IMAGE

    def cost(key: str) -> tuple[int, int, str]:
        item = items[key]
        px = pixels.get(item.image, 0) if item.image is not None else 0
        return (-px, -len(item.text), key)

    keys = sorted((k for k, it in items.items() if it.image not in bad), key=cost)
    return keys, bad


# ---------------------------------------------------------------- encoding


@dataclass
class EncodeStats:
    references: int = 0  # item occurrences over all queries and candidates
    unique: int = 0
    cached: int = 0  # found in the cache at start
    encoded: int = 0  # computed in this run (all ranks)
    text_cached: int = 0  # of `cached`: text-only items (their text embedding reused)
    text_encoded: int = 0  # text-only items the cache lacked (planned for encoding)
    repaired: int = 0  # corrupt cache records found, dropped and encoded again
    encode_seconds: float = 0.0  # time inside Embedder.encode on rank 0
    bad_images: dict[str, str] = field(default_factory=dict)
    batching: str = "unique items, by picture and text length"  # or the reference code's own batches

    @property
    def dedup_ratio(self) -> float:
        return self.references / self.unique if self.unique else 1.0


def _decodes(path: str) -> str | None:
    try:
        with Image.open(path) as im:
            im.load()
        return None
    except Exception as exc:  # PIL raises many types for a broken file
        return f"{type(exc).__name__}: {exc}"


def _encode_batch(
    embedder: Embedder, items: list[Item], keys: list[str], batch_size: int, skip_bad: bool, records: dict[str, str]
) -> tuple[list[str], np.ndarray, dict[str, str]]:
    """Encode one batch; an exception is blamed on an image that does not decode when one doesn't."""
    try:
        emb = embedder.encode(items, batch_size)
    except ScarError:
        raise
    except Exception:
        broken = {p: why for p in sorted({i.image for i in items if i.image}) if (why := _decodes(p))}
        if not broken:
            raise
        if not skip_bad:
            path, why = next(iter(broken.items()))
            raise InputFileError(path, f"{BAD_IMAGE}: {why}", record=records.get(path)) from None
        broken = {p: BAD_IMAGE for p in broken}
        keep = [(k, it) for k, it in zip(keys, items) if it.image not in broken]
        if not keep:
            return [], np.zeros((0, 0), dtype=np.float32), broken
        keys, items = [k for k, _ in keep], [it for _, it in keep]
        emb = embedder.encode(items, batch_size)
        return keys, _as_array(emb, len(items), embedder), broken
    return keys, _as_array(emb, len(items), embedder), {}


def _encode_prepared(
    embedder: Embedder,
    prepared: Future,
    items: list[Item],
    keys: list[str],
    batch_size: int,
    skip_bad: bool,
    records: dict[str, str],
) -> tuple[list[str], np.ndarray, dict[str, str]]:
    """Forward a batch prepared in the background; on failure redo it the plain way to find the culprit."""
    try:
        emb = embedder.forward_batch(prepared.result())  # type: ignore[attr-defined]
    except ScarError:
        raise
    except Exception:
        return _encode_batch(embedder, items, keys, batch_size, skip_bad, records)
    return keys, _as_array(emb, len(items), embedder), {}


def _as_array(emb: torch.Tensor | np.ndarray, n: int, embedder: Embedder) -> np.ndarray:
    arr = emb.detach().float().cpu().numpy() if isinstance(emb, torch.Tensor) else np.asarray(emb, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ScarError(f"model {embedder.name} returned embeddings of shape {arr.shape} for {n} items")
    return arr


def should_prefetch(embedder: Embedder) -> bool:
    """Prepare batches ahead when the model runs on an accelerator, or has preprocessing workers.

    On a CPU the preparing thread takes cores from the model's own threads: measured on 2 cores
    (tests/benchmarks/bench_eval.py), the overlap cut the non-model share but lengthened the run.
    """
    if not is_staged(embedder):
        return False
    return int(getattr(embedder, "preprocess_workers", 0) or 0) > 0 or \
        not str(getattr(embedder.info, "device", "cpu")).startswith("cpu")


BatchResult = tuple[list[str], np.ndarray, dict[str, str]]  # keys, their embeddings, broken images


def _store(gathered: list[BatchResult] | None, cache: EmbeddingCache | None, stats: EncodeStats, bar: tqdm) -> None:
    """On rank 0: every rank's batch result into the cache (a key repeated within a batch is stored once,
    its first row) and the counts."""
    for keys, emb, broken in gathered or []:
        stats.bad_images.update(broken)
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        if first and cache is not None:
            cache.put(list(first), emb[list(first.values())])
        stats.encoded += len(keys)
        bar.update(len(keys))


def encode_missing(
    embedder: Embedder,
    items: dict[str, Item],
    ordered_keys: list[str],
    cache: EmbeddingCache | None,
    batch_size: int,
    ctx: DistContext,
    stats: EncodeStats,
    records: dict[str, str],
    skip_bad: bool = False,
    progress: bool = True,
) -> None:
    """Encode every key the cache lacks; rank 0 decides the work list and stores all results."""
    todo: list[str] = cache.missing(ordered_keys) if ctx.is_main and cache is not None else []
    stats.repaired = cache.corrupt_records if ctx.is_main and cache is not None else 0
    todo = distributed.broadcast(todo, ctx)
    stats.cached = len(ordered_keys) - len(todo)
    stats.text_encoded = sum(items[k].image is None for k in todo)
    stats.text_cached = sum(items[k].image is None for k in ordered_keys) - stats.text_encoded
    batches = plan_batches(items, todo, batch_size)[ctx.rank :: ctx.world_size]  # strided: similar cost per rank
    rounds = distributed.all_max(len(batches), ctx)
    bar = tqdm(total=len(todo), desc=f"encode ({embedder.name})", unit="item", disable=not (progress and ctx.is_main))
    # A staged embedder's next batch is prepared (images decoded, tokenised) while the model runs.
    prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare") if should_prefetch(embedder) else None

    def prepare(r: int) -> Future | None:
        if prefetch is None or r >= len(batches):
            return None
        return prefetch.submit(embedder.prepare_batch, [items[k] for k in batches[r]])  # type: ignore[attr-defined]

    pending = prepare(0)
    try:
        for r in range(rounds):
            result: BatchResult = ([], np.zeros((0, 0), np.float32), {})
            if r < len(batches):
                keys = batches[r]
                t0 = time.perf_counter()
                current, pending = pending, prepare(r + 1)
                batch_items = [items[k] for k in keys]
                if current is None:  # the planned batch is one model call
                    result = _encode_batch(embedder, batch_items, keys, len(keys), skip_bad, records)
                else:
                    result = _encode_prepared(embedder, current, batch_items, keys, len(keys), skip_bad, records)
                stats.encode_seconds += time.perf_counter() - t0
            _store(distributed.gather_to_main(result, ctx), cache, stats, bar)
    finally:
        bar.close()
        if prefetch is not None:
            prefetch.shutdown(wait=True, cancel_futures=True)


def encode_reference_batches(
    embedder: Embedder,
    batches: list[Batch],
    cache: EmbeddingCache | None,
    ctx: DistContext,
    stats: EncodeStats,
    records: dict[str, str],
    skip_bad: bool = False,
    progress: bool = True,
) -> None:
    """Encode every batch with a key the cache lacks, each whole and alone (its rows depend on each other)."""
    todo: list[int] = []
    if ctx.is_main and cache is not None:
        todo = [i for i, batch in enumerate(batches) if cache.missing(batch.keys)]
    todo = distributed.broadcast(todo, ctx)
    total = sum(len(b.keys) for b in batches)
    stats.cached = total - sum(len(batches[i].keys) for i in todo)
    texts = [sum(item.image is None for item in batch.items) for batch in batches]
    stats.text_encoded = sum(texts[i] for i in todo)
    stats.text_cached = sum(texts) - stats.text_encoded
    mine = todo[ctx.rank :: ctx.world_size]
    rounds = distributed.all_max(len(mine), ctx)
    bar = tqdm(total=sum(len(batches[i].keys) for i in todo), desc=f"encode ({embedder.name})", unit="item",
               disable=not (progress and ctx.is_main))
    try:
        for r in range(rounds):
            result: BatchResult = ([], np.zeros((0, 0), np.float32), {})
            if r < len(mine):
                batch = batches[mine[r]]
                t0 = time.perf_counter()
                result = _encode_batch(embedder, list(batch.items), list(batch.keys), len(batch.items), skip_bad,
                                       records)
                stats.encode_seconds += time.perf_counter() - t0
            _store(distributed.gather_to_main(result, ctx), cache, stats, bar)
    finally:
        bar.close()
