"""The evaluation engine: pick tasks, encode each unique item once (cached, sharded over ranks), score.

Phases: load tasks -> collect unique items (Item.key) -> check every image and take its digest ->
plan batches -> encode what the cache lacks, batch by batch, appending to the cache -> score every
query against its own candidates.

Batches (`evaluators.batching`): for models whose embeddings do not depend on their batch, by image
size and picture, then texts by length; a model whose embedding depends on its batch (official
VIRTUE) is given the reference code's own batches instead.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from evaluators import distributed
from evaluators.batching import Batch, TaskKeys, image_pixels, plan_batches, reference_batches
from evaluators.cache import EmbeddingCache
from evaluators.distributed import DistContext
from evaluators.metrics import OFFICIAL, RankSummary, gold_rank, summarize_ranks
from evaluators.protocol import Embedder, Item, is_batch_dependent, is_staged
from evaluators.tasks.base import LoadedTask, Query
from evaluators.tasks.catalog import ALL_TASKS, MMEB, SCAR, TaskInfo, averaged, custom_scar_task
from evaluators.tasks.mmeb import check_layout, load_mmeb_task
from evaluators.tasks.scar import load_scar_task
from evaluators.vision_cache import file_digest
from scar.errors import InputFileError, ScarError

# ---------------------------------------------------------------- task selection and loading


BUILT = "built"  # every source of the `--scar-root` build


def _built_sources(scar_root: Path | None) -> list[str]:
    if scar_root is None or not Path(scar_root).is_dir():
        return []
    return sorted(d.name for d in Path(scar_root).iterdir() if d.is_dir() and any(d.glob("eval-*.parquet")))


def select_tasks(spec: str, scar_root: Path | None = None) -> list[TaskInfo]:
    """`scar`, `mmeb`, `all` (= both averaged sets), `built` (every source of the --scar-root build) or
    comma-separated task names (case-insensitive). A source folder of the build with no task of its
    own (coco, refcoco, ...) is a task named `<build folder>/<source>`."""
    chosen: list[TaskInfo] = []
    by_lower = {name.lower(): info for name, info in ALL_TASKS.items()}
    by_source = {info.source: info for info in ALL_TASKS.values() if info.source}
    built = _built_sources(scar_root)
    build_name = Path(scar_root).resolve().name if scar_root is not None else ""

    def source_task(source: str) -> TaskInfo:
        return by_source.get(source) or custom_scar_task(build_name, source)

    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        low = part.lower()
        if low in (SCAR, MMEB):
            group = list(averaged(low))
        elif low == "all":
            group = [*averaged(SCAR), *averaged(MMEB)]
        elif low == BUILT:
            if not built:
                raise ScarError(f"--tasks built: no <source>/eval-*.parquet under --scar-root {scar_root}")
            group = [source_task(source) for source in built]
        elif low in by_lower:
            group = [by_lower[low]]
        elif part.rpartition("/")[2] in built and part.rpartition("/")[0] in ("", build_name):
            group = [source_task(part.rpartition("/")[2])]
        else:
            hint = f" or a source of the build ({', '.join(built)})" if built else ""
            raise ScarError(f"unknown task {part!r}; see `scar tasks` (or use scar, mmeb, all, built){hint}")
        chosen.extend(t for t in group if t not in chosen)
    if not chosen:
        raise ScarError("no tasks selected (--tasks is empty)")
    return chosen


def load_tasks(
    infos: Sequence[TaskInfo],
    *,
    scar_root: Path | None = None,
    scar_images: Path | None = None,
    scar_prompt: str = "box",
    mmeb_root: Path | None = None,
    mmeb_images: Path | None = None,
    limit: int | None = None,
    skip_bad: bool = False,
    progress: bool = True,
) -> list[LoadedTask]:
    if any(t.benchmark == SCAR for t in infos) and scar_root is None:
        raise ScarError("SCaR tasks need --scar-root (a `scar build` output or the SCaR-Eval Parquet folder)")
    if mmeb_root is not None and any(t.benchmark == MMEB for t in infos):
        check_layout(Path(mmeb_root))
    loaded = []
    for info in tqdm(infos, desc="load tasks", unit="task", disable=not progress):
        if info.benchmark == SCAR:
            assert scar_root is not None
            task = load_scar_task(info, Path(scar_root), scar_images, limit=limit, skip_bad=skip_bad,
                                  prompt=scar_prompt)
        else:
            task = load_mmeb_task(info, mmeb_root, mmeb_images, limit=limit, skip_bad=skip_bad)
        if not task.queries:
            where = ", ".join(task.files) or info.name
            raise ScarError(f"{where}: task {info.name} has no usable queries")
        loaded.append(task)
    return loaded


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
            result: tuple[list[str], np.ndarray, dict[str, str]] = ([], np.zeros((0, 0), np.float32), {})
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
            gathered = distributed.gather_to_main(result, ctx)
            if gathered is None:
                continue
            for keys, emb, broken in gathered:
                stats.bad_images.update(broken)
                if keys and cache is not None:
                    cache.put(keys, emb)
                stats.encoded += len(keys)
                bar.update(len(keys))
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
    mine = todo[ctx.rank :: ctx.world_size]
    rounds = distributed.all_max(len(mine), ctx)
    bar = tqdm(total=sum(len(batches[i].keys) for i in todo), desc=f"encode ({embedder.name})", unit="item",
               disable=not (progress and ctx.is_main))
    try:
        for r in range(rounds):
            result: tuple[list[str], np.ndarray, dict[str, str]] = ([], np.zeros((0, 0), np.float32), {})
            if r < len(mine):
                batch = batches[mine[r]]
                t0 = time.perf_counter()
                result = _encode_batch(embedder, list(batch.items), list(batch.keys), len(batch.items), skip_bad,
                                       records)
                stats.encode_seconds += time.perf_counter() - t0
            gathered = distributed.gather_to_main(result, ctx)
            if gathered is None:
                continue
            for keys, emb, broken in gathered:
                stats.bad_images.update(broken)
                first = {k: i for i, k in reversed(list(enumerate(keys)))}  # a repeated row is stored once
                if first and cache is not None:
                    cache.put(list(first), emb[list(first.values())])
                stats.encoded += len(keys)
                bar.update(len(keys))
    finally:
        bar.close()


# ---------------------------------------------------------------- scoring


PREDICTIONS_TOP = 100  # candidates listed per query in predictions.jsonl (all of SCaR's 10)


@dataclass
class TaskScore:
    task: LoadedTask
    summary: RankSummary
    skipped: dict[str, int]
    predictions: list[dict] = field(default_factory=list)  # per scored query: id, ranking, scores, gold rank


def score_task(
    task: LoadedTask, cache: EmbeddingCache, tie_rule: str, bad_images: dict[str, str],
    task_keys: TaskKeys | None = None,
) -> TaskScore:
    """Rank each query's own candidates by cosine (dot of L2-normalised rows) and summarise.

    `task_keys` says where a batch-dependent model's embeddings are cached; without it an item's
    cache key is its own `Item.key()`."""
    skipped = dict(task.skipped)
    usable: list[tuple[int, Query]] = []
    for index, query in enumerate(task.queries):
        reason = next((bad_images[i.image] for i in query.items() if i.image in bad_images), None)
        if reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
        else:
            usable.append((index, query))

    def query_key(index: int, query: Query) -> str:
        return task_keys.query_key(index) if task_keys is not None else query.item.key()

    def candidate_key(item: Item) -> str:
        return task_keys.candidate_key(item) if task_keys is not None else item.key()

    keys: dict[str, int] = {}
    for index, query in usable:
        keys.setdefault(query_key(index, query), len(keys))
        for item in query.candidates:
            keys.setdefault(candidate_key(item), len(keys))
    emb = cache.get(list(keys)) if keys else np.zeros((0, 0), np.float32)
    ranks = []
    predictions: list[dict] = []
    for index, query in usable:
        q = emb[keys[query_key(index, query)]]
        cand = np.fromiter((keys[candidate_key(c)] for c in query.candidates), dtype=np.int64,
                           count=len(query.candidates))
        # Score each distinct item once: the same item in two slots then ties exactly, as in v1's dict lookup.
        uniq, inverse = np.unique(cand, return_inverse=True)
        scores = (emb[uniq] @ q)[inverse]
        rank = gold_rank(scores, query.gold, tie_rule)
        ranks.append(rank)
        order = np.argsort(-scores, kind="stable")[:PREDICTIONS_TOP]  # ties: the first index first
        predictions.append({"query": query.qid or str(index), "record": query.record, "gold": query.gold,
                            "gold_rank": rank, "ranking": order.tolist(),
                            "scores": [round(float(x), 6) for x in scores[order]]})
    return TaskScore(task=task, summary=summarize_ranks(ranks), skipped=skipped, predictions=predictions)


# ---------------------------------------------------------------- whole run


def evaluate(
    embedder: Embedder,
    tasks: Sequence[LoadedTask],
    cache_dir: Path,
    *,
    batch_size: int = 16,
    tie_rule: str = OFFICIAL,
    ctx: DistContext | None = None,
    skip_bad: bool = False,
    progress: bool = True,
) -> tuple[list[TaskScore], EncodeStats]:
    """Encode what is missing and score every task; the scores come back on rank 0 only."""
    ctx = ctx or DistContext()
    items, image_record, references = unique_items(tasks)
    stats = EncodeStats(references=references, unique=len(items))
    cache = EmbeddingCache(cache_dir, embedder.info.fingerprint) if ctx.is_main else None
    try:
        if ctx.is_main:
            ordered, bad = order_by_cost(items, image_record, skip_bad, progress)
        else:
            ordered, bad = [], {}
        ordered, bad = distributed.broadcast((ordered, bad), ctx)
        stats.bad_images.update(bad)
        task_keys: list[TaskKeys | None] = [None] * len(tasks)
        if is_batch_dependent(embedder):
            size = int(getattr(embedder, "reference_batch_size", batch_size))
            batches, planned = reference_batches(tasks, size, set(bad))
            task_keys = list(planned)
            stats.unique = len({k for b in batches for k in b.keys})
            stats.batching = f"the reference code's batches: per task, dataset order, queries apart, {size} at a time"
            encode_reference_batches(embedder, batches, cache, ctx, stats, image_record, skip_bad, progress)
        else:
            encode_missing(
                embedder, items, ordered, cache, batch_size, ctx, stats, image_record, skip_bad=skip_bad,
                progress=progress,
            )
        if not ctx.is_main:
            return [], stats
        assert cache is not None
        scores = [
            score_task(t, cache, tie_rule, stats.bad_images, keys)
            for t, keys in tqdm(list(zip(tasks, task_keys)), desc="score", unit="task", disable=not progress)
        ]
        return scores, stats
    finally:
        if cache is not None:
            cache.close()
        close = getattr(embedder, "close", None)
        if callable(close):
            close()
