"""The SCaR data model: Region, Entity, Sample, and the one Parquet schema.

Everything that reads or writes SCaR rows imports from here, so the on-disk format
lives in exactly one place (see docs/DESIGN.md, "The SCaR Parquet schema").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal, Sequence

import numpy as np
import pyarrow as pa
from pycocotools import mask as mask_utils

IMAGE_TOKEN = "<|image_1|>"
NEG_TYPES: tuple[str, str, str] = ("object", "relation", "scene")
NEGATIVES_PER_TYPE = 3
NUM_NEGATIVES = NEGATIVES_PER_TYPE * len(NEG_TYPES)
NUM_CANDIDATES = NUM_NEGATIVES + 1
SPLITS: tuple[str, str] = ("train", "eval")

Split = Literal["train", "eval"]
RegionKind = Literal["box", "point", "mask"]

# Instructions as the official demo phrases them; the query text is the image token, a newline,
# then the instruction (the official loader strips the token and rebuilds the prefix per backbone).
INSTRUCTIONS: dict[str, str] = {
    "box": "Find the caption that best describes the object in the bounding box, "
    "considering both local details and global context in the given image.",
    "point": "Find the caption that best describes the segmented object, "
    "considering both local details and global context in the given image.",
    "mask": "Find the caption that best describes the segmented object, "
    "considering both local details and global context in the given image.",
}


def query_text(kind: RegionKind = "box") -> str:
    return f"{IMAGE_TOKEN}\n{INSTRUCTIONS[kind]}"


# ---------------------------------------------------------------- geometry helpers


def xywh_to_xyxy(box: Sequence[float]) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in box)
    return (x, y, x + w, y + h)


def xyxy_to_xywh(box: Sequence[float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return (x1, y1, x2 - x1, y2 - y1)


def box_inside_image(box_xywh: Sequence[float], width: int, height: int, tol: float = 0.5) -> bool:
    """True when the box has positive size and lies within the image (tolerance in pixels)."""
    x, y, w, h = (float(v) for v in box_xywh)
    return w > 0 and h > 0 and x >= -tol and y >= -tol and x + w <= width + tol and y + h <= height + tol


def clip_box_xywh(box_xywh: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = xywh_to_xyxy(box_xywh)
    x1, x2 = min(max(x1, 0.0), float(width)), min(max(x2, 0.0), float(width))
    y1, y2 = min(max(y1, 0.0), float(height)), min(max(y2, 0.0), float(height))
    return (x1, y1, x2 - x1, y2 - y1)


# ---------------------------------------------------------------- masks (COCO RLE via pycocotools)


def mask_to_rle(mask: np.ndarray) -> dict[str, Any]:
    """Binary HxW mask -> compressed COCO RLE with a str `counts` (JSON/Parquet friendly)."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode("ascii")}


def rle_to_mask(rle: dict[str, Any]) -> np.ndarray:
    counts = rle["counts"]
    coco = {"size": [int(s) for s in rle["size"]], "counts": counts.encode("ascii") if isinstance(counts, str) else counts}
    return mask_utils.decode(coco).astype(bool)


def rle_area(rle: dict[str, Any]) -> int:
    counts = rle["counts"]
    coco = {"size": [int(s) for s in rle["size"]], "counts": counts.encode("ascii") if isinstance(counts, str) else counts}
    return int(mask_utils.area(coco))


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Region:
    """Where the entity is. Box in original-image pixels (COCO xywh); point (x, y); mask as COCO RLE."""

    box_xywh: tuple[float, float, float, float]
    point_xy: tuple[float, float] | None = None
    mask_rle: dict[str, Any] | None = None

    @property
    def box_xyxy(self) -> tuple[float, float, float, float]:
        return xywh_to_xyxy(self.box_xywh)

    @property
    def area(self) -> float:
        if self.mask_rle is not None:
            return float(rle_area(self.mask_rle))
        return float(self.box_xywh[2] * self.box_xywh[3])


@dataclass(frozen=True)
class Neighbour:
    """Another annotated thing in the same image, used to phrase relations."""

    category: str
    box_xywh: tuple[float, float, float, float]


@dataclass(frozen=True)
class Entity:
    """One entity of one image, as a source loader yields it (before any caption exists)."""

    source: str
    split: Split
    image_id: str
    entity_id: str
    image_path: str  # relative to the images root, POSIX separators
    image_width: int
    image_height: int
    category: str
    region: Region
    texts: tuple[str, ...] = ()  # the source's own texts: referring expressions, region phrases
    scene: str | None = None  # scene label when the source has one (ADE20K, demo)
    attributes: tuple[str, ...] = ()  # e.g. colour, size words the source knows
    neighbours: tuple[Neighbour, ...] = ()
    # what else the source says the picture shows, without a region (COCO-Stuff stuff names for a
    # COCO image): evidence of the scene; without a region it is never a relation's anchor
    context: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.source}:{self.image_id}:{self.entity_id}"


