"""VIRTUE: Qwen2-VL (stock transformers) + SAM2.1 (stock sam2) + the trained connector.

The VLM half is `baselines.vlm2vec.Qwen2VLEmbedder` unchanged; this class only adds the segmentation
stream (`evaluators.virtue_sam`) through its `_extend_inputs` hook:
  - every item with an image gets (S/64)^2 segmentation tokens (256 for SAM2.1 at 1024) **prepended**
    to its input embeddings, after Qwen2-VL's image features are in the image-pad slots; the attention
    mask is extended with ones and the tokens' M-RoPE position ids are 0 in all three sections;
  - items without an image get none (in a batch that mixes both, they get that many masked-out slots,
    which changes nothing: attention never sees them and position ids are explicit);
  - the embedding is the last token's final hidden state (left padding), L2-normalised.
SAM's prompt comes from the item's own region (`box_xyxy`, `point_xy`, `mask_rle`, in original-image
pixels): box = corners labelled 2/3, point = label 1, mask = SAM `mask_input` (our extension); none =
the 3x3 grid of positive points. The region variant (default `boxtext`) still decides the text.

`virtue_compat` (`--virtue-compat`) chooses how faithfully to copy two quirks of the released code:
  fixed (default)  SAM sees the image the Qwen processor saw, in [0,1], resized to SxS (S = 1024)
                   and normalised once with SAM's mean/std; prompts are scaled from original-image
                   pixels to SAM's SxS frame (x * S / width, y * S / height).
  official         SAM sees the Qwen-*normalised* image (CLIP mean/std already applied), resized to
                   SxS and normalised again with SAM's mean/std; boxes reach SAM in original-image
                   pixels, unscaled, as if the image were already SxS (the eval Parquet's boxes are
                   passed straight through). Points are scaled as in `fixed`: the released demo, the
                   only code that passes points, scales them to the 1024 frame.
The two agree on text-only items, and on prompts whenever the image is exactly SxS; SAM's input
pixels differ for every image (the double normalisation). Use `official` to reproduce published
numbers, `fixed` for what the model was meant to compute.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import torch

from baselines.vlm2vec import (QWEN_IMAGE_TOKEN, Prepared, Qwen2VLEmbedder, _checkpoint_file, _display_name,
                               load_qwen2vl, torch_dtype)
from evaluators.protocol import EmbedderInfo, Item
from evaluators.registry import ModelSpec, register, register_family
from evaluators.virtue_sam import (BOX_LABELS, CONNECTOR_FILE, PAD_LABEL, POINT_LABEL, SamPrompt,
                                   SegmentationStream, build_sam, grid_prompt, load_connector, mask_logits,
                                   resolve_sam_files)
from scar.errors import ScarError

COMPAT_MODES = ("fixed", "official")
VIRTUE_MIN_PIXELS = 4 * 28 * 28  # the official eval's processor limits
VIRTUE_MAX_PIXELS = 1280 * 28 * 28
SEGMENT_POSITION_ID = 0


def build_prompt(item: Item, original_size: tuple[int, int], sam_size: int, compat: str = "fixed",
                 points_per_side: int = 3, mask_size: int = 256) -> SamPrompt:
    """SAM prompt for `item`, whose region is in pixels of an image of `original_size` (w, h)."""
    if compat not in COMPAT_MODES:
        raise ScarError(f"unknown virtue_compat {compat!r}; choose from {', '.join(COMPAT_MODES)}")
    width, height = original_size
    scale = torch.tensor([sam_size / width, sam_size / height], dtype=torch.float32)
    coords: list[torch.Tensor] = []
    labels: list[int] = []
    if item.box_xyxy is not None:
        box = torch.tensor(item.box_xyxy, dtype=torch.float32).view(2, 2)
        coords.append(box if compat == "official" else box * scale)
        labels += list(BOX_LABELS)
    if item.point_xy is not None:
        coords.append(torch.tensor(item.point_xy, dtype=torch.float32).view(1, 2) * scale)
        labels.append(POINT_LABEL)
    mask = mask_logits(item.mask_rle, mask_size) if item.mask_rle is not None else None
    if not coords:
        if mask is None:
            return grid_prompt(points_per_side, sam_size)
        # a mask alone: SAM2 itself pairs mask inputs with one padding point
        return SamPrompt(torch.zeros(1, 2), torch.tensor([PAD_LABEL], dtype=torch.int32), mask)
    return SamPrompt(torch.cat(coords), torch.tensor(labels, dtype=torch.int32), mask)


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


class VirtueEmbedder(Qwen2VLEmbedder):
    family = "virtue"

    def __init__(self, *args: Any, stream: SegmentationStream, compat: str = "fixed", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if compat not in COMPAT_MODES:
            raise ScarError(f"unknown virtue_compat {compat!r}; choose from {', '.join(COMPAT_MODES)}")
        from sam2.utils.transforms import SAM2Transforms

        self.stream = stream
        self.compat = compat
        self._sam_resize_normalise = SAM2Transforms(resolution=stream.size, mask_threshold=0.0).transforms

    def sam_pixels(self, enc: dict[str, torch.Tensor]) -> torch.Tensor:
        """SAM's input for every image of the batch, from the exact pixels the Qwen processor produced."""
        proc = self.processor.image_processor
        images = unpatchify(enc["pixel_values"].float(), enc["image_grid_thw"], proc.patch_size, proc.merge_size,
                            proc.temporal_patch_size)
        mean = torch.tensor(proc.image_mean, device=images[0].device).view(-1, 1, 1)
        std = torch.tensor(proc.image_std, device=images[0].device).view(-1, 1, 1)
        if self.compat == "fixed":
            images = [image * std + mean for image in images]  # undo the CLIP normalisation: back to [0,1]
        return torch.stack([self._sam_resize_normalise(image) for image in images])

    def sam_prompts(self, prepared: Sequence[Prepared], items: Sequence[Item]) -> list[SamPrompt]:
        return [build_prompt(item, p.original_size, self.stream.size, self.compat, self.stream.points_per_side,
                             self.stream.mask_input_size)
                for p, item in zip(prepared, items) if p.image is not None and p.original_size is not None]

    def segmentation_tokens(self, prepared: Sequence[Prepared], items: Sequence[Item],
                            enc: dict[str, torch.Tensor]) -> torch.Tensor:
        pixels = self.sam_pixels(enc).to(self.device, self.dtype)
        return self.stream(pixels, self.sam_prompts(prepared, items))

    def _extend_inputs(self, prepared: Sequence[Prepared], items: Sequence[Item], enc: dict[str, torch.Tensor],
                       embeds: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rows = [i for i, p in enumerate(prepared) if p.image is not None]
        if not rows:
            return embeds, attention_mask, position_ids
        tokens = self.segmentation_tokens(prepared, items, enc).to(embeds.dtype)
        batch, count = embeds.shape[0], tokens.shape[1]
        prefix = embeds.new_zeros(batch, count, embeds.shape[-1])
        prefix[rows] = tokens
        prefix_mask = attention_mask.new_zeros(batch, count)
        prefix_mask[rows] = 1
        prefix_positions = position_ids.new_full((3, batch, count), SEGMENT_POSITION_ID)
        return (torch.cat([prefix, embeds], dim=1), torch.cat([prefix_mask, attention_mask], dim=1),
                torch.cat([prefix_positions, position_ids], dim=2))


def read_virtue_sam(path: str, revision: str | None) -> dict:
    config_file = _checkpoint_file(path, "config.json", revision)
    if config_file is None:
        raise ScarError(f"{path}: no config.json")
    block = json.loads(config_file.read_text()).get("virtue_sam")
    if not isinstance(block, dict):
        raise ScarError(f"{config_file}: no 'virtue_sam' block; not a VIRTUE checkpoint (use --family vlm2vec?)")
    if block.get("enabled") is False:
        raise ScarError(f"{config_file}: virtue_sam.enabled is false; this checkpoint has no segmentation stream")
    return block


def load_virtue(spec: ModelSpec, variant: str | None, device: str = "cpu", dtype: str = "float32",
                model_path: str | None = None, image_resolution: str = "high", virtue_compat: str = "fixed",
                sam_checkpoint: str | None = None, sam_config: str | None = None,
                image_token: str = QWEN_IMAGE_TOKEN, min_pixels: int | None = VIRTUE_MIN_PIXELS,
                max_pixels: int | None = VIRTUE_MAX_PIXELS, attn_implementation: str | None = None,
                **unused: Any) -> VirtueEmbedder:
    if unused:
        raise ScarError(f"{spec.name}: unknown option(s) {', '.join(sorted(unused))}")
    if virtue_compat not in COMPAT_MODES:
        raise ScarError(f"unknown virtue_compat {virtue_compat!r}; choose from {', '.join(COMPAT_MODES)}")
    path = model_path or spec.hf_id
    revision = None if model_path and Path(model_path).is_dir() else spec.revision
    block = read_virtue_sam(path, revision)
    connector_file = _checkpoint_file(path, CONNECTOR_FILE, revision)
    if connector_file is None:
        raise ScarError(f"{path}: {CONNECTOR_FILE} not found beside the weights")
    model_dir = Path(path) if Path(path).is_dir() else None
    config_file, checkpoint_file = resolve_sam_files(model_dir, block, sam_checkpoint, sam_config)
    torch_type = torch_dtype(dtype)
    model, processor = load_qwen2vl(path, revision, torch_type, device, None, attn_implementation)
    sam = build_sam(config_file, checkpoint_file)
    connector = load_connector(connector_file, int(sam.sam_prompt_encoder.embed_dim),
                               int(model.config.text_config.hidden_size))
    stream = SegmentationStream(sam, connector, int(block.get("points_per_side", 3))).to(device, torch_type).eval()
    options = {"variant": variant, "image_resolution": image_resolution, "virtue_compat": virtue_compat,
               "image_token": image_token, "min_pixels": min_pixels, "max_pixels": max_pixels,
               "sam_checkpoint": str(checkpoint_file), "sam_config": str(config_file)}
    info = EmbedderInfo(name=_display_name(spec, variant), model_id=path, revision=revision or "",
                        family=spec.family, dtype=dtype, device=device, options=options)
    return VirtueEmbedder(info.name, model, processor, info, variant, image_resolution, image_token, min_pixels,
                          max_pixels, stream=stream, compat=virtue_compat)


_LOADER = "evaluators.virtue:load_virtue"
register_family("virtue", _LOADER)
for _size in ("2b", "7b"):
    register(ModelSpec(
        name=f"virtue-{_size}",
        family="virtue",
        hf_id=f"Sony/VIRTUE-{_size.upper()}-SCaR",
        loader=_LOADER,
        defaults={"image_resolution": "high", "virtue_compat": "fixed"},
        default_region="boxtext",
        summary=f"VIRTUE-{_size.upper()} (SCaR-trained): Qwen2-VL-{_size.upper()} + SAM2.1 Hiera-B+ prompts",
        native_regions=("box", "point", "mask"),
    ))
