"""The MMEB-V2 catalog: 78 scored tasks, their groups, meta-tasks, metrics, eval types and frames."""

from __future__ import annotations

from evaluators.tasks.mmeb_v2 import catalog as c


def test_counts_and_headlines() -> None:
    assert len(c.SCORED) == 78
    assert sum(not s.scored for s in c.SPECS) == 3  # visdoc.yaml has 27 configs, 24 scored
    assert {s.metric for s in c.SCORED if s.group == c.VISDOC} == {"ndcg_linear@5"}
    assert {s.metric for s in c.SCORED if s.group != c.VISDOC} == {"hit@1"}


def test_eval_types_and_frames() -> None:
    by = c.BY_NAME
    assert all(s.eval_type == c.LOCAL for s in c.SPECS if s.group == c.IMAGE)
    assert all(s.eval_type == c.GLOBAL for s in c.SPECS if s.group == c.VISDOC)
    assert [n for n in ("K700", "SmthSmthV2", "HMDB51", "UCF101", "Breakfast") if by[n].eval_type == c.GLOBAL] == [
        "K700", "HMDB51", "UCF101", "Breakfast"]
    assert by["SmthSmthV2"].sample == 1000
    assert all(s.num_frames == 8 for s in c.SPECS if s.group == c.VIDEO)
    assert by["K700"].dataset == "Kinetics-700" and by["ViDoSeek-page"].hubs[0].repo.endswith("-page-fixed")
    assert len(by["MVBench"].hubs) == 20


def test_task_names_are_prefixed_and_unique() -> None:
    names = [t.name for t in c.MMEB_V2_TASKS]
    assert len(set(names)) == len(names) and all(n.startswith("mmeb-v2/") for n in names)
    assert c.spec_of(c.task_info(c.BY_NAME["MSR-VTT"])).parser == "msrvtt"
