import json
import os

import pyarrow.parquet as pq
import pytest

import scar.build.pipeline as pipeline
import scar.build.shards as shards
import scar.sources
from scar.build.config import BuildConfig
from scar.build.pipeline import build
from scar.check.validate import validate
from scar.core.errors import ScarError
from scar.sources import resolve_source
from scar.sources.base import SourceOptions
from tests.pipeline_fixtures import SeededGenerator

scar.sources.register("synthetic", "tests.pipeline_fixtures:SyntheticSource", "test fixture")


def _config(out, seed=0, **kw):
    opts = SourceOptions(images=out / "images", extra={"images": kw.pop("images", 20)})
    return BuildConfig(source=resolve_source("synthetic"), out=out, source_options=opts, seed=seed, progress=False, **kw)


def _rows(out):
    rows = []
    for path in sorted(out.glob("synthetic/*.parquet")):
        rows.extend(pq.read_table(path).to_pylist())
    return rows


def test_same_seed_same_rows_other_seed_other_rows(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    build(_config(a, seed=1, shard_size=16), SeededGenerator(1))
    build(_config(b, seed=1, shard_size=16), SeededGenerator(1))
    build(_config(c, seed=2, shard_size=16), SeededGenerator(2))
    assert _rows(a) == _rows(b)
    assert [r["id"] for r in _rows(a)] == [r["id"] for r in _rows(c)]
    assert [r["tgt_text"] for r in _rows(a)] != [r["tgt_text"] for r in _rows(c)]


def test_outputs_layout_stats_and_rejections(tmp_path):
    out = tmp_path / "out"
    result = build(_config(out, shard_size=16), SeededGenerator(0))
    # 20 images x 3 records per split; every 7th record (by position) is a loader rejection.
    per_split_records = 60
    rejected = sum(1 for i in range(per_split_records) if i % 7 == 6)
    assert result.samples == 2 * (per_split_records - rejected)
    assert sorted(p.name for p in (out / "synthetic").glob("*.parquet")) == [
        f"{s}-{i:05d}.parquet" for s in ("eval", "train") for i in range(4)
    ]
    stats = json.loads((out / "stats.json").read_text())
    train = stats["sources"]["synthetic"]["splits"]["train"]
    assert train["records"] == per_split_records
    assert train["samples"] == per_split_records - rejected
    assert train["rejections"]["counts"] == {"synthetic: synthetic bad record": rejected}
    assert train["neg_types"] == {t: 3 * train["samples"] for t in ("object", "relation", "scene")}
    assert stats["sources"]["synthetic"]["generator_usage"] == {"requests": 2 * train["samples"]}
    card = (out / "dataset_card.md").read_text()
    assert "synthetic bad record" in card and "| synthetic | train | 4 |" in card
    assert validate(out).ok


def test_limit_counts_entities(tmp_path):
    out = tmp_path / "out"
    build(_config(out, limit=10, splits=("eval",)), SeededGenerator(0))
    assert len(_rows(out)) == 10


def test_killed_mid_shard_then_rerun_gives_the_uninterrupted_rows(tmp_path, monkeypatch):
    full = tmp_path / "full"
    build(_config(full, shard_size=16), SeededGenerator(0))

    out = tmp_path / "killed"
    real_replace = os.replace
    parquet_renames = []

    def dying_replace(src, dst):
        if str(dst).endswith(".parquet"):
            parquet_renames.append(dst)
            if len(parquet_renames) == 3:  # the temp file of shard 3 is fully written: die before the rename
                raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(shards.os, "replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        build(_config(out, shard_size=16), SeededGenerator(0))
    monkeypatch.setattr(shards.os, "replace", real_replace)
    assert len(list((out / "synthetic").glob("*.parquet"))) == 2
    assert list((out / "synthetic").glob(".*.tmp-*")), "the killed shard's temp file is left behind"

    result = build(_config(out, shard_size=16), SeededGenerator(0))
    assert result.skipped == 2 and result.written == 6
    assert _rows(out) == _rows(full)
    splits = lambda d: json.loads((d / "stats.json").read_text())["sources"]["synthetic"]["splits"]  # noqa: E731
    assert splits(out) == splits(full)
    assert validate(out).ok


def test_budget_stop_then_rerun_continues(tmp_path):
    full = tmp_path / "full"
    build(_config(full, shard_size=16), SeededGenerator(0))
    out = tmp_path / "budget"
    first = build(_config(out, shard_size=16), SeededGenerator(0, budget=30))
    assert first.stopped_by_budget and first.written == 2
    second = build(_config(out, shard_size=16), SeededGenerator(0))
    assert second.stopped_by_budget is None and second.skipped == 2
    assert _rows(out) == _rows(full)


def test_workers_partition_the_shards(tmp_path):
    full = tmp_path / "full"
    build(_config(full, shard_size=16), SeededGenerator(0))
    out = tmp_path / "workers"
    for index in (1, 0, 2):  # any order
        build(_config(out, shard_size=16, num_shards=3, shard_index=index), SeededGenerator(0))
    assert _rows(out) == _rows(full)
    assert json.loads((out / "stats.json").read_text())["sources"]["synthetic"]["splits"] == json.loads(
        (full / "stats.json").read_text()
    )["sources"]["synthetic"]["splits"]


def test_rebuild_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "out"
    build(_config(out, seed=0, limit=5), SeededGenerator(0))
    with pytest.raises(ScarError, match="other settings.*seed"):
        build(_config(out, seed=1, limit=5), SeededGenerator(1))


def test_whole_shard_generators_get_one_call_per_shard(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "GENERATE_BATCH", 4)
    sliced, whole = SeededGenerator(0), SeededGenerator(0)
    whole.wants_whole_shard = True
    sizes = {"sliced": [], "whole": []}
    for name, gen in (("sliced", sliced), ("whole", whole)):
        real = gen.generate
        gen.generate = lambda entities, root, real=real, name=name: sizes[name].append(len(entities)) or real(entities, root)
        build(_config(tmp_path / name, shard_size=16, splits=("eval",)), gen)
    assert max(sizes["sliced"]) == 4
    assert sizes["whole"] == [14, 14, 14, 10]  # shards of 16,16,16,12 records, 2 loader rejections each
    assert _rows(tmp_path / "sliced") == _rows(tmp_path / "whole")


def test_worker_processes_give_the_serial_rows_and_stats(tmp_path):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    build(_config(serial, shard_size=16), SeededGenerator(0))
    forked = SeededGenerator(0)
    forked.parallel_safe = True
    build(_config(parallel, shard_size=16, workers=3), forked)
    assert _rows(parallel) == _rows(serial)
    splits = lambda d: json.loads((d / "stats.json").read_text())["sources"]["synthetic"]["splits"]  # noqa: E731
    assert splits(parallel) == splits(serial)
    assert forked.calls == 0, "the generation ran in the worker processes, not here"


def test_row_groups_hold_row_group_size_rows(tmp_path):
    out = tmp_path / "out"
    build(_config(out, shard_size=1000, images=40, row_group_size=25, splits=("eval",)), SeededGenerator(0))
    meta = pq.ParquetFile(out / "synthetic" / "eval-00000.parquet").metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sizes[:-1] == [25] * (len(sizes) - 1) and 0 < sizes[-1] <= 25 and sum(sizes) == len(_rows(out))


def test_a_sources_estimate_becomes_the_progress_total(tmp_path, monkeypatch):
    from tests.pipeline_fixtures import SyntheticSource

    totals = []
    real_update = pipeline.Progress.update

    def spy(self, task, **fields):
        if "total" in fields:
            totals.append(fields["total"])
        return real_update(self, task, **fields)

    monkeypatch.setattr(pipeline.Progress, "update", spy)
    monkeypatch.setattr(SyntheticSource, "expected_entities", lambda self, split: 50, raising=False)
    build(_config(tmp_path / "out", splits=("eval",)), SeededGenerator(0))
    assert totals == [50, 52]  # the estimate once the loader has started, then the true count


def test_coco_and_refer_estimates_bound_what_they_yield(tmp_path):
    from scar.core.schema import Entity
    from scar.sources import make_source
    from tests.fixtures_sources import write_coco, write_refer

    ann, images = write_coco(tmp_path / "coco")
    refer_root, refer_images = write_refer(tmp_path / "refer")
    sources = {
        "coco": make_source("coco", SourceOptions(images=images, annotations=(ann,))),
        "refcoco+": make_source("refcoco+", SourceOptions(root=refer_root, images=refer_images)),
    }
    for name, source in sources.items():
        for split in ("train", "eval"):
            records = list(source.iter_records(split))
            if name == "coco":  # its parsed file is dropped after the split; parse it again
                source.coco_file(ann)
            entities = sum(isinstance(r, Entity) for r in records)
            expected = source.expected_entities(split)
            assert expected is not None and expected >= entities, (name, split, expected, entities)


def test_repeated_annotations_of_one_object_are_rejected_not_written_twice(tmp_path):
    opts = SourceOptions(images=tmp_path / "out" / "images", extra={"images": 3, "repeat_first": True})
    cfg = BuildConfig(source=resolve_source("synthetic"), out=tmp_path / "out", source_options=opts, splits=("eval",), progress=False)
    build(cfg, SeededGenerator(0))
    ids = [r["id"] for r in _rows(tmp_path / "out")]
    # image 0: objects 0, 1, 2 are kept; their repeats 3, 4, 5 (same category, same box) are not
    assert [i for i in ids if i.startswith("synthetic:eval0000:")] == [f"synthetic:eval0000:{k}" for k in range(3)]
    assert len(ids) == len(set(ids))
    counts = json.loads((tmp_path / "out" / "stats.json").read_text())["sources"]["synthetic"]["splits"]["eval"]["rejections"]["counts"]
    assert counts["synthetic: duplicate entity"] == 3