@dataclass(frozen=True)
class Rejected:
    """A record that could not be used, with why. Counted and reported, never silently dropped."""

    source: str
    record: str  # record id, e.g. "refcoco+:ann 1234" or an entity id
    reason: str  # short machine-groupable reason, e.g. "degenerate polygon"
    file: str | None = None
    detail: str = ""
    # Where the rejected entity is, when known, so reviewers can see it (`scar browse`'s rejections view).
    image_path: str | None = None
    box_xywh: tuple[float, float, float, float] | None = None

    def at(self, entity: "Entity") -> "Rejected":
        """This rejection with the entity's image and box attached (kept if already set)."""
        if self.image_path is not None:
            return self
        x, y, w, h = (float(v) for v in entity.region.box_xywh)
        return replace(self, image_path=entity.image_path, box_xywh=(x, y, w, h))


@dataclass(frozen=True)
class CaptionParts:
    object: str
    relation: str
    scene: str

    @property
    def text(self) -> str:
        return " ".join(p.strip() for p in (self.object, self.relation, self.scene) if p.strip())

    def replace(self, kind: str, value: str) -> "CaptionParts":
        if kind not in NEG_TYPES:
            raise ValueError(f"unknown part {kind!r}")
        return CaptionParts(**{**self.__dict__, kind: value})


@dataclass(frozen=True)
class GeneratorInfo:
    name: str  # "offline" or "llm"
    model: str  # rule-set id or LLM model name
    prompt_version: str
    seed: int


@dataclass(frozen=True)
class Sample:
    """One SCaR query: an entity, its gold caption and 9 hard negatives (3 per type)."""

    entity: Entity
    gold: CaptionParts
    negatives: tuple[str, ...]
    neg_types: tuple[str, ...]
    generator: GeneratorInfo
    region_kind: RegionKind = "box"
    caption: str | None = None  # gold caption text when it is not just parts joined (LLM fluency)
    train_negative_index: int = 0  # which negative the train row's single `neg_text` carries
    scene_method: str | None = None  # how the gold scene was inferred (counted in stats.json), if the generator says

    @property
    def gold_text(self) -> str:
        return self.caption if self.caption else self.gold.text

    @property
    def candidates(self) -> list[str]:
        return [self.gold_text, *self.negatives]

    def check(self) -> list[str]:
        """Structural problems of this sample (empty list = fine)."""
        problems = []
        if len(self.negatives) != NUM_NEGATIVES:
            problems.append(f"expected {NUM_NEGATIVES} negatives, got {len(self.negatives)}")
        if sorted(self.neg_types) != sorted(t for t in NEG_TYPES for _ in range(NEGATIVES_PER_TYPE)):
            problems.append(f"negative types must be 3 of each of {NEG_TYPES}, got {list(self.neg_types)}")
        cands = [c.strip().lower() for c in self.candidates]
        if len(set(cands)) != len(cands):
            problems.append("candidates are not distinct")
        if any(not c for c in cands):
            problems.append("empty candidate")
        return problems

    def to_row(self) -> dict[str, Any]:
        e = self.entity
        row: dict[str, Any] = {
            "qry_text": query_text(self.region_kind),
            "qry_image_path": e.image_path,
            "tgt_text": self.candidates,
            "bbox": [float(v) for v in e.region.box_xywh],
            "id": e.id,
            "source": e.source,
            "split": e.split,
            "image_id": str(e.image_id),
            "image_width": int(e.image_width),
            "image_height": int(e.image_height),
            "category": e.category,
            "point": [float(v) for v in e.region.point_xy] if e.region.point_xy is not None else None,
            "mask": (
                {"size": [int(v) for v in e.region.mask_rle["size"]], "counts": str(e.region.mask_rle["counts"])}
                if e.region.mask_rle is not None
                else None
            ),
            "caption_parts": {"object": self.gold.object, "relation": self.gold.relation, "scene": self.gold.scene},
            "neg_types": list(self.neg_types),
            "generator": {
                "name": self.generator.name,
                "model": self.generator.model,
                "prompt_version": self.generator.prompt_version,
                "seed": int(self.generator.seed),
            },
        }
        if e.split == "train":
            # The official training loader (sony/virtue scar_dataset.py) reads these columns.
            row.update(
                {
                    "qry": row["qry_text"],
                    "pos_text": self.gold_text,
                    "pos_image_path": "",
                    "neg_text": self.negatives[self.train_negative_index],
                    "neg_image_path": "",
                    "segmentation": row["mask"],
                }
            )
        return row


