"""MMEB-V2 tasks from the official layouts: what each query and candidate is, as the official code builds it.

Every parser (the config's `dataset_parser`) turns an annotation row into a query Item, its candidates
(name -> Item) and its relevant names; the task then gathers the candidate pool: every candidate of
every query by first appearance of its name, then the rest of the corpus (video classification labels,
document pages), which is what `generate_cand_dataset` does. A name embeds as its first occurrence.
`local` tasks rank each query's own candidates; `global` tasks rank the pool.

Texts carry the project's visual placeholder `<|image_1|>` where the official code puts the backbone's
image or video token (`process_input_text`: token, space, instruction, space, text); an Item with
`frames` is a video (its `image` is the middle frame, for single-image models).

Differences from the official code, all on purpose and all reported, never silent:
  - missing frames are an error (or, with --skip-bad, a counted skip), never a fallback to decoding an
    .mp4 the release does not ship (VLM2Vec issues 99, 159, 201);
  - a ViDoRe/VisRAG query without a relevant page is skipped and counted (the official code stops);
  - moment-retrieval clips are listed in name order (the official code takes the directory listing
    order of the file system, which only matters for exact score ties).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from evaluators.models.protocol import IMAGE_TOKEN, Item
from evaluators.tasks.base import LoadedTask, Query, file_fingerprint
from evaluators.tasks.catalog import TaskInfo
from evaluators.tasks.mmeb_v2 import catalog as cat
from evaluators.tasks.mmeb_v2.catalog import V2Spec, spec_of
from evaluators.tasks.mmeb_v2.documents import load_documents
from evaluators.tasks.mmeb_v2.layout import (
    ANNOTATIONS,
    MissingMedia,
    check_root,
    inside,
    release_of,
    require_files,
    rows_of,
)
from evaluators.tasks.mmeb_v2.records import IMG, Context, Raw, prompt, video
from evaluators.tasks.provenance import OFFICIAL, SUBSAMPLE, SYNTHETIC
from scar.core.errors import InputFileError, ScarError

FIXTURE_MARKER = "mmeb_v2_fixture.json"  # written by the project's fixture writer: results are marked synthetic
OPTION_LETTERS = ("A", "B", "C", "D")


@dataclass(frozen=True)
class V2Query(Query):
    names: tuple[str, ...] = ()  # the official name of each candidate (local) or of the pool (global)
    labels: tuple[str, ...] = ()  # relevant names
    rel_scores: tuple[float, ...] | None = None  # graded relevance, parallel to `labels` (qrels)


@dataclass
class V2Task(LoadedTask):
    spec: V2Spec | None = None
    pool_names: tuple[str, ...] = ()
    pool: tuple[Item, ...] = ()

    @property
    def eval_type(self) -> str:
        assert self.spec is not None
        return self.spec.eval_type


def _v1_text(text: str) -> str:
    return text.replace(" \n", "\n")


# ----------------------------------------------------------------------------------------------- image


def _image_query(ctx: Context, row: dict, file: Path, record: str, qa_style: bool) -> Item:
    inst = str(row["qry_inst"]).replace(IMAGE_TOKEN, "")
    if qa_style:
        inst = "\n" + inst.strip()
    text = _v1_text(prompt(inst, row["qry_text"], visual=True)) + "\n"
    return Item(text=text, image=ctx.image(str(row["qry_img_path"]), file, record))


def _targets(row: dict, file: Path, record: str) -> list:
    texts = row["tgt_text"]
    if not isinstance(texts, list) or not texts:
        raise InputFileError(file, "empty candidate list", record=record)
    return texts


def parse_image_text_targets(qa_style: bool) -> Callable[[Context, dict, Path, str], Raw]:
    """image_cls, image_i2t (and image_qa with `qa_style`): image query, text candidates named by their text."""

    def parse(ctx: Context, row: dict, file: Path, record: str) -> Raw:
        texts = [str(t) for t in _targets(row, file, record)]
        return Raw(_image_query(ctx, row, file, record, qa_style), [(t, Item(text=t)) for t in texts], [texts[0]])

    return parse


def _image_targets(ctx: Context, row: dict, file: Path, record: str, newline_without_caption: bool
                   ) -> list[Item]:
    captions = [str(c) for c in _targets(row, file, record)]
    paths = row["tgt_img_path"]
    if not isinstance(paths, list) or len(paths) != len(captions):
        raise InputFileError(file, f"ragged candidates: {len(captions)} tgt_text vs tgt_img_path {paths!r:.40}",
                             record=record)
    inst = str(row["tgt_inst"]).replace(IMAGE_TOKEN, "")
    if captions[0].strip():
        texts = [_v1_text(prompt(inst + " " + c, visual=True)) + "\n" for c in captions]
    else:
        texts = [_v1_text(prompt(inst, visual=True)) + ("\n" if newline_without_caption else "")] * len(paths)
    return [Item(text=t, image=ctx.image(str(p), file, record)) for t, p in zip(texts, paths)]


def parse_t2i(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    text = str(row["qry_inst"]).replace(IMAGE_TOKEN, IMG) + " " + str(row["qry_text"]) + "\n"
    if ctx.spec.name == "VisDial":
        text += "\n"
    items = _image_targets(ctx, row, file, record, newline_without_caption=True)
    names = [str(p) for p in row["tgt_img_path"]]
    return Raw(Item(text=text), list(zip(names, items)), [names[0]])


def parse_i2i_vg(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    items = _image_targets(ctx, row, file, record, newline_without_caption=False)
    names = [f"{p}:{str(c).strip(chr(34))}" for p, c in zip(row["tgt_img_path"], row["tgt_text"])]
    return Raw(_image_query(ctx, row, file, record, qa_style=True), list(zip(names, items)), [names[0]])


# ----------------------------------------------------------------------------------------------- video


def parse_video_cls(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    frames = ctx.frames(str(row["video_id"]), file, record)
    label = str(row["pos_text"])
    query = video(prompt(ctx.spec.query_instruction, visual=True), frames)
    if ctx.spec.parser == "ssv2":
        options = [str(t) for t in row["neg_text"]]
        return Raw(query, [(t, Item(text=t)) for t in options], [label])
    return Raw(query, [(label, Item(text=label))], [label])


def _retrieval(ctx: Context, caption: Any, name: str, file: Path, record: str) -> Raw:
    frames = ctx.frames(name, file, record)
    target = video(prompt(ctx.spec.target_instruction, visual=True), frames)
    return Raw(Item(text=prompt(ctx.spec.query_instruction, caption)), [(name, target)], [name])


def parse_msrvtt(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    return _retrieval(ctx, row["caption"], str(row["video_id"]), file, record)


def _first(value: Any, file: Path, record: str) -> Any:
    if not isinstance(value, list) or not value:
        raise InputFileError(file, f"expected a non-empty caption list, got {value!r:.40}", record=record)
    return value[0]


def parse_msvd(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    return _retrieval(ctx, _first(row["caption"], file, record), str(row["video_id"]), file, record)


def parse_didemo(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    name = os.path.splitext(os.path.basename(str(row["video"])))[0]
    return _retrieval(ctx, row["caption"], name, file, record)


def parse_youcook2(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    return _retrieval(ctx, row["sentence"], str(row["id"]), file, record)


def parse_vatex(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    return _retrieval(ctx, _first(row["enCap"], file, record), str(row["videoID"]), file, record)


def parse_moment(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    name = os.path.splitext(os.path.basename(str(row["video_path"])))[0]
    base = inside(ctx.media, name, file, record)
    query = video(prompt(ctx.spec.query_instruction, row["query"], visual=True), ctx.frames(f"{name}/query", file, record))
    clips = sorted(c for c in os.listdir(base) if c != "query" and (base / c).is_dir()) if base.is_dir() else []
    if not clips:
        raise MissingMedia(file, f"no clip folders in {base} (the official release keeps them in {release_of(ctx.spec)})",
                           record=record)
    target = prompt(ctx.spec.target_instruction, visual=True)
    candidates = [(f"{name}/{c}", video(target, ctx.frames(f"{name}/{c}", file, record))) for c in clips]
    positives = [n for n, _ in candidates if n.rsplit("/", 1)[1].startswith("positive")]
    if not positives:
        raise InputFileError(file, f"no positive clip folder in {base}", record=record)
    return Raw(query, candidates, [positives[-1]])


def parse_momentseeker(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    spec, given, query_text = ctx.spec, str(row["input_frames"]), row["query"]
    if given.endswith(".mp4"):
        folder = "video_frames/" + given.split(".mp4")[0].replace("/", "_")
        query = video(prompt(cat.MOMENTSEEKER_QUERY_VIDEO, query_text, visual=True),
                      ctx.frames(folder, file, record, sample=False))
    elif given.endswith(".jpg"):
        query = Item(text=prompt(cat.MOMENTSEEKER_QUERY_IMAGE, query_text, visual=True),
                     image=ctx.image(f"query_{given}", file, record))
    else:
        query = Item(text=prompt(cat.MOMENTSEEKER_QUERY_TEXT, query_text))
    target = prompt(spec.target_instruction, visual=True)
    candidates, labels = [], []
    for group, positive in ((row["positive_frames"], True), (row["negative_frames"], False)):
        for entry in group or []:
            if not isinstance(entry, dict) or "output_path" not in entry:
                raise InputFileError(file, f"clip entry without output_path: {entry!r:.60}", record=record)
            folder = "video_frames/" + str(entry["output_path"]).replace("/", "_").split(".mp4")[0]
            candidates.append((folder, video(target, ctx.frames(folder, file, record, sample=False))))
            if positive:
                labels.append(folder)
    return Raw(query, candidates, labels)


def _qa_query(question: str) -> str:
    return f"{IMG} {cat.QA_PROMPT} {question}"


def _qa_template(query: str, options: list, answer: Any) -> tuple[str, list[str], str]:
    """`qa_template`: options lettered (A), (B), ... under the question; the answer takes the letter of the
    last option equal to it (`(@)` when none is: the official code's index -1)."""
    lines, found = [f"{query}\n", "Options:\n"], -1
    lettered = []
    for i, option in enumerate(options):
        letter = chr(ord("A") + i)
        lines.append(f"({letter}) {option}\n")
        lettered.append(f"({letter}) {option}")
        if option == answer:
            found = i
    return "".join(lines).rstrip(), lettered, f"({chr(ord('A') + found)}) {answer}"


def _strip_option(option: str) -> str:
    """A lettered option's text ("A. text." -> "text"): from its first ". " on, dots and spaces stripped at
    both ends (without one, the last character, as the official slicing gives)."""
    return option[option.find(". "):].strip(". ")


def parse_videomme(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    options = [str(o) for o in row["options"]]
    query = _qa_query(str(row["question"]) + "\n" + "\n".join(options))
    answer = str(row["answer"])
    if answer not in OPTION_LETTERS[:len(options)]:
        raise InputFileError(file, f"answer {answer!r} is not an option letter", record=record)
    frames = ctx.frames(str(row["videoID"]), file, record)
    return Raw(video(query, frames), [(o, Item(text=_strip_option(o))) for o in options],
               [options[OPTION_LETTERS.index(answer)]])


def parse_nextqa(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    options = [row[f"a{i}"] for i in range(5)]
    query, _, _ = _qa_template(_qa_query(str(row["question"])), options, row["answer"])
    answer = int(row["answer"])
    frames = ctx.frames(str(row["video"]), file, record)
    return Raw(video(query, frames), [(str(o), Item(text=str(o))) for o in options], [str(options[answer])])


def parse_egoschema(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    options = [str(o) for o in row["option"]]
    query = _qa_query(str(row["question"]) + " ".join(options))
    frames = ctx.frames(str(row["video_idx"]), file, record)
    return Raw(video(query, frames), [(o, Item(text=_strip_option(o))) for o in options],
               [options[int(row["answer"])]])


def parse_mvbench(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    query, lettered, answer = _qa_template(_qa_query(str(row["question"])), list(row["candidates"]), row["answer"])
    frames = ctx.frames(f"{row['subset']}/{row['video']}", file, record)
    return Raw(video(query, frames), [(c, Item(text=c)) for c in lettered], [answer])


def parse_activitynetqa(ctx: Context, row: dict, file: Path, record: str) -> Raw:
    query = _qa_query(str(row["question"]) + "? (A) yes; (B) no.")
    frames = ctx.frames(f"v_{row['video_name']}", file, record)
    return Raw(video(query, frames), [(o, Item(text=o)) for o in ("yes", "no")], [str(row["answer"])])


# ------------------------------------------------------------------------------------------------ tasks

Parser = Callable[[Context, dict, Path, str], Raw]
PARSERS: dict[str, tuple[Parser, tuple[str, ...]]] = {
    "image_cls": (parse_image_text_targets(False), ("qry_inst", "qry_text", "qry_img_path", "tgt_text")),
    "image_i2t": (parse_image_text_targets(False), ("qry_inst", "qry_text", "qry_img_path", "tgt_text")),
    "image_qa": (parse_image_text_targets(True), ("qry_inst", "qry_text", "qry_img_path", "tgt_text")),
    "image_t2i": (parse_t2i, ("qry_inst", "qry_text", "tgt_inst", "tgt_text", "tgt_img_path")),
    "image_i2i_vg": (parse_i2i_vg, ("qry_inst", "qry_text", "qry_img_path", "tgt_inst", "tgt_text", "tgt_img_path")),
    "video_classification": (parse_video_cls, ("video_id", "pos_text")),
    "ssv2": (parse_video_cls, ("video_id", "pos_text", "neg_text")),
    "msrvtt": (parse_msrvtt, ("video_id", "caption")),
    "msvd": (parse_msvd, ("video_id", "caption")),
    "didemo": (parse_didemo, ("video", "caption")),
    "youcook2": (parse_youcook2, ("id", "sentence")),
    "vatex": (parse_vatex, ("videoID", "enCap")),
    "moment_retrieval": (parse_moment, ("query", "video_path")),
    "momentseeker": (parse_momentseeker, ("query", "positive_frames", "negative_frames", "input_frames")),
    "videomme": (parse_videomme, ("question", "videoID", "options", "answer")),
    "nextqa": (parse_nextqa, ("video", "question", "answer", "a0", "a1", "a2", "a3", "a4")),
    "egoschema": (parse_egoschema, ("video_idx", "question", "answer", "option")),
    "mvbench": (parse_mvbench, ("question", "video", "candidates", "answer")),
    "activitynetqa": (parse_activitynetqa, ("video_name", "question", "answer")),
}


def _label_corpus(spec: V2Spec) -> list[tuple[str, Item]]:
    import json
    from importlib import resources

    data = json.loads(resources.files("evaluators.tasks.mmeb_v2").joinpath("data/video_labels.json").read_text())
    return [(label, Item(text=label)) for label in data["labels"][spec.dataset]]


def _rows(ctx: Context, limit: int | None) -> Iterable[tuple[Path, int, dict]]:
    spec = ctx.spec
    parse, required = PARSERS[spec.parser]
    cap = spec.sample if limit is None else (limit if spec.sample is None else min(limit, spec.sample))
    taken = 0
    for hub in spec.hubs:
        files = require_files(spec, ctx.annotations, hub)
        ctx.files += files
        for file, i, row in rows_of(files, required):
            if cap is not None and taken >= cap:
                return
            taken += 1
            if spec.parser == "mvbench":
                row = {**row, "subset": hub.subset}
            yield file, i, row


def _raw_queries(ctx: Context, limit: int | None) -> list[Raw]:
    if ctx.spec.group == cat.VISDOC:
        return load_documents(ctx, limit)
    parse, _ = PARSERS[ctx.spec.parser]
    raws = []
    for file, i, row in _rows(ctx, limit):
        record = f"row {i}"
        try:
            raw = parse(ctx, row, file, record)
        except MissingMedia as exc:
            if not ctx.skip_bad:
                raise
            ctx.skip(exc.reason)
            continue
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise InputFileError(file, f"bad record for {ctx.spec.parser}: {type(exc).__name__}: {exc}",
                                 record=record) from None
        raw.qid = raw.qid or f"{file.name}:{i}"
        raws.append(raw)
    if ctx.spec.parser == "video_classification":
        ctx.corpus = _label_corpus(ctx.spec)
    return raws


def build_task(info: TaskInfo, spec: V2Spec, raws: list[Raw], ctx: Context, limit: int | None) -> V2Task:
    pool: dict[str, Item] = {}
    for raw in raws:
        for name, item in raw.candidates:
            pool.setdefault(name, item)
    for name, item in ctx.corpus:
        pool.setdefault(name, item)
    pool_names = tuple(pool)
    pool_items = tuple(pool.values())
    index = {name: i for i, name in enumerate(pool_names)}
    queries: list[Query] = []
    for raw in raws:
        if spec.eval_type == cat.GLOBAL:
            names, candidates = pool_names, pool_items
        else:
            names = tuple(n for n, _ in raw.candidates)
            candidates = tuple(pool_items[index[n]] for n in names)  # a name embeds as its first occurrence
        position = {n: i for i, n in reversed(list(enumerate(names)))}
        gold = next((position[label] for label in raw.labels if label in position), 0)
        queries.append(V2Query(item=raw.item, candidates=candidates, gold=gold, record=f"{spec.name} {raw.qid}",
                               qid=raw.qid, names=names, labels=tuple(raw.labels),
                               rel_scores=None if raw.rel_scores is None else tuple(raw.rel_scores)))
    files = sorted(set(ctx.files))
    synthetic = (ctx.root / FIXTURE_MARKER).is_file()
    kind = SYNTHETIC if synthetic else (OFFICIAL if limit is None else SUBSAMPLE)
    task = V2Task(info=info, queries=queries, fingerprint=file_fingerprint(files, limit, spec.name, "mmeb-v2/1"),
                  files=tuple(map(str, files)), skipped=dict(ctx.skipped), spec=spec, pool_names=pool_names,
                  pool=pool_items)
    task.provenance = {"kind": kind, "layout": "mmeb-v2", "files": [str(f) for f in files], "limit": limit,
                       **({"generator": "evaluators/tasks/mmeb_v2/fixture.py"} if synthetic else {})}
    return task


def load_v2_task(info: TaskInfo, root: Path | None, annotations: Path | None = None, limit: int | None = None,
                 skip_bad: bool = False) -> V2Task:
    spec = spec_of(info)
    root = check_root(root)
    ctx = Context(spec, root, Path(annotations) if annotations is not None else root / ANNOTATIONS, skip_bad)
    raws = _raw_queries(ctx, limit)
    if not raws:
        raise ScarError(f"MMEB-V2 task {spec.name}: no usable queries" +
                        (f" (skipped: {ctx.skipped})" if ctx.skipped else ""))
    return build_task(info, spec, raws, ctx, limit)
