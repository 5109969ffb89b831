"""The Qwen2-VL embedding core shared by VLM2Vec (`baselines.vlm2vec`) and VIRTUE (`evaluators.virtue`).

What an item becomes, in both protocols (TIGER-AI-Lab/VLM2Vec v1 and sony/virtue do the same):
  - the region variant (`evaluators.regions`) is applied; `boxtext` is the default for VLMs;
  - the image is resized to 1344x1344 first (`image_resolution="high"`, V1 eval; "mid" 672, "low" 128,
    "original" keeps it), images under 28 px on a side become 56x56;
  - the Phi-3.5-V image token `<|image_1|>` in the text becomes Qwen2-VL's `<|image_pad|>`, which the
    processor expands to one token per merged patch. The official code uses the bare `<|image_pad|>`
    (no `<|vision_start|>`/`<|vision_end|>`); option `image_token` changes it. No chat template;
  - the processor batches with left padding; image features are scattered into the image-pad slots,
    the language model runs on `inputs_embeds`, and the last position's final (normed) hidden state,
    L2-normalised, is the embedding.

Where the protocols differ (`protocol`):
  official  position ids are plain 1-D: the official code's vendored `get_rope_index` counts an image
            only where `<|vision_start|>` precedes it, and the prompt has a bare `<|image_pad|>`, so
            every token, image tokens included, gets `cumsum(attention_mask) - 1` (padding at 1)
            (VLM2Vec v1 28fdbdd `src/vlm_backbone/qwen2_vl/modeling_qwen2_vl.py:1392` `get_rope_index`,
            its `<|vision_start|>` test at :1459, and its call at :1698-1712). Later forward calls of the official
            eval reuse the cached `rope_deltas` and take `arange(padded length)` instead: that shifts
            each row by its pad count, which rotary attention does not see beyond float rounding
            (<= 5e-6 measured), so rows stay independent of their batch here. Images are resized with
            PIL (the processor's PIL backend), as transformers 4.x did.
  fixed     the Multimodal RoPE ids Qwen2-VL was designed with (the model's own `get_rope_index`:
            3-D positions over the image grid), and transformers' default (torchvision) resizing.
A subclass adds tokens between these steps by overriding `lm_inputs` (VIRTUE's segmentation stream).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from evaluators.protocol import FIXED_PROTOCOL, IMAGE_TOKEN, OFFICIAL_PROTOCOL, EmbedderInfo, Item, check_protocol
from evaluators.regions import apply_region, load_image
from scar.errors import ScarError

QWEN_IMAGE_TOKEN = "<|image_pad|>"
RESOLUTIONS = {"high": 1344, "mid": 672, "low": 128, "original": None}
MIN_SIDE = 28  # smaller images are blown up to 56x56, as the official processing does


def resize_for_resolution(image: Image.Image, resolution: str) -> Image.Image:
    if resolution not in RESOLUTIONS:
        raise ScarError(f"unknown image_resolution {resolution!r}; choose from {', '.join(RESOLUTIONS)}")
    side = RESOLUTIONS[resolution]
    if side is not None:
        image = image.resize((side, side))  # PIL's default filter (bicubic), as the V1 code
    if image.width < MIN_SIDE or image.height < MIN_SIDE:
        image = image.resize((2 * MIN_SIDE, 2 * MIN_SIDE))
    return image


def first_call_positions(attention_mask: torch.Tensor) -> torch.Tensor:
    """The official 1-D position ids, (3, batch, length): `cumsum(mask) - 1` on real tokens, 1 on padding."""
    mask = attention_mask.long()
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    return positions.unsqueeze(0).expand(3, -1, -1)


def later_call_positions(batch: int, length: int, zero_prefix: int, device: torch.device) -> torch.Tensor:
    """The official position ids once `rope_deltas` is cached: `arange(length)` for every row of the
    padded batch, its first `zero_prefix` slots (VIRTUE's segmentation tokens) set to 0."""
    positions = torch.arange(length, device=device).view(1, 1, -1).expand(3, batch, -1).clone()
    positions[:, :, :zero_prefix] = 0
    return positions


@dataclass
class Prepared:
    """One item as the model will see it."""

    text: str
    image: Image.Image | None  # after the region variant and the resolution resize
    original_size: tuple[int, int] | None  # (w, h) of the image file, the frame of the item's region


class Qwen2VLEmbedder:
    family = "vlm2vec"
    batch_dependent = False

    def __init__(self, name: str, model: Any, processor: Any, info: EmbedderInfo, variant: str | None,
                 image_resolution: str = "high", image_token: str = QWEN_IMAGE_TOKEN,
                 min_pixels: int | None = None, max_pixels: int | None = None,
                 protocol: str = OFFICIAL_PROTOCOL) -> None:
        self.name = name
        self.info = info
        self.model = model
        self.processor = processor
        self.variant = variant
        self.image_resolution = image_resolution
        self.image_token = image_token
        self.protocol = check_protocol(protocol)
        self.size = None  # processor pixel limits; None keeps the checkpoint processor's own
        if min_pixels is not None or max_pixels is not None:
            size = dict(processor.image_processor.size)
            if min_pixels is not None:
                size["shortest_edge"] = int(min_pixels)
            if max_pixels is not None:
                size["longest_edge"] = int(max_pixels)
            self.size = size
        resize_for_resolution(Image.new("RGB", (1, 1)), image_resolution)  # validates the option

    @property
    def official(self) -> bool:
        return self.protocol == OFFICIAL_PROTOCOL

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    # -- item -> text/image --
    def prepare(self, item: Item) -> Prepared:
        image = load_image(item.image) if item.image else None
        original_size = image.size if image is not None else None
        image, text = apply_region(image, item.text, item, self.variant)
        if image is None:
            text = text.replace(IMAGE_TOKEN, "")
        else:
            image = resize_for_resolution(image, self.image_resolution)
            text = text.replace(IMAGE_TOKEN, self.image_token) if IMAGE_TOKEN in text else f"{self.image_token} {text}"
        return Prepared(text=text, image=image, original_size=original_size)

    def process(self, prepared: Sequence[Prepared], to_device: bool = True) -> dict[str, torch.Tensor]:
        images = [p.image for p in prepared if p.image is not None]
        kwargs: dict[str, Any] = {"padding": True, "return_tensors": "pt"}
        if images:
            kwargs["images"] = images
            if self.size is not None:
                kwargs["size"] = self.size
        encoded = self.processor(text=[p.text for p in prepared], **kwargs)
        if not to_device:
            return dict(encoded)
        return {key: value.to(self.device) for key, value in encoded.items()}

    # -- model steps (stock transformers modules, called one by one) --
    def embed_tokens(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model.model.get_input_embeddings()(input_ids)

    def input_embeddings(self, enc: dict[str, torch.Tensor]) -> torch.Tensor:
        core = self.model.model
        embeds = self.embed_tokens(enc["input_ids"])
        if "pixel_values" in enc:
            features = core.get_image_features(enc["pixel_values"], enc["image_grid_thw"], return_dict=True)
            features = torch.cat(features.pooler_output, dim=0).to(embeds.device, embeds.dtype)
            image_mask, _ = core.get_placeholder_mask(enc["input_ids"], inputs_embeds=embeds, image_features=features)
            embeds = embeds.masked_scatter(image_mask, features)
        return embeds

    def position_ids(self, enc: dict[str, torch.Tensor]) -> torch.Tensor:
        """(3, batch, length) position ids of the processor's tokens, as the protocol computes them."""
        if self.official:
            return first_call_positions(enc["attention_mask"])
        position_ids, _ = self.model.model.get_rope_index(
            enc["input_ids"], mm_token_type_ids=enc["mm_token_type_ids"],
            image_grid_thw=enc.get("image_grid_thw"), attention_mask=enc["attention_mask"],
        )
        return position_ids

    def lm_inputs(self, items: Sequence[Item], prepared: Sequence[Prepared], enc: dict[str, torch.Tensor]
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(inputs_embeds, attention_mask, position_ids) for the language model; VIRTUE adds its tokens."""
        return self.input_embeddings(enc), enc["attention_mask"], self.position_ids(enc)

    def prepare_batch(self, items: Sequence[Item]) -> tuple[Sequence[Item], list[Prepared], dict[str, torch.Tensor]]:
        """Images decoded, regions applied, processor run (tensors stay on the CPU until forward)."""
        prepared = [self.prepare(item) for item in items]
        return items, prepared, self.process(prepared, to_device=False)

    def forward_batch(self, batch: tuple[Sequence[Item], list[Prepared], dict[str, torch.Tensor]]) -> torch.Tensor:
        items, prepared, enc = batch
        enc = {key: value.to(self.device) for key, value in enc.items()}
        with torch.inference_mode():
            embeds, attention_mask, position_ids = self.lm_inputs(items, prepared, enc)
            out = self.model.model.language_model(
                inputs_embeds=embeds, attention_mask=attention_mask, position_ids=position_ids, use_cache=False)
            last = out.last_hidden_state[:, -1]  # left padding: the last position is every row's last token
            return F.normalize(last.float(), dim=-1).cpu()

    def embed_batch(self, items: Sequence[Item]) -> torch.Tensor:
        return self.forward_batch(self.prepare_batch(items))

    def encode(self, items: Sequence[Item], batch_size: int) -> torch.Tensor:
        if not items:
            return torch.empty(0, self.model.config.text_config.hidden_size)
        with torch.inference_mode():
            return torch.cat([self.embed_batch(items[i:i + batch_size])
                              for i in range(0, len(items), max(1, batch_size))])


__all__ = ["QWEN_IMAGE_TOKEN", "RESOLUTIONS", "FIXED_PROTOCOL", "OFFICIAL_PROTOCOL", "Prepared", "Qwen2VLEmbedder",
           "first_call_positions", "later_call_positions", "resize_for_resolution"]
