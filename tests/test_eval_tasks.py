import json

import pytest

from evaluators.task_selection import load_tasks, select_tasks
from evaluators.tasks.catalog import task
from evaluators.tasks.mmeb import load_mmeb_task
from evaluators.tasks.scar import load_scar_task, official_query_text
from scar.core.errors import InputFileError, ScarError
from tests.eval_fixtures import (
    SCAR_INSTRUCTION, candidates, mmeb_fixture, mmeb_row, scar_fixture, scar_row, write_image, write_parquet,
)

INSTR = (
    "Find the caption that best describes the object in the bounding box, "
    "considering both local details and global context in the given image."
)


def test_official_query_text_by_hand():
    # process_input_text("", b, text="\n" + INSTR, add_image_token=True) = token + "  \n" + INSTR;
    # .replace(" \n", "\n") removes one of the two spaces.
    expected = "<|image_1|> \n" + INSTR + "\nReferring object bbox: [10.5, 20.0, 40.75, 60.0]"
    assert official_query_text(SCAR_INSTRUCTION, [10.5, 20.0, 30.25, 40.0]) == expected
    assert official_query_text("<|image_1|>\nX", [1, 2, 3, 4]) == "<|image_1|> \nX\nReferring object bbox: [1, 2, 4, 6]"
    assert official_query_text("<|image_1|>", [0.0, 0.0, 1.0, 1.0]) == "<|image_1|> \nReferring object bbox: [0.0, 0.0, 1.0, 1.0]"


def test_scar_build_folder_loads_queries(tmp_path):
    scar_fixture(tmp_path)
    t = load_scar_task(task("RefCOCO+"), tmp_path)
    assert len(t.queries) == 4  # two shards
    q = t.queries[3]
    assert q.item.text == "<|image_1|> \n" + INSTR + "\nReferring object bbox: [10.5, 20.0, 40.75, 60.0]"
    assert q.item.box_xyxy == (10.5, 20.0, 40.75, 60.0)
    assert q.item.image == str(tmp_path / "images" / "coco" / "img4.png")
    assert q.item.instruction == INSTR
    assert [c.text for c in q.candidates][0] == "the #4 cup" and len(q.candidates) == 10
    assert all(c.image is None for c in q.candidates) and q.gold == 0
    assert len(load_scar_task(task("RefCOCO+"), tmp_path, limit=2).queries) == 2


def test_official_files_images_root_and_extension_columns(tmp_path):
    write_image(tmp_path / "imgs" / "a1.png")
    mask = {"size": [6, 8], "counts": "abc"}
    write_parquet(
        tmp_path / "SCAR_RefCOCOg_val_filtered.parquet",
        [scar_row("a1.png", candidates("#1"), point=[2.0, 3.0], mask=mask)],
    )
    (tmp_path / "stats.json").write_text(json.dumps({"images_root": "imgs"}))
    q = load_scar_task(task("RefCOCOg"), tmp_path).queries[0]
    assert q.item.image == str(tmp_path / "imgs" / "a1.png")
    # by default a query carries the box alone, all the official loader reads
    assert q.item.box_xyxy is not None and q.item.point_xy is None and q.item.mask_rle is None
    q = load_scar_task(task("RefCOCOg"), tmp_path, prompt="all").queries[0]
    assert q.item.point_xy == (2.0, 3.0) and q.item.mask_rle == ((6, 8), "abc") and q.item.box_xyxy is not None
    point = load_scar_task(task("RefCOCOg"), tmp_path, prompt="point").queries[0].item
    assert point.point_xy == (2.0, 3.0) and point.box_xyxy is None and point.mask_rle is None
    other = tmp_path / "elsewhere"
    write_image(other / "a1.png")
    assert load_scar_task(task("RefCOCOg"), tmp_path, scar_images=other).queries[0].item.image == str(other / "a1.png")


def test_mmeb_local_copy(tmp_path):
    mmeb_fixture(tmp_path)
    t = load_mmeb_task(task("MSCOCO_t2i"), tmp_path)
    q = t.queries[0]
    assert q.item.image is None and q.item.text.endswith("#2")
    assert [c.image for c in q.candidates] == [str(tmp_path / "images" / "coco" / f"pic{n}.png") for n in (2, 1, 3)]
    n24 = load_mmeb_task(task("N24News"), tmp_path, limit=2)
    assert len(n24.queries) == 2 and n24.queries[0].item.text.startswith("<|image_1|> Represent")
    assert n24.fingerprint != load_mmeb_task(task("N24News"), tmp_path).fingerprint


def test_select_tasks():
    assert len(select_tasks("mmeb")) == 36 and len(select_tasks("scar")) == 5
    assert len(select_tasks("all")) == 41
    assert [t.name for t in select_tasks("demo,CIFAR-100,RefCOCO+")] == ["Demo", "CIFAR-100", "RefCOCO+"]
    with pytest.raises(ScarError, match="unknown task 'nope'"):
        select_tasks("nope")


# ---------------------------------------------------------------- bad input: one line naming the file


def _one_line(exc):
    return "\n" not in str(exc.value)


