"""VIRTUE: Qwen2-VL (stock transformers) + SAM2.1 (stock sam2) + the trained connector.

The VLM half is the shared Qwen2-VL core (`evaluators.models.qwen2vl`); this class adds the segmentation
stream (`evaluators.models.virtue_sam`) in `lm_inputs`:
  - every item with an image gets (S/64)^2 segmentation tokens (256 for SAM2.1 at 1024) **prepended**
    to its input embeddings, after Qwen2-VL's image features are in the image-pad slots; the attention
    mask is extended with ones and the tokens' position ids are 0 in all three sections;
  - the embedding is the last token's final hidden state (left padding), L2-normalised.
SAM's prompt comes from the item's own region (`box_xyxy`, `point_xy`, `mask_rle`, in original-image
pixels): box = corners labelled 2/3, point = label 1, mask = SAM `mask_input` (our extension); none =
the 3x3 grid of positive points. The region variant (default `boxtext`) still decides the text.
SAM's image encoder sees the picture alone (only the prompt encoder and mask decoder see the prompt), so
its output is kept per picture (`sam_cache`, a `evaluators.models.vision_cache.FeatureCache` keyed by the
file's bytes, whatever changes the pixels, and the model's fingerprint; option `sam_cache_mb`, 0
disables it) and reused by every later item showing that picture: another query, another prompt of
the robustness suite. Exactly the numbers the encoder produced; only new pictures are encoded. A
picture whose tower output and SAM embedding are both cached is not even decoded or processed again
(the Qwen2-VL core's path for cached pictures); its size, the frame of SAM's prompt, is read from the
file's header.

Protocols (`protocol`, alias `virtue_compat`), against sony/virtue at 36d8a8b (paths under `codes/`;
M = `src/model/vlm_backbone/qwen2_vl/modeling_qwen2_vl.py`):
  official  what the released eval computes, quirks included:
            - position ids (M:1382 `get_rope_index`, M:1761-1799 the `rope_deltas` branch of `forward`,
              M:1802-1809 the segmentation slots): the eval never passes `cache_position`, so only the model's first
              forward call computes positions with `get_rope_index` (1-D, since the prompt's bare
              `<|image_pad|>` has no `<|vision_start|>`); every later call takes `arange(padded length)`
              over the whole batch, segmentation slots included, then sets those 256 slots to 0. A
              left-padded row's first real token thus sits at 256 + its pad count: an embedding depends
              on the longest row of its batch. We reproduce the later calls (every batch of a run but the
              first), which is the steady state behind the published numbers; the official first batch
              instead gives real tokens the positions 0..n-1 (the same as the segmentation slots). The
              runner therefore encodes the official batches (`batch_dependent`): per task, in dataset
              order, queries apart from candidates, 16 at a time;
            - rows without an image in a batch with images (M:1677-1711): their embeddings
              get 256 copies of the `bos` token embedding appended at the end, while the attention mask
              is extended with 256 ones at the front; the pooled last position is then a `bos` copy;
            - SAM input (`src/model/model.py:123-200`, the SAM wrapper's `forward`): the Qwen-normalised image,
              normalised again with SAM's mean/std; boxes are mapped with `orig_hw` = SAM's own 1024 frame,
              i.e. not rescaled from the image; points likewise (we scale points to 1024 as the released
              demo does before passing them); a point, when given, replaces the box; masks are not wired
              (ignored here);
            - PIL resizing in the vendored Qwen2-VL image processor, 4*28*28 .. 1280*28*28 pixels whatever the
              checkpoint's preprocessor says (`src/model/processor.py:116-129` passes `size` with None limits,
              which the vendored processor replaces by its class defaults; checked by running it).
  fixed     what the model was meant to compute: Qwen2-VL's M-RoPE, SAM sees the [0, 1] image normalised
            once, every prompt is scaled to SAM's frame, box and point are used together, masks reach SAM's
            `mask_input`, rows without an image get masked-out slots; embeddings do not depend on the batch.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import torch
from PIL import Image

from evaluators.models.checkpoints import checkpoint_file, display_name, torch_dtype
from evaluators.models.hub import require_hub_model
from evaluators.models.protocol import OFFICIAL_PROTOCOL, PROTOCOLS, EmbedderInfo, Item, check_protocol
from evaluators.models.qwen2vl import (QWEN_IMAGE_TOKEN, PictureEvicted, Prepared, Qwen2VLEmbedder,
                                       later_call_positions)
from evaluators.models.qwen2vl_load import load_qwen2vl
from evaluators.models.spec import ModelSpec
from evaluators.models.vision_cache import DEFAULT_BUDGET_MB, FeatureCache
from evaluators.models.virtue_sam import (BOX_LABELS, CONNECTOR_FILE, PAD_LABEL, POINT_LABEL, SamPrompt,
                                   SegmentationStream, build_sam, grid_prompt, load_connector, mask_logits,
                                   resolve_sam_files)
from scar.core.errors import ScarError

COMPAT_MODES = PROTOCOLS  # the old name of the protocol option, kept for `virtue_compat=`
VIRTUE_MIN_PIXELS = 4 * 28 * 28  # the official eval's processor limits
VIRTUE_MAX_PIXELS = 1280 * 28 * 28
SEGMENT_POSITION_ID = 0
REFERENCE_BATCH_SIZE = 16  # per_device_eval_batch_size of the official eval config


def build_prompt(item: Item, original_size: tuple[int, int], sam_size: int, protocol: str = OFFICIAL_PROTOCOL,
                 points_per_side: int = 3, mask_size: int = 256) -> SamPrompt:
    """SAM prompt for `item`, whose region is in pixels of an image of `original_size` (w, h)."""
    official = check_protocol(protocol) == OFFICIAL_PROTOCOL
    width, height = original_size
    scale = torch.tensor([sam_size / width, sam_size / height], dtype=torch.float32)
    coords: list[torch.Tensor] = []
    labels: list[int] = []
    use_box = item.box_xyxy is not None and not (official and item.point_xy is not None)
    if use_box:
        box = torch.tensor(item.box_xyxy, dtype=torch.float32).view(2, 2)
        coords.append(box if official else box * scale)
        labels += list(BOX_LABELS)
    if item.point_xy is not None:
        coords.append(torch.tensor(item.point_xy, dtype=torch.float32).view(1, 2) * scale)
        labels.append(POINT_LABEL)
    mask = mask_logits(item.mask_rle, mask_size) if item.mask_rle is not None and not official else None
    if not coords:
        if mask is None:
            return grid_prompt(points_per_side, sam_size)
        # a mask alone: SAM2 itself pairs mask inputs with one padding point
        return SamPrompt(torch.zeros(1, 2), torch.tensor([PAD_LABEL], dtype=torch.int32), mask)
    return SamPrompt(torch.cat(coords), torch.tensor(labels, dtype=torch.int32), mask)


@lru_cache(maxsize=1 << 16)
def header_size(path: str) -> tuple[int, int]:
    """(w, h) of an image file from its header (nothing decoded); memoised."""
    with Image.open(path) as image:
        return int(image.size[0]), int(image.size[1])


def unpatchify(pixel_values: torch.Tensor, grid_thw: torch.Tensor, patch_size: int, merge_size: int,
               temporal_patch_size: int) -> list[torch.Tensor]:
    """Qwen2-VL processor patches back to per-image [C, H, W] tensors (first temporal copy)."""
    images, offset = [], 0
    for t, gh, gw in grid_thw.tolist():
        rows = pixel_values[offset:offset + t * gh * gw]
        offset += t * gh * gw
        grid = rows[: gh * gw].reshape(gh // merge_size, gw // merge_size, merge_size, merge_size, -1,
                                       temporal_patch_size, patch_size, patch_size)[:, :, :, :, :, 0]
        channels = grid.shape[4]
        images.append(grid.permute(4, 0, 2, 5, 1, 3, 6).reshape(channels, gh * patch_size, gw * patch_size))
    return images


def bos_token_id(config: Any) -> int:
    for holder in (config, getattr(config, "text_config", None)):
        value = getattr(holder, "bos_token_id", None) if holder is not None else None
        if value is not None:
            return int(value)
    raise ScarError("the Qwen2-VL config names no bos_token_id (the official protocol pads text rows with it)")


class VirtueEmbedder(Qwen2VLEmbedder):
    family = "virtue"

    def __init__(self, *args: Any, stream: SegmentationStream, sam_cache_mb: float = DEFAULT_BUDGET_MB,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from sam2.utils.transforms import SAM2Transforms

        self.stream = stream
        self.sam_cache = FeatureCache(sam_cache_mb)  # picture -> SAM image embedding (C, h, w), on the model's device
        self._sam_resize_normalise = SAM2Transforms(resolution=stream.size, mask_threshold=0.0).transforms

    reads_video = False  # image tasks only: a video item shows its middle frame (`Item.image`)

    @property
    def needs_pixels(self) -> bool:  # type: ignore[override]
        """SAM reads the processor's pixels: without its cache, of every image row."""
        return not self.sam_cache.enabled

    def known_grid(self, picture: tuple | None) -> tuple[int, int, int] | None:
        """A picture needs no pixels only when both its tower output and SAM's image embedding are cached
        (or promised by a pending batch, which computes both)."""
        grid = super().known_grid(picture)
        if grid is None or picture is None:
            return None
        if picture in self._promised or self.sam_cache.peek(self.sam_picture_key(picture)) is not None:
            return grid
        return None

    def frame_size(self, item: Item) -> tuple[int, int] | None:
        """The image file's (w, h) from its header: the frame of the item's region for SAM's prompt."""
        return header_size(item.image) if item.image else None

    @property
    def compat(self) -> str:  # the protocol's old name
        return self.protocol

    @property
    def batch_dependent(self) -> bool:  # type: ignore[override]
        return self.official

    reference_batch_size = REFERENCE_BATCH_SIZE

    def sam_pixels(self, enc: dict[str, torch.Tensor], slots: Sequence[int] | None = None,
                   grids: Sequence[tuple[int, int, int]] | None = None) -> torch.Tensor:
        """SAM's input for every processed image of the batch (or those at `slots`), from the exact pixels
        the Qwen processor produced; `grids`: the patch grid of each processed image, when `enc` also
        lists rows whose pixels were not processed (cached pictures)."""
        proc = self.processor.image_processor
        grid_thw = enc["image_grid_thw"] if grids is None else torch.tensor(list(grids), dtype=torch.long)
        images = unpatchify(enc["pixel_values"].float(), grid_thw, proc.patch_size, proc.merge_size,
                            proc.temporal_patch_size)
        if slots is not None:
            images = [images[slot] for slot in slots]
        mean = torch.tensor(proc.image_mean, device=images[0].device).view(-1, 1, 1)
        std = torch.tensor(proc.image_std, device=images[0].device).view(-1, 1, 1)
        if not self.official:
            images = [image * std + mean for image in images]  # undo the CLIP normalisation: back to [0,1]
        return torch.stack([self._sam_resize_normalise(image) for image in images])

    def sam_prompts(self, prepared: Sequence[Prepared], items: Sequence[Item]) -> list[SamPrompt]:
        return [build_prompt(item, p.original_size, self.stream.size, self.protocol, self.stream.points_per_side,
                             self.stream.mask_input_size)
                for p, item in zip(prepared, items) if p.shows_image and p.original_size is not None]

    def sam_key(self, item: Item) -> tuple | None:
        """What identifies SAM's image embedding of `item`'s picture: the pixels the Qwen processor gives
        (file bytes, a pixel-drawing region variant, resolution and processor limits) and the model
        (its fingerprint: weights, dtype, protocol, options); None when not cached."""
        if not self.sam_cache.enabled:
            return None
        picture = self.picture_key(item)
        return None if picture is None else self.sam_picture_key(picture)

    def sam_picture_key(self, picture: tuple) -> tuple:
        """The SAM key of a vision-cache picture key (`picture_key`)."""
        return ("sam", self.info.fingerprint, *picture)

    def sam_image_embeddings(self, prepared: Sequence[Prepared], items: Sequence[Item],
                             enc: dict[str, torch.Tensor]) -> torch.Tensor:
        """SAM's image embedding of every image row, in row order: a picture seen before from `sam_cache`,
        each other picture through SAM's image encoder once, from its processed pixels (then cached)."""
        rows = [(p, self.sam_key(item)) for p, item in zip(prepared, items) if p.shows_image]
        one_by_one = any(p.slot is None and p.image is not None for p, _ in rows)  # rows from `prepare`
        # the processed image of each row: rows prepared one by one have theirs in row order
        row_slots = list(range(len(rows))) if one_by_one else [p.slot for p, _ in rows]
        found: dict[tuple, torch.Tensor] = {}
        for key in dict.fromkeys(k for _, k in rows if k is not None):
            entry = self.sam_cache.get(key)
            if entry is not None:
                found[key] = entry
        first: dict[tuple, int] = {}  # picture -> the slot whose pixels are encoded for it
        slots: list[int] = []  # processed images to encode, in row order
        for (p, key), slot in zip(rows, row_slots):
            if key is not None and (key in found or key in first):
                continue
            if slot is None:  # prepared without pixels, counting on a cached embedding that is gone
                raise PictureEvicted(p.picture)
            if slot not in slots:
                slots.append(slot)
            if key is not None:
                first[key] = slot
        computed: dict[int, torch.Tensor] = {}
        if slots:
            grids = None
            if not one_by_one:  # the batch's grids list every image row, processed or not
                by_slot = {p.slot: p.grid for p, _ in rows if p.slot is not None}
                grids = [by_slot[i] for i in range(len(by_slot))]
            pixels = self.sam_pixels(enc, slots, grids)  # type: ignore[arg-type]
            computed = dict(zip(slots, self.stream.image_embeddings(pixels.to(self.device, self.dtype))))
            for key, slot in first.items():
                found[key] = computed[slot]
                self.sam_cache.put(key, computed[slot].clone())  # its own storage, not a view of the batch's
        return torch.stack([computed[slot] if key is None else found[key]  # type: ignore[index]
                            for (_, key), slot in zip(rows, row_slots)])

    def segmentation_tokens(self, prepared: Sequence[Prepared], items: Sequence[Item],
                            enc: dict[str, torch.Tensor]) -> torch.Tensor:
        embeddings = self.sam_image_embeddings(prepared, items, enc)
        return self.stream(None, self.sam_prompts(prepared, items), embeddings=embeddings)

    def lm_inputs(self, items: Sequence[Item], prepared: Sequence[Prepared], enc: dict[str, torch.Tensor]
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        embeds, attention_mask = self.input_embeddings(enc, prepared), enc["attention_mask"]
        batch, length = attention_mask.shape
        rows = [i for i, p in enumerate(prepared) if p.shows_image]
        if not rows:
            if self.official:
                return embeds, attention_mask, later_call_positions(batch, length, 0, embeds.device)
            return embeds, attention_mask, self.position_ids(enc)
        tokens = self.segmentation_tokens(prepared, items, enc).to(embeds.dtype)
        count = tokens.shape[1]
        text_rows = [i for i in range(batch) if i not in set(rows)]
        if self.official:
            joined = embeds.new_empty(batch, count + length, embeds.shape[-1])
            joined[rows] = torch.cat([tokens, embeds[rows]], dim=1)
            if text_rows:
                bos = self.embed_tokens(torch.full((count,), bos_token_id(self.model.config), device=embeds.device))
                joined[text_rows] = torch.cat([embeds[text_rows], bos.unsqueeze(0).expand(len(text_rows), -1, -1)], 1)
            mask = torch.cat([attention_mask.new_ones(batch, count), attention_mask], dim=1)
            return joined, mask, later_call_positions(batch, count + length, count, embeds.device)
        prefix = embeds.new_zeros(batch, count, embeds.shape[-1])
        prefix[rows] = tokens
        prefix_mask = attention_mask.new_zeros(batch, count)
        prefix_mask[rows] = 1
        positions = self.position_ids(enc)
        prefix_positions = positions.new_full((3, batch, count), SEGMENT_POSITION_ID)
        return (torch.cat([prefix, embeds], dim=1), torch.cat([prefix_mask, attention_mask], dim=1),
                torch.cat([prefix_positions, positions], dim=2))


def read_virtue_sam(path: str, revision: str | None) -> dict:
    config_file = checkpoint_file(path, "config.json", revision)
    if config_file is None:
        raise ScarError(f"{path}: no config.json")
    block = json.loads(config_file.read_text()).get("virtue_sam")
    if not isinstance(block, dict):
        raise ScarError(f"{config_file}: no 'virtue_sam' block; not a VIRTUE checkpoint (use --family vlm2vec?)")
    if block.get("enabled") is False:
        raise ScarError(f"{config_file}: virtue_sam.enabled is false; this checkpoint has no segmentation stream")
    return block


def load_virtue(spec: ModelSpec, variant: str | None, device: str = "cpu", dtype: str = "float32",
                model_path: str | None = None, image_resolution: str = "high", protocol: str | None = None,
                virtue_compat: str | None = None, sam_checkpoint: str | None = None, sam_config: str | None = None,
                image_token: str = QWEN_IMAGE_TOKEN, min_pixels: int | None = VIRTUE_MIN_PIXELS,
                max_pixels: int | None = VIRTUE_MAX_PIXELS, attn_implementation: str | None = None,
                vision_cache_mb: float = DEFAULT_BUDGET_MB, sam_cache_mb: float = DEFAULT_BUDGET_MB,
                **unused: Any) -> VirtueEmbedder:
    if unused:
        raise ScarError(f"{spec.name}: unknown option(s) {', '.join(sorted(unused))}")
    if protocol is not None and virtue_compat is not None and protocol != virtue_compat:
        raise ScarError(f"protocol {protocol!r} and virtue_compat {virtue_compat!r} disagree; pass one")
    protocol = check_protocol(protocol or virtue_compat or OFFICIAL_PROTOCOL)
    path = model_path or spec.hf_id
    revision = None if model_path and Path(model_path).is_dir() else spec.revision
    require_hub_model(path, revision)
    block = read_virtue_sam(path, revision)
    connector_file = checkpoint_file(path, CONNECTOR_FILE, revision)
    if connector_file is None:
        raise ScarError(f"{path}: {CONNECTOR_FILE} not found beside the weights")
    model_dir = Path(path) if Path(path).is_dir() else None
    config_file, sam_file = resolve_sam_files(model_dir, block, sam_checkpoint, sam_config)
    torch_type = torch_dtype(dtype)
    model, processor = load_qwen2vl(path, revision, torch_type, device, None, attn_implementation,
                                    pil=protocol == OFFICIAL_PROTOCOL)
    sam = build_sam(config_file, sam_file)
    connector = load_connector(connector_file, int(sam.sam_prompt_encoder.embed_dim),
                               int(model.config.text_config.hidden_size))
    stream = SegmentationStream(sam, connector, int(block.get("points_per_side", 3))).to(device, torch_type).eval()
    options = {"variant": variant, "image_resolution": image_resolution, "virtue_compat": protocol,
               "image_token": image_token, "min_pixels": min_pixels, "max_pixels": max_pixels,
               "sam_checkpoint": str(sam_file), "sam_config": str(config_file),
               "image_processor": type(processor.image_processor).__name__}
    info = EmbedderInfo(name=display_name(spec, variant), model_id=path, revision=revision or "",
                        family=spec.family, dtype=dtype, device=device, options=options, protocol=protocol)
    return VirtueEmbedder(info.name, model, processor, info, variant, image_resolution, image_token, min_pixels,
                          max_pixels, protocol=protocol, stream=stream, vision_cache_mb=vision_cache_mb,
                          sam_cache_mb=sam_cache_mb)
