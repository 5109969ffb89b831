"""MMEB-V2 loaders on a fixture in the official layouts: what each task holds, and the safety rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluators.task_selection import preflight, select_tasks
from evaluators.tasks.mmeb_v2.catalog import BY_NAME, task_info
from evaluators.tasks.mmeb_v2.fixture import write_fixture
from evaluators.tasks.mmeb_v2.frames import sample_uniform
from evaluators.tasks.mmeb_v2.documents import page_file
from evaluators.tasks.mmeb_v2.loaders import load_v2_task
from evaluators.scoring_v2 import score_v2_task
from scar.core.errors import InputFileError, ScarError


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fixture(tmp_path_factory.mktemp("mmeb2"))


def load(root: Path, name: str, **kw):
    return load_v2_task(task_info(BY_NAME[name]), root, **kw)


def test_select_groups() -> None:
    assert len(select_tasks("mmeb-v2")) == 78
    assert [len(select_tasks(f"mmeb-v2-{g}")) for g in ("image", "video", "visdoc")] == [36, 18, 24]
    assert select_tasks("mmeb-v2/k700")[0].name == "mmeb-v2/K700"


def test_uniform_frames() -> None:
    frames = [str(i) for i in range(10)]
    assert sample_uniform(frames, 8) == ["0", "1", "2", "3", "5", "6", "7", "9"]
    assert sample_uniform(frames[:5], 8) == frames[:5]


def test_video_tasks(root: Path) -> None:
    task = load(root, "Breakfast")
    assert task.eval_type == "global" and len(task.pool) == 10  # the 10 Breakfast labels
    q = task.queries[0]
    assert len(q.item.frames) == 8 and q.item.image == q.item.frames[4]
    assert q.item.frames[0].endswith("frame_0001.png") and q.item.frames[-1].endswith("frame_0010.png")
    moment = load(root, "QVHighlight").queries[0]
    assert len(moment.candidates) == 4 and moment.names[moment.gold].split("/")[1].startswith("positive")
    mme = load(root, "Video-MME").queries[0]
    assert mme.labels[0].startswith("ABCD"[0]) and not mme.candidates[0].text.startswith("A.")
    assert mme.item.text.startswith("<|image_1|> Given a video and a question")


def test_image_tasks(root: Path) -> None:
    cls = load(root, "ImageNet-1K").queries[0]
    assert cls.item.text.startswith("<|image_1|> ") and cls.item.text.endswith("\n") and cls.item.image
    assert cls.labels == (cls.names[0],) and cls.candidates[0].image is None
    cirr = load(root, "CIRR").queries[0]
    assert cirr.names[0].endswith(".png:") and cirr.item.text.startswith("<|image_1|>\n")
    assert not cirr.candidates[0].text.endswith("\n")  # no caption: the official code adds no newline
    t2i = load(root, "MSCOCO_t2i").queries[0]
    assert t2i.item.image is None and t2i.candidates[0].text.endswith("\n")


def test_documents(root: Path) -> None:
    task = load(root, "ViDoRe_arxivqa")
    assert task.eval_type == "global" and len(task.pool) == 8
    assert task.queries[1].labels == ("101", "104") and task.queries[1].rel_scores == (1.0, 1.0)
    graded = load(root, "ViDoRe_esg_reports_human_labeled_v2")
    assert graded.queries[1].rel_scores == (2.0, 1.0)
    spec = BY_NAME["VisRAG_ChartQA"]
    long_name = "chart_2_" + "x" * 60 + ".png"
    assert page_file(spec, long_name).startswith(long_name[:50] + "_") and len(page_file(spec, long_name)) == 50 + 9 + 4
    visrag = load(root, "VisRAG_ChartQA")
    name = "chartqa_2_" + "x" * 60 + ".png"
    assert Path(visrag.pool[visrag.pool_names.index(name)].image).name == page_file(spec, name)
    # the pool: every query's relevant pages first (query order), then the rest of the corpus
    assert visrag.pool_names[:2] == visrag.queries[0].labels + visrag.queries[1].labels[:1]


def test_page_written_from_the_corpus(tmp_path: Path) -> None:
    root = write_fixture(tmp_path / "d", tasks=["ViDoSeek-page"], n=2)
    page = root / BY_NAME["ViDoSeek-page"].media / "100.png"
    before = page.read_bytes()
    page.unlink()
    load(root, "ViDoSeek-page")
    from PIL import Image

    with Image.open(page) as a, Image.open(__import__("io").BytesIO(before)) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_missing_frames_and_skip(tmp_path: Path) -> None:
    root = write_fixture(tmp_path / "d", tasks=["MSR-VTT"], n=3)
    folder = root / BY_NAME["MSR-VTT"].media / "msrvtt_001"
    for f in folder.iterdir():
        f.unlink()
    with pytest.raises(InputFileError, match=r"no frames in .*msrvtt_001.*video_ret\.tar\.gz") as err:
        load(root, "MSR-VTT")
    assert "row 1" in str(err.value) and "\n" not in str(err.value)
    task = load(root, "MSR-VTT", skip_bad=True)
    assert len(task.queries) == 2 and task.skipped == {"media not found": 1}


def test_path_outside_root(tmp_path: Path) -> None:
    root = write_fixture(tmp_path / "d", tasks=["ImageNet-1K"], n=2)
    (path,) = (root / "annotations" / "ziyjiang" / "MMEB_Test_Instruct" / "ImageNet-1K").glob("*.parquet")
    table = pq.read_table(path).to_pylist()
    table[1]["qry_img_path"] = "../../secret.png"
    pq.write_table(pa.Table.from_pylist(table), path)
    with pytest.raises(InputFileError, match=r"outside its root.*row 1|row 1.*outside its root"):
        load(root, "ImageNet-1K")


def test_missing_annotations_is_one_line(tmp_path: Path) -> None:
    root = write_fixture(tmp_path / "d", tasks=["K700"], n=1)
    with pytest.raises(ScarError) as err:
        preflight("mmeb-v2-video", mmeb_v2_root=root)
    text = str(err.value)
    assert "SmthSmthV2" in text and "VLM2Vec/SmthSmthV2" in text and "16 more" in text and "\n" not in text
    with pytest.raises(ScarError, match="--mmeb-v2-root"):
        preflight("mmeb-v2/K700")


class FakeCache:
    def __init__(self, rows: dict[str, np.ndarray]) -> None:
        self.rows = rows

    def get(self, keys):
        return np.stack([self.rows[k] for k in keys]).astype(np.float32)


def test_global_blocks_equal_one_pass(root: Path) -> None:
    task = load(root, "ViDoRe_arxivqa")
    rng = np.random.default_rng(0)
    rows = {}
    for q in task.queries:
        for item in q.items():
            v = rng.normal(size=8)
            rows.setdefault(item.key(), v / np.linalg.norm(v))
    cache = FakeCache(rows)
    one = score_v2_task(task, cache, {}, block=1)
    many = score_v2_task(task, cache, {}, block=256)
    assert one.summary.metrics == many.summary.metrics
    assert [p["ranking"] for p in one.predictions] == [p["ranking"] for p in many.predictions]
