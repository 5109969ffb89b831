"""MMEB-V2's 78 scored tasks (VLM2Vec-V2, arXiv 2507.04590) as the project's own data.

Facts read from TIGER-AI-Lab/VLM2Vec `main` at 6e1e1d4: the task configs
`experiments/public/eval/{image,video,visdoc}.yaml` (parser, dataset name, data roots, `eval_type`,
frames, subsampling), the dataset modules of `src/data/eval_dataset/` (annotation columns, instructions,
how each text is built), `src/constant/dataset_hf_path.py` (where each task's annotations live on the hub)
and `experiments/report_score_v2.py` (which tasks are averaged, under which metric).

Every task is named `mmeb-v2/<official name>` in results (the official name is the config key, e.g.
`K700`, `ViDoSeek-page`); the image group is the MMEB V1 set, read here from the V2 annotations
(`ziyjiang/MMEB_Test_Instruct`, instruction apart from the text) and scored by hit@1 as V2 does.

Groups and their headline metric: image and video hit@1, visual documents `ndcg_linear@5`.
`eval_type`: `local` ranks each query's own candidates; `global` ranks every query against the task's
whole candidate pool (every candidate of every query, then the rest of the corpus).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evaluators.tasks.info import TaskInfo

MMEB_V2 = "mmeb-v2"
PREFIX = f"{MMEB_V2}/"
IMAGE, VIDEO, VISDOC = "image", "video", "visdoc"
GROUPS = (IMAGE, VIDEO, VISDOC)
LOCAL, GLOBAL = "local", "global"
HEADLINE = {IMAGE: "hit@1", VIDEO: "hit@1", VISDOC: "ndcg_linear@5"}  # report_score_v2.py's modality2metric

META_TASKS: dict[str, tuple[str, ...]] = {  # per group, in the paper's column order
    IMAGE: ("Classification", "QA", "Retrieval", "Grounding"),
    VIDEO: ("Classification", "QA", "Retrieval", "Moment Retrieval"),
    VISDOC: ("ViDoRe-V1", "ViDoRe-V2", "VisRAG", "OOD"),
}

NUM_FRAMES = 8  # frames fed per video or clip, sampled uniformly from the saved ones (64 at most)
MAX_FRAMES_SAVED = 64

# instructions (each dataset module's own; image tasks carry theirs in the annotations)
DOC_QUERY = "Find a document image that matches the given query:"
DOC_TARGET = "Understand the content of the provided document image."
VIDEO_TARGET = "Understand the content of the provided video."
QA_PROMPT = ("Given a video and a question, select the most accurate answer from the provided candidates. "
             "Return only the exact text of your chosen answer. Question: ")
MOMENT_QUERY = "Find the clip that corresponds to the described scene in the given video:"
MOMENTSEEKER_QUERY_TEXT = "Find the clip that corresponds to the given text:"
MOMENTSEEKER_QUERY_IMAGE = "Select the video clip that aligns with the given text and image:"
MOMENTSEEKER_QUERY_VIDEO = "Find the clip that corresponds to the given sentence and video segment:"
MOMENTSEEKER_TARGET = "Understand the content of the provided video clip."
VIDEO_CLS_QUERY = {
    "Kinetics-700": "Recognize the category of the video content.",
    "SmthSmthV2": "What actions or object interactions are being performed by the person in the video?",
    "UCF101": "What activities or sports are being performed by the person in the video?",
    "HMDB51": "What actions or objects interactions are the person in the video doing?",
    "Breakfast": "Recognize the breakfast type that the person is cooking in the video. ",
}
VIDEO_RET_QUERY = {
    "MSR-VTT": "Find a video that contains the following visual content:",
    "MSVD": "Find the video snippet that corresponds to the given summary:",
    "DiDeMo": "Find a video that includes the following described scenes:",
    "YouCook2": "Find a video that demonstrates the following action while making a recipe:",
    "VATEX": "Select a video that fits the description provided:",
}


@dataclass(frozen=True)
class Hub:
    """Where the official code loads a task's annotations: `datasets.load_dataset(repo, subset, split)`.
    Visual-document tasks read three configs of the repository, `queries`, `corpus` and `qrels`."""

    repo: str
    subset: str | None
    split: str


@dataclass(frozen=True)
class V2Spec:
    name: str  # the official config key (results, report_score_v2.py)
    group: str  # image | video | visdoc
    meta_task: str
    parser: str  # the config's `dataset_parser`
    dataset: str  # the config's `dataset_name`
    eval_type: str  # local | global
    hub: Hub | tuple[Hub, ...]  # MVBench: one per subset
    media: str  # image_root (image, visdoc) or frame_root (video), relative to the data folder
    video_root: str = ""  # where the official code would extract frames from when they are missing
    num_frames: int | None = None
    sample: int | None = None  # `num_sample_per_subset`: the first N rows only (SmthSmthV2: 1,000)
    query_instruction: str = ""
    target_instruction: str = ""
    language: str | None = None  # ViDoRe v2 english-only configs keep the queries of this language
    scored: bool = True  # in report_score_v2.py's lists (24 of visdoc.yaml's 27 configs)
    notes: str = ""

    @property
    def task_name(self) -> str:
        return PREFIX + self.name

    @property
    def metric(self) -> str:
        return HEADLINE[self.group]

    @property
    def hubs(self) -> tuple[Hub, ...]:
        return self.hub if isinstance(self.hub, tuple) else (self.hub,)


_INSTRUCT = "ziyjiang/MMEB_Test_Instruct"
_CLS, _QA, _RET, _GRD, _MRET = "Classification", "QA", "Retrieval", "Grounding", "Moment Retrieval"


def _image(name: str, meta: str, parser: str) -> V2Spec:
    return V2Spec(name, IMAGE, meta, parser, name, LOCAL, Hub(_INSTRUCT, name, "test"), "image-tasks/")


_IMAGE_PARSERS = {
    "image_cls": ("ImageNet-1K", "N24News", "HatefulMemes", "VOC2007", "SUN397", "Place365", "ImageNet-A",
                  "ImageNet-R", "ObjectNet", "Country211"),
    "image_qa": ("OK-VQA", "A-OKVQA", "DocVQA", "InfographicsVQA", "ChartQA", "Visual7W", "ScienceQA", "VizWiz",
                 "GQA", "TextVQA"),
    "image_i2t": ("MSCOCO_i2t", "VisualNews_i2t"),
    "image_t2i": ("VisDial", "MSCOCO_t2i", "VisualNews_t2i", "WebQA", "EDIS", "Wiki-SS-NQ"),
    "image_i2i_vg": ("CIRR", "NIGHTS", "OVEN", "FashionIQ", "MSCOCO", "RefCOCO", "RefCOCO-Matching",
                     "Visual7W-Pointing"),
}
_IMAGE_META = {"image_cls": _CLS, "image_qa": _QA, "image_i2t": _RET, "image_t2i": _RET}
_GROUNDING = ("MSCOCO", "RefCOCO", "RefCOCO-Matching", "Visual7W-Pointing")
# report_score_v2.py's order, which is also V1's
_IMAGE_ORDER = ("ImageNet-1K", "N24News", "HatefulMemes", "VOC2007", "SUN397", "Place365", "ImageNet-A", "ImageNet-R",
                "ObjectNet", "Country211", "OK-VQA", "A-OKVQA", "DocVQA", "InfographicsVQA", "ChartQA", "Visual7W",
                "ScienceQA", "VizWiz", "GQA", "TextVQA", "VisDial", "CIRR", "VisualNews_t2i", "VisualNews_i2t",
                "MSCOCO_t2i", "MSCOCO_i2t", "NIGHTS", "WebQA", "FashionIQ", "Wiki-SS-NQ", "OVEN", "EDIS", "MSCOCO",
                "RefCOCO", "RefCOCO-Matching", "Visual7W-Pointing")


def _image_specs() -> list[V2Spec]:
    parser_of = {name: parser for parser, names in _IMAGE_PARSERS.items() for name in names}
    specs = []
    for name in _IMAGE_ORDER:
        parser = parser_of[name]
        meta = _GRD if name in _GROUNDING else _IMAGE_META.get(parser, _RET)
        specs.append(_image(name, meta, parser))
    return specs


def _video(name: str, meta: str, parser: str, dataset: str, eval_type: str, hub: Hub | tuple[Hub, ...], kind: str,
           folder: str, **extra) -> V2Spec:
    return V2Spec(name, VIDEO, meta, parser, dataset, eval_type, hub, f"video-tasks/frames/{kind}/{folder}",
                  video_root=f"video-tasks/videos/{kind}/{folder}" if kind != "video_mret" else "",
                  num_frames=NUM_FRAMES, **extra)


# MVBench: one hub config per subset, each with a column `subset` added (the frames live under it)
MVBENCH_SUBSETS = ("episodic_reasoning", "action_sequence", "action_prediction", "action_antonym",
                   "fine_grained_action", "unexpected_action", "object_existence", "object_interaction",
                   "object_shuffle", "moving_direction", "action_localization", "scene_transition", "action_count",
                   "moving_count", "moving_attribute", "state_change", "fine_grained_pose", "character_order",
                   "egocentric_navigation", "counterfactual_inference")


def _video_specs() -> list[V2Spec]:
    def cls(name: str, dataset: str, eval_type: str, folder: str, **extra) -> V2Spec:
        return _video(name, _CLS, "ssv2" if name == "SmthSmthV2" else "video_classification", dataset, eval_type,
                      Hub(f"VLM2Vec/{dataset}", None, "test"), "video_cls", folder,
                      query_instruction=VIDEO_CLS_QUERY[dataset], **extra)

    def qa(name: str, parser: str, hub: Hub | tuple[Hub, ...], **extra) -> V2Spec:
        return _video(name, _QA, parser, name, LOCAL, hub, "video_qa", name, query_instruction=QA_PROMPT, **extra)

    def ret(name: str, parser: str, hub: Hub) -> V2Spec:
        return _video(name, _RET, parser, name, GLOBAL, hub, "video_ret", name, query_instruction=VIDEO_RET_QUERY[name],
                      target_instruction=VIDEO_TARGET)

    def mret(name: str, parser: str, folder: str, query: str, target: str) -> V2Spec:
        return _video(name, _MRET, parser, name, LOCAL, Hub(f"VLM2Vec/{name}", None, "test"), "video_mret", folder,
                      query_instruction=query, target_instruction=target)

    return [
        cls("K700", "Kinetics-700", GLOBAL, "K700"),
        cls("SmthSmthV2", "SmthSmthV2", LOCAL, "SSv2", sample=1000,
            notes="the first 1,000 rows; candidates are each row's own `neg_text` list"),
        cls("HMDB51", "HMDB51", GLOBAL, "HMDB51"),
        cls("UCF101", "UCF101", GLOBAL, "UCF101"),
        cls("Breakfast", "Breakfast", GLOBAL, "Breakfast"),
        qa("MVBench", "mvbench", tuple(Hub("VLM2Vec/MVBench", s, "train") for s in MVBENCH_SUBSETS)),
        qa("Video-MME", "videomme", Hub("VLM2Vec/Video-MME", None, "test")),
        qa("NExTQA", "nextqa", Hub("VLM2Vec/NExTQA", "MC", "test")),
        qa("EgoSchema", "egoschema", Hub("VLM2Vec/EgoSchema", "Subset", "test")),
        qa("ActivityNetQA", "activitynetqa", Hub("VLM2Vec/ActivityNetQA", None, "test")),
        ret("DiDeMo", "didemo", Hub("VLM2Vec/DiDeMo", None, "test")),
        ret("MSR-VTT", "msrvtt", Hub("VLM2Vec/MSR-VTT", "test_1k", "test")),
        ret("MSVD", "msvd", Hub("VLM2Vec/MSVD", None, "test")),
        ret("VATEX", "vatex", Hub("VLM2Vec/VATEX", None, "test")),
        ret("YouCook2", "youcook2", Hub("lmms-lab/YouCook2", None, "val")),
        mret("QVHighlight", "moment_retrieval", "QVHighlight", MOMENT_QUERY, VIDEO_TARGET),
        mret("Charades-STA", "moment_retrieval", "Charades_STA", MOMENT_QUERY, VIDEO_TARGET),
        mret("MomentSeeker", "momentseeker", "MomentSeeker", MOMENTSEEKER_QUERY_TEXT, MOMENTSEEKER_TARGET),
    ]


def _doc(name: str, meta: str, parser: str, hub: Hub, folder: str | None = None, **extra) -> V2Spec:
    return V2Spec(name, VISDOC, meta, parser, name, GLOBAL, hub, f"visdoc-tasks/{folder or name}",
                  query_instruction=DOC_QUERY, target_instruction=DOC_TARGET, **extra)


def _visdoc_specs() -> list[V2Spec]:
    v1 = [("arxivqa", "arxivqa_test_subsampled_beir"), ("docvqa", "docvqa_test_subsampled_beir"),
          ("infovqa", "infovqa_test_subsampled_beir"), ("tabfquad", "tabfquad_test_subsampled_beir"),
          ("tatdqa", "tatdqa_test_beir"), ("shiftproject", "shiftproject_test_beir"),
          ("syntheticDocQA_artificial_intelligence", "syntheticDocQA_artificial_intelligence_test_beir"),
          ("syntheticDocQA_energy", "syntheticDocQA_energy_test_beir"),
          ("syntheticDocQA_government_reports", "syntheticDocQA_government_reports_test_beir"),
          ("syntheticDocQA_healthcare_industry", "syntheticDocQA_healthcare_industry_test_beir")]
    specs = [_doc(f"ViDoRe_{short}", "ViDoRe-V1", "vidore", Hub(f"vidore/{repo}", None, "test")) for short, repo in v1]
    v2 = "ViDoRe-V2"
    specs += [
        _doc("ViDoRe_esg_reports_human_labeled_v2", v2, "vidore", Hub("vidore/esg_reports_human_labeled_v2", None, "test"),
             "esg_reports_human_labeled_v2"),
        _doc("ViDoRe_biomedical_lectures_v2_multilingual", v2, "vidore", Hub("vidore/biomedical_lectures_v2", None, "test"),
             "biomedical_lectures_v2_multilingual"),
        _doc("ViDoRe_economics_reports_v2_multilingual", v2, "vidore", Hub("vidore/economics_reports_v2", None, "test"),
             "economics_reports_v2_multilingual"),
        _doc("ViDoRe_esg_reports_v2_multilingual", v2, "vidore", Hub("vidore/esg_reports_v2", None, "test"),
             "esg_reports_v2_multilingual"),
    ]
    specs += [_doc(f"VisRAG_{short}", "VisRAG", "visrag", Hub(f"openbmb/VisRAG-Ret-Test-{short}", None, "train"))
              for short in ("ArxivQA", "ChartQA", "MP-DocVQA", "SlideVQA", "InfoVQA", "PlotQA")]
    fixed = "page labels from the `-page-fixed` repository (VLM2Vec issue 167)"
    specs += [
        _doc("ViDoSeek-page", "OOD", "vidore", Hub("VLM2Vec/ViDoSeek-page-fixed", None, "test"), notes=fixed),
        _doc("ViDoSeek-doc", "OOD", "vidore", Hub("VLM2Vec/ViDoSeek", None, "test")),
        _doc("MMLongBench-page", "OOD", "vidore", Hub("VLM2Vec/MMLongBench-page-fixed", None, "test"), notes=fixed),
        _doc("MMLongBench-doc", "OOD", "vidore", Hub("VLM2Vec/MMLongBench-doc", None, "test")),
    ]
    # in visdoc.yaml, not scored (VLM2Vec issue 96): the english-only views of three ViDoRe v2 sets
    for short in ("biomedical_lectures_v2", "economics_reports_v2", "esg_reports_v2"):
        specs.append(_doc(f"ViDoRe_{short}", v2, "vidore", Hub(f"vidore/{short}", None, "test"), short,
                          language="english", scored=False, notes="in visdoc.yaml, not in the 78 (VLM2Vec issue 96)"))
    return specs


SPECS: tuple[V2Spec, ...] = (*_image_specs(), *_video_specs(), *_visdoc_specs())
BY_NAME: dict[str, V2Spec] = {s.name: s for s in SPECS}
BY_TASK: dict[str, V2Spec] = {s.task_name: s for s in SPECS}
SCORED: tuple[V2Spec, ...] = tuple(s for s in SPECS if s.scored)


def task_info(spec: V2Spec) -> TaskInfo:
    return TaskInfo(name=spec.task_name, benchmark=MMEB_V2, meta_task=f"{spec.group}/{spec.meta_task}",
                    in_average=spec.scored, num_queries=spec.sample)


MMEB_V2_TASKS: tuple[TaskInfo, ...] = tuple(task_info(s) for s in SPECS)


def spec_of(info: TaskInfo) -> V2Spec:
    try:
        return BY_TASK[info.name]
    except KeyError:
        raise KeyError(f"{info.name!r} is not an MMEB-V2 task") from None


def group_tasks(group: str | None = None, scored_only: bool = True) -> tuple[TaskInfo, ...]:
    """The tasks of a group (None: all three), in the official order."""
    return tuple(task_info(s) for s in SPECS if (group in (None, s.group)) and (s.scored or not scored_only))


@dataclass(frozen=True)
class GroupCounts:
    tasks: int
    meta: dict[str, int] = field(default_factory=dict)


def counts() -> dict[str, GroupCounts]:
    return {g: GroupCounts(sum(s.group == g for s in SCORED),
                           {m: sum(s.group == g and s.meta_task == m for s in SCORED) for m in META_TASKS[g]})
            for g in GROUPS}


_COUNTS = counts()
assert len(SCORED) == 78, len(SCORED)
assert [_COUNTS[g].tasks for g in GROUPS] == [36, 18, 24]
assert list(_COUNTS[IMAGE].meta.values()) == [10, 10, 12, 4]
assert list(_COUNTS[VIDEO].meta.values()) == [5, 5, 5, 3]
assert list(_COUNTS[VISDOC].meta.values()) == [10, 4, 6, 4]
