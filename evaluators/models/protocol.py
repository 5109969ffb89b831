"""Where the runner and the models meet: Item in, L2-normalised embeddings out.

The runner never special-cases a model; a model never sees a task.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from scar.core.errors import ScarError

if TYPE_CHECKING:  # listing tasks and models must not import torch
    import torch

# Texts carry the Phi-3.5-V image token, as MMEB and SCaR store them; each embedder's processor
# replaces it with its own backbone's token (Qwen2-VL: <|vision_start|><|image_pad|><|vision_end|>).
IMAGE_TOKEN = "<|image_1|>"

# How faithfully a model reproduces its reference implementation (`--protocol`):
#   official  what the released evaluation code computes, quirks included (the default for every
#             registered model: measured rows sit beside published ones);
#   fixed     what the model was meant to compute (the quirks corrected).
OFFICIAL_PROTOCOL = "official"
FIXED_PROTOCOL = "fixed"
PROTOCOLS = (OFFICIAL_PROTOCOL, FIXED_PROTOCOL)

# Where a model's version in its fingerprint comes from (EmbedderInfo.fingerprint_from).
REVISION = "revision"  # a hub revision, or one a custom embedder declares
FOLDER_HASH = "folder hash"  # a local model folder: its files' content hash
SOURCE_HASH = "source hash"  # a custom embedder that declares no revision: its module files' hash
UNVERSIONED = "none"  # a custom embedder with neither (no source file): only its name and options


@dataclass(frozen=True)
class Item:
    """One thing to embed: a text, optionally an image (a file path) and a region in that image."""

    text: str = ""
    image: str | None = None  # absolute or cwd-relative path of the image file
    box_xyxy: tuple[float, float, float, float] | None = None  # original-image pixels
    point_xy: tuple[float, float] | None = None  # original-image pixels
    mask_rle: tuple[tuple[int, int], str] | None = None  # ((h, w), counts) COCO compressed RLE
    instruction: str = ""  # kept separately for models that take it apart from the text
    # A video (MMEB-V2): its sampled frame files, in order. `image` then holds the middle frame, what a
    # single-image model is shown; a video model (Qwen2-VL) reads the frames instead.
    frames: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def has_region(self) -> bool:
        return self.box_xyxy is not None or self.point_xy is not None or self.mask_rle is not None

    def key(self) -> str:
        """Content hash identifying this item across tasks (for dedupe and the embedding cache).

        Computed once per item (an evaluation asks for it at every reference, ~1M times on MMEB)."""
        cached = self.__dict__.get("_key")
        if cached is None:
            fields: list[Any] = [self.text, self.image, self.box_xyxy, self.point_xy, self.mask_rle, self.instruction]
            if self.frames:  # only a video's key names its frames: every other key is what it always was
                fields.append(list(self.frames))
            payload = json.dumps(
                fields,
                ensure_ascii=False,
                separators=(",", ":"),
            )
            cached = hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()
            object.__setattr__(self, "_key", cached)  # frozen: fields never change, so neither does the key
        return cached


@dataclass(frozen=True)
class EmbedderInfo:
    """What a result file records about the model that produced it."""

    name: str  # registry name, e.g. "virtue-2b" or "clip-vit-l-14+crop"
    model_id: str  # HF id or local path
    revision: str = ""
    family: str = ""
    dtype: str = "float32"
    device: str = "cpu"
    options: dict[str, Any] = field(default_factory=dict)
    protocol: str = OFFICIAL_PROTOCOL
    # What identifies the code and weights beyond `revision`: a local folder's file hash, or a custom
    # embedder's source hash (evaluators.models.fingerprint); "" when the revision is all there is.
    content_hash: str = ""
    fingerprint_from: str = REVISION  # REVISION | FOLDER_HASH | SOURCE_HASH | UNVERSIONED

    @property
    def fingerprint(self) -> str:
        """Identifies embeddings this model produces; changes whenever an output could change: name (and
        so region variant), weights (revision or content hash), dtype, loader options and protocol."""
        fields: list[Any] = [self.name, self.model_id, self.revision, self.family, self.dtype,
                             sorted(self.options.items()), self.protocol]
        if self.content_hash:  # appended only when set, so a hub model's fingerprint (and cache) stays as it was
            fields.append(self.content_hash)
        payload = json.dumps(fields, sort_keys=True, default=str)
        return hashlib.blake2b(payload.encode("utf-8"), digest_size=12).hexdigest()


class Embedder(Protocol):
    """Optional attributes the runner reads with getattr:
    `batch_dependent` (bool, default False): an item's embedding depends on the other items of its
    batch (VIRTUE's official position ids do); the runner then encodes the reference code's own
    batches (per task, dataset order, queries apart from candidates) of `reference_batch_size` items.
    `close()`: called when an evaluation is done (stops helper processes such as preprocessing workers).
    """

    name: str
    info: EmbedderInfo

    def encode(self, items: Sequence[Item], batch_size: int) -> torch.Tensor:
        """(len(items), d) float tensor, each row L2-normalised, on CPU."""
        ...


class StagedEmbedder(Embedder, Protocol):
    """An embedder whose batch work splits into input preparation and the model's forward.

    The runner prepares the next batch in a worker thread while the model runs the current one,
    so image decoding, region drawing and tokenising hide behind the forward pass.
    `encode` must equal `forward_batch(prepare_batch(chunk))` over chunks of `batch_size`.
    """

    def prepare_batch(self, items: Sequence[Item]) -> Any:
        """CPU-side inputs for one batch; reads no mutable model state (it runs in another thread)."""
        ...

    def forward_batch(self, prepared: Any) -> torch.Tensor:
        """(n, d) L2-normalised embeddings, on CPU, of one prepared batch."""
        ...


def is_staged(embedder: object) -> bool:
    return callable(getattr(embedder, "prepare_batch", None)) and callable(getattr(embedder, "forward_batch", None))


def check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        raise ScarError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
    return protocol


def is_batch_dependent(embedder: object) -> bool:
    return bool(getattr(embedder, "batch_dependent", False))