# ---------------------------------------------------------------- Parquet schema

_RLE = pa.struct([("size", pa.list_(pa.int32(), 2)), ("counts", pa.string())])

_COMMON_FIELDS = [
    # official-compatible columns
    pa.field("qry_text", pa.string(), nullable=False),
    pa.field("qry_image_path", pa.string(), nullable=False),
    pa.field("tgt_text", pa.list_(pa.string()), nullable=False),
    pa.field("bbox", pa.list_(pa.float64(), 4), nullable=False),
    # extension columns
    pa.field("id", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("split", pa.string(), nullable=False),
    pa.field("image_id", pa.string(), nullable=False),
    pa.field("image_width", pa.int32(), nullable=False),
    pa.field("image_height", pa.int32(), nullable=False),
    pa.field("category", pa.string(), nullable=False),
    pa.field("point", pa.list_(pa.float64(), 2)),
    pa.field("mask", _RLE),
    pa.field(
        "caption_parts",
        pa.struct([("object", pa.string()), ("relation", pa.string()), ("scene", pa.string())]),
        nullable=False,
    ),
    pa.field("neg_types", pa.list_(pa.string(), NUM_NEGATIVES), nullable=False),
    pa.field(
        "generator",
        pa.struct(
            [("name", pa.string()), ("model", pa.string()), ("prompt_version", pa.string()), ("seed", pa.int64())]
        ),
        nullable=False,
    ),
]

_TRAIN_FIELDS = [
    pa.field("qry", pa.string(), nullable=False),
    pa.field("pos_text", pa.string(), nullable=False),
    pa.field("pos_image_path", pa.string(), nullable=False),
    pa.field("neg_text", pa.string(), nullable=False),
    pa.field("neg_image_path", pa.string(), nullable=False),
    pa.field("segmentation", _RLE),
]

OFFICIAL_EVAL_COLUMNS = ("qry_text", "qry_image_path", "tgt_text", "bbox")
# What the official training loader (sony/virtue scar_dataset.py) reads or drops by name; it keeps no other column.
OFFICIAL_TRAIN_COLUMNS = ("qry", "qry_image_path", "pos_text", "pos_image_path", "neg_text", "neg_image_path", "bbox",
                          "segmentation", "category", "image_id")


def parquet_schema(split: str) -> pa.Schema:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    fields = list(_COMMON_FIELDS) + (list(_TRAIN_FIELDS) if split == "train" else [])
    return pa.schema(fields, metadata={"scar.schema_version": "1"})


def rows_to_table(rows: Sequence[dict[str, Any]], split: str) -> pa.Table:
    # Column by column is about 5x faster than Table.from_pylist for these nested rows.
    schema = parquet_schema(split)
    columns = [pa.array([row[f.name] for row in rows], type=f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


@dataclass
class RejectionLog:
    """Counts rejected records by reason and keeps a few examples of each."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    # Examples whose image and box are known: {"record", "image_path", "bbox", "detail"}.
    example_regions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    max_examples: int = 5

    def reasons(self) -> set[str]:
        """The bare reasons counted (keys are "<source>: <reason>")."""
        return {key.partition(": ")[2] for key in self.counts}

    def add(self, rej: Rejected) -> None:
        key = f"{rej.source}: {rej.reason}"
        self.counts[key] = self.counts.get(key, 0) + 1
        ex = self.examples.setdefault(key, [])
        if len(ex) < self.max_examples:
            where = f" ({rej.file})" if rej.file else ""
            ex.append(f"{rej.record}{where}{': ' + rej.detail if rej.detail else ''}")
        if rej.image_path is not None:
            regions = self.example_regions.setdefault(key, [])
            if len(regions) < self.max_examples:
                box = [float(v) for v in rej.box_xywh] if rej.box_xywh is not None else None
                regions.append({"record": rej.record, "image_path": rej.image_path, "bbox": box, "detail": rej.detail})

    def merge(self, other: dict[str, Any]) -> None:
        for k, n in other.get("counts", {}).items():
            self.counts[k] = self.counts.get(k, 0) + int(n)
        for k, ex in other.get("examples", {}).items():
            mine = self.examples.setdefault(k, [])
            mine.extend(ex[: max(0, self.max_examples - len(mine))])
        for k, regions in other.get("example_regions", {}).items():
            mine_r = self.example_regions.setdefault(k, [])
            mine_r.extend(regions[: max(0, self.max_examples - len(mine_r))])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"counts": dict(sorted(self.counts.items())), "examples": dict(sorted(self.examples.items()))}
        if self.example_regions:
            out["example_regions"] = dict(sorted(self.example_regions.items()))
        return out

    @property
    def total(self) -> int:
        return sum(self.counts.values())
