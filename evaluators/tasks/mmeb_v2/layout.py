"""Where an MMEB-V2 task's files are, and reading them safely.

Two folders, both local (the official code fetches annotations from the hub on every run; here a
download is a separate, explicit step, see the README):

  data root (`--mmeb-v2-root`, the official `--data_basedir`): a clone of the hub dataset
      `TIGER-Lab/MMEB-V2` with its archives unpacked, as `experiments/public/data/download_data.sh` does:
      `image-tasks/<...>` (mmeb_v1.tar.gz), `video-tasks/frames/{video_cls,video_ret,video_mret,video_qa}/...`
      (frames/*.tar.gz, video_qa.tar.gz-00..04), `visdoc-tasks/<task>/` (page images; the official code
      writes them there from the corpus files on first use, and so does this loader);
  annotations (`--mmeb-v2-annotations`, default `<data root>/annotations`): one folder per hub repository
      the official code reads, `<owner>/<name>/` as `huggingface-cli download --repo-type dataset` leaves
      it, e.g. `ziyjiang/MMEB_Test_Instruct/ImageNet-1K/test-00000-of-00001.parquet`,
      `vidore/arxivqa_test_subsampled_beir/{queries,corpus,qrels}/test-*.parquet`,
      `VLM2Vec/MSR-VTT/test_1k/test-*.parquet`. Parquet, JSON Lines or JSON files are read.

Every path taken from a record stays inside its root (no absolute path, no `..`); a missing file is
one line naming the task, the file or folder expected and where the official release keeps it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

from evaluators.tasks.mmeb_v2.catalog import GROUPS, Hub, V2Spec
from scar.core.errors import InputFileError, ScarError

ANNOTATIONS = "annotations"
DATA_REPO = "TIGER-Lab/MMEB-V2"
EXTENSIONS = (".parquet", ".jsonl", ".json")
DOC_PARTS = ("queries", "corpus", "qrels")  # a visual-document task's three configs (BEIR layout)
RELEASE = {  # where the official release keeps each group's media
    "image": f"hub dataset {DATA_REPO}, image-tasks/mmeb_v1.tar.gz (unpack into image-tasks/)",
    "video_cls": f"hub dataset {DATA_REPO}, video-tasks/frames/video_cls.tar.gz (unpack into video-tasks/frames/video_cls/)",
    "video_ret": f"hub dataset {DATA_REPO}, video-tasks/frames/video_ret.tar.gz (unpack into video-tasks/frames/video_ret/)",
    "video_mret": f"hub dataset {DATA_REPO}, video-tasks/frames/video_mret.tar.gz (unpack in video-tasks/frames/)",
    "video_qa": f"hub dataset {DATA_REPO}, video-tasks/frames/video_qa.tar.gz-00..04 (cat them | tar -xz in video-tasks/frames/)",
    "visdoc": "the corpus files of the task's annotation repository (page images, written on first use)",
}


class MissingMedia(InputFileError):
    """A record's image, frame folder or page is absent (`reason`: what --skip-bad counts it as)."""

    reason = "media not found"


class MediaOutsideRoot(MissingMedia):
    reason = "media path outside its root"


def release_of(spec: V2Spec) -> str:
    if spec.group == "video":
        kind = spec.media.split("/")[2]  # video-tasks/frames/<kind>/<folder>
        return RELEASE.get(kind, DATA_REPO)
    return RELEASE[spec.group]


def inside(root: Path, relative: str, file: Path | str, record: str) -> Path:
    """`root / relative`, refusing an absolute path or a `..` part (one line naming the record)."""
    text = str(relative).replace("\\", "/")
    if os.path.isabs(text) or text.startswith("/") or ".." in text.split("/"):
        raise MediaOutsideRoot(Path(str(file)), f"path {relative!r} is outside its root {root}", record=record)
    return Path(root) / text


def annotation_files(annotations: Path, hub: Hub) -> list[Path]:
    """The files of one (repository, config, split), in name order; [] when none is there."""
    base = annotations / hub.repo
    if not base.is_dir():
        return []
    folders = [base / hub.subset, base / "data" / hub.subset] if hub.subset else [base, base / "data"]
    found: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for ext in EXTENSIONS:
            found += sorted(folder.glob(f"{hub.split}-*{ext}")) + sorted(folder.glob(f"{hub.split}{ext}"))
            found += sorted((folder / hub.split).glob(f"*{ext}")) if (folder / hub.split).is_dir() else []
        if found:
            return found
    return found


def expected(annotations: Path, hub: Hub) -> str:
    where = annotations / hub.repo / (hub.subset or "")
    return f"{where}/{hub.split}-*.parquet (hub dataset {hub.repo}" + (f", config {hub.subset}" if hub.subset else "") + \
        f", split {hub.split})"


def require_files(spec: V2Spec, annotations: Path, hub: Hub) -> list[Path]:
    files = annotation_files(annotations, hub)
    if not files:
        raise ScarError(f"MMEB-V2 task {spec.name}: no annotations; expected {expected(annotations, hub)}")
    return files


def read_rows(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every row of one annotation file as a dict; a missing column or an unreadable file is one line."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(path).names
            missing = [c for c in required if c not in names]
            if missing:
                raise InputFileError(path, f"missing column(s) {', '.join(missing)}")
            return pq.read_table(path).to_pylist()
        except InputFileError:
            raise
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise InputFileError(path, f"not a readable Parquet file: {exc}") from None
    try:
        text = path.read_text(encoding="utf-8")
        rows = [json.loads(line) for line in text.splitlines() if line.strip()] if path.suffix == ".jsonl" \
            else json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(path, f"not readable JSON: {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InputFileError(path, "expected a list of records")
    for i, row in enumerate(rows):
        missing = [c for c in required if c not in row]
        if missing:
            raise InputFileError(path, f"missing field(s) {', '.join(missing)}", record=f"row {i}")
    return rows


def rows_of(files: list[Path], required: tuple[str, ...]) -> Iterator[tuple[Path, int, dict[str, Any]]]:
    for path in files:
        for i, row in enumerate(read_rows(path, required)):
            yield path, i, row


def check_root(root: Path | None) -> Path:
    if root is None:
        raise ScarError("MMEB-V2 tasks need --mmeb-v2-root DIR: the TIGER-Lab/MMEB-V2 data folder (image-tasks/, "
                        "video-tasks/frames/, visdoc-tasks/), with the annotations under DIR/annotations "
                        "(or --mmeb-v2-annotations); see the README, 'MMEB-V2 data'")
    root = Path(root)
    if not root.is_dir():
        raise ScarError(f"--mmeb-v2-root {root}: not a directory")
    return root


def missing_annotations(specs: list[V2Spec], annotations: Path) -> list[tuple[str, str]]:
    """(task, what is expected) for every task whose annotations are absent, in order."""
    out = []
    for spec in specs:
        hubs = [Hub(h.repo, part, h.split) for h in spec.hubs for part in DOC_PARTS] if spec.group == "visdoc" \
            else list(spec.hubs)
        absent = [h for h in hubs if not annotation_files(annotations, h)]
        if absent:
            out.append((spec.name, expected(annotations, absent[0])))
    return out


__all__ = ["ANNOTATIONS", "GROUPS", "MissingMedia", "MediaOutsideRoot", "annotation_files", "check_root", "expected",
           "inside", "missing_annotations", "read_rows", "release_of", "require_files", "rows_of"]