def test_missing_task_files(tmp_path):
    with pytest.raises(ScarError, match="SCAR_ADE20K_val_filtered.parquet") as e:
        load_tasks(select_tasks("ADE20K"), scar_root=tmp_path)
    assert _one_line(e)
    with pytest.raises(ScarError, match="--scar-root"):
        load_tasks(select_tasks("ADE20K"))


def test_missing_image_names_file_and_row(tmp_path):
    write_parquet(tmp_path / "refcoco+" / "eval-00000.parquet", [scar_row("nope.png", candidates("#1"))])
    with pytest.raises(InputFileError, match=r"eval-00000.parquet \[row 0\]: image not found") as e:
        load_scar_task(task("RefCOCO+"), tmp_path)
    assert _one_line(e)
    t = load_scar_task(task("RefCOCO+"), tmp_path, skip_bad=True)
    assert t.queries == [] and t.skipped == {"image not found": 1}


@pytest.mark.parametrize("stored", ["../outside.png", "sub/../../outside.png", "ABSOLUTE"])
def test_an_image_path_outside_the_images_root_is_refused(tmp_path, stored):
    """A data file cannot point the model at files outside its images root, even ones that exist."""
    outside = write_image(tmp_path / "outside.png")
    write_image(tmp_path / "d" / "images" / "sub" / "a.png")
    stored = str(outside) if stored == "ABSOLUTE" else stored
    write_parquet(tmp_path / "d" / "refcoco+" / "eval-00000.parquet",
                  [scar_row("sub/a.png", candidates("#1")), scar_row(stored, candidates("#1"))])
    with pytest.raises(InputFileError, match=r"eval-00000.parquet \[row 1\]: image path .* outside the images root") as e:
        load_scar_task(task("RefCOCO+"), tmp_path / "d")
    assert _one_line(e)
    t = load_scar_task(task("RefCOCO+"), tmp_path / "d", skip_bad=True)
    assert len(t.queries) == 1 and t.skipped == {"image path outside the images root": 1}
    write_image(tmp_path / "m" / "images" / "x1.png")
    write_parquet(tmp_path / "m" / "VOC2007" / "test-00000-of-00001.parquet",
                  [mmeb_row("q", "x1.png", ["a"], [""]), mmeb_row("q", stored, ["a"], [""])])
    with pytest.raises(InputFileError, match=r"\[row 1\]: image path .* outside the images root"):
        load_tasks(select_tasks("VOC2007"), mmeb_root=tmp_path / "m")


@pytest.mark.parametrize("tgt, match", [([], "empty candidate list"), (["#1"] * 9, "ragged candidate list: 9")])
def test_bad_scar_candidates(tmp_path, tgt, match):
    write_image(tmp_path / "images" / "a.png")
    write_parquet(tmp_path / "refcoco+" / "eval-00000.parquet", [scar_row("a.png", candidates("#1")), scar_row("a.png", tgt)])
    with pytest.raises(InputFileError, match=rf"\[row 1\]: {match}"):
        load_scar_task(task("RefCOCO+"), tmp_path)


def test_ragged_mmeb_row(tmp_path):
    write_image(tmp_path / "images" / "x1.png")
    write_parquet(tmp_path / "VOC2007" / "test-00000-of-00001.parquet", [mmeb_row("q", "x1.png", ["a", "b"], [""])])
    with pytest.raises(InputFileError, match=r"\[row 0\]: ragged candidates: 2 tgt_text vs 1 tgt_img_path"):
        load_tasks(select_tasks("VOC2007"), mmeb_root=tmp_path)


def test_mmeb_root_without_layout(tmp_path):
    (tmp_path / "stuff").mkdir()
    with pytest.raises(ScarError, match="not an MMEB-eval copy") as e:
        load_tasks(select_tasks("mmeb"), mmeb_root=tmp_path)
    assert _one_line(e)
    mmeb_fixture(tmp_path)
    with pytest.raises(ScarError, match=r"MMEB task VOC2007: no data; expected .*VOC2007/test-\*\.parquet"):
        load_tasks(select_tasks("VOC2007"), mmeb_root=tmp_path)


def test_mmeb_hub_path_without_a_root(tmp_path, monkeypatch):
    import datasets

    write_image(tmp_path / "imgs" / "v1.png")
    calls = []

    def fake_load_dataset(path, name, split):  # stands in for the hub: no network in tests
        calls.append((path, name, split))
        return [mmeb_row("<|image_1|> q", "v1.png", ["a", "b"], ["", ""])]

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    monkeypatch.setattr("evaluators.models.hub.hub_reachable", lambda timeout=0: True)  # the hub "answers" (no network in tests)
    t = load_tasks(select_tasks("VizWiz"), mmeb_images=tmp_path / "imgs")[0]
    assert calls == [("TIGER-Lab/MMEB-eval", "VizWiz", "test")]
    assert t.queries[0].item.image == str(tmp_path / "imgs" / "v1.png") and t.files == ("hf://TIGER-Lab/MMEB-eval/VizWiz",)
    with pytest.raises(ScarError, match="pass --mmeb-images"):
        load_tasks(select_tasks("VizWiz"))
