"""The Qwen2-VL embedding core shared by VLM2Vec (`baselines.vlm2vec`) and VIRTUE (`evaluators.models.virtue`).

What an item becomes, in both protocols (TIGER-AI-Lab/VLM2Vec v1 and sony/virtue do the same):
  - the region variant (`evaluators.models.regions`) is applied; `boxtext` is the default for VLMs;
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

A video (an Item with `frames`, MMEB-V2) is shown as VLM2Vec-V2 shows it (`evaluators.models.qwen2vl_video`):
`<|video_pad|>` where the image token would be, expanded to one token per merged patch of the frames
paired into temporal patches; its rows go through the vision tower like an image's and their features
fill the video-pad slots; positions and pooling as for images. A model with `reads_video` False (VIRTUE)
is shown the item's `image`, the middle frame, instead.

The vision tower runs once per picture (`evaluators.models.vision_cache`): its output is kept, by the file's
bytes and the region drawing, and reused for every later item showing that picture (another question,
another instruction, another task), exactly as computed. Where the model needs nothing but the tower's
output from an image (`needs_pixels` False: VLM2Vec; VIRTUE while it keeps SAM's image embeddings
too), such an item's image is not even decoded again: its image-pad run is expanded to the known grid
and the text tokenised alone, which gives the processor's very token ids. A subclass decides which
pictures count as known (`known_grid`: VIRTUE's need SAM's embedding cached as well) and gives the
image's size where it needs it without the pixels (`frame_size`). Option `vision_cache_mb` (0 disables).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from evaluators.models.preprocess import ImageWorkers, UsesImageWorkers, worker_count
from evaluators.models.protocol import FIXED_PROTOCOL, IMAGE_TOKEN, OFFICIAL_PROTOCOL, EmbedderInfo, Item, check_protocol
from evaluators.models.qwen2vl_video import resize_frame, video_pixels
from evaluators.models.regions import apply_region, load_image
from evaluators.models.vision_cache import DEFAULT_BUDGET_MB, FeatureCache, picture_key, video_key
from scar.core.errors import ScarError

QWEN_IMAGE_TOKEN = "<|image_pad|>"
QWEN_VIDEO_TOKEN = "<|video_pad|>"
RESOLUTIONS = {"high": 1344, "mid": 672, "low": 128, "original": None}
SPLIT_MIN_TOKENS = 512  # on a CPU, padded batches at least this long run one row length at a time
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


class PictureEvicted(LookupError):
    """A row counted on a cached tower output that is no longer cached."""


@dataclass
class Prepared:
    """One item as the model will see it."""

    text: str
    image: Image.Image | None  # after the region variant and the resolution resize
    original_size: tuple[int, int] | None  # (w, h) of the image file, the frame of the item's region
    picture: tuple | None = None  # the vision-cache key of the image (None: no image, or not cacheable)
    grid: tuple[int, int, int] | None = None  # (t, h, w) patches, known without pixels for a cached picture
    slot: int | None = None  # index of this row's image among the batch's processed images
    frames: list[Image.Image] | None = None  # a video's frames, decoded and resolution-resized
    video: bool = False  # the row shows a video (its token is <|video_pad|>)

    @property
    def shows_image(self) -> bool:
        """The row has a visual input (an image or a video) whose features fill its pad slots."""
        return self.image is not None or self.grid is not None or self.frames is not None


@dataclass
class PicturePipeline:
    """One picture's CPU work, picklable for `evaluators.models.preprocess` workers: decode, region variant,
    resolution resize, image processor -> (pixel_values, (t, h, w) patch grid). With `reads_video`, an
    item with frames is a video: its frames are decoded and turned into video rows instead."""

    variant: str | None
    image_resolution: str
    image_processor: Any
    size: dict | None
    reads_video: bool = False

    def __call__(self, item: Item) -> tuple[torch.Tensor, tuple[int, int, int]]:
        if self.reads_video and item.frames:
            side = RESOLUTIONS[self.image_resolution]
            return video_pixels([resize_frame(load_image(f), side) for f in item.frames], self.image_processor,
                                self.size)
        image, _ = apply_region(load_image(item.image), item.text, item, self.variant)  # type: ignore[arg-type]
        image = resize_for_resolution(image, self.image_resolution)
        kwargs = {"size": self.size} if self.size is not None else {}
        out = self.image_processor(images=[image], return_tensors="pt", **kwargs)
        return out["pixel_values"], tuple(int(v) for v in out["image_grid_thw"][0])  # type: ignore[return-value]


class Qwen2VLEmbedder(UsesImageWorkers):
    family = "vlm2vec"
    batch_dependent = False
    needs_pixels = False  # True: every image row needs its processed pixels (VIRTUE's SAM, uncached, reads them)
    reads_video = True  # an item with frames is shown as a video; False: its middle frame, as an image
    video_token = QWEN_VIDEO_TOKEN

    def __init__(self, name: str, model: Any, processor: Any, info: EmbedderInfo, variant: str | None,
                 image_resolution: str = "high", image_token: str = QWEN_IMAGE_TOKEN,
                 min_pixels: int | None = None, max_pixels: int | None = None,
                 protocol: str = OFFICIAL_PROTOCOL, vision_cache_mb: float = DEFAULT_BUDGET_MB,
                 preprocess_workers: int | str | None = "auto") -> None:
        self.vision_cache = FeatureCache(vision_cache_mb)
        self._promised: dict[tuple, tuple[int, int, int]] = {}  # picture -> grid, cached once its batch runs
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
        self.workers = ImageWorkers(worker_count(preprocess_workers, info.device))

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
    def shows_video(self, item: Item) -> bool:
        return self.reads_video and bool(item.frames)

    def prepare(self, item: Item) -> Prepared:
        if self.shows_video(item):
            _, text = apply_region(None, item.text, item, self.variant)
            side = RESOLUTIONS[self.image_resolution]
            return Prepared(text=self.text_with_image(text, self.video_token), image=None, original_size=None,
                            frames=[resize_frame(load_image(f), side) for f in item.frames], video=True)
        image = load_image(item.image) if item.image else None
        original_size = image.size if image is not None else None
        image, text = apply_region(image, item.text, item, self.variant)
        if image is None:
            return Prepared(text=text.replace(IMAGE_TOKEN, ""), image=None, original_size=original_size)
        return Prepared(text=self.text_with_image(text), image=resize_for_resolution(image, self.image_resolution),
                        original_size=original_size)

    def text_with_image(self, text: str, token: str | None = None) -> str:
        """The item's text with the model's image token (or `token`) where `<|image_1|>` is (first when absent)."""
        token = token or self.image_token
        return text.replace(IMAGE_TOKEN, token) if IMAGE_TOKEN in text else f"{token} {text}"

    def visual_pixels(self, prepared: Sequence[Prepared]) -> list[torch.Tensor]:
        """Each visual row's processed pixels, in row order; sets every such row's grid."""
        pixels = []
        for p in prepared:
            if p.frames is not None:
                rows, p.grid = video_pixels(p.frames, self.processor.image_processor, self.size)
            elif p.image is not None:
                kwargs = {"size": self.size} if self.size is not None else {}
                out = self.processor.image_processor(images=[p.image], return_tensors="pt", **kwargs)
                rows, p.grid = out["pixel_values"], tuple(int(v) for v in out["image_grid_thw"][0])
            else:
                continue
            pixels.append(rows)
        return pixels

    def process(self, prepared: Sequence[Prepared], to_device: bool = True) -> dict[str, torch.Tensor]:
        if any(p.video for p in prepared):  # the processor takes no videos here: rows built as with a cache
            enc = self.process_known(prepared, self.visual_pixels(prepared))
            return enc if not to_device else {key: value.to(self.device) for key, value in enc.items()}
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

    def process_known(self, prepared: Sequence[Prepared], pixels: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
        """`process` by hand for rows whose patch grid is known: `pixels` are the new pictures' processed
        pixels, one tensor per slot; a row showing a cached picture has a grid and no pixels."""
        enc: dict[str, torch.Tensor] = {}
        if pixels:
            enc["pixel_values"] = torch.cat(list(pixels), dim=0)
        merge = int(self.processor.image_processor.merge_size) ** 2
        tokens_of = {False: self.processor.image_token, True: self.processor.video_token}
        texts = [p.text.replace(tokens_of[p.video], tokens_of[p.video] * (p.grid[0] * p.grid[1] * p.grid[2] // merge), 1)
                 if p.grid is not None else p.text for p in prepared]
        tokens = self.processor.tokenizer(texts, padding=True, return_tensors="pt")
        enc["input_ids"], enc["attention_mask"] = tokens["input_ids"], tokens["attention_mask"]
        enc["mm_token_type_ids"] = torch.tensor(self.processor.create_mm_token_type_ids(tokens["input_ids"].tolist()),
                                                dtype=tokens["input_ids"].dtype)
        if any(p.grid is not None for p in prepared):
            # every visual row's grid, videos included, in row order: what the vision tower takes
            enc["image_grid_thw"] = torch.tensor([p.grid for p in prepared if p.grid is not None], dtype=torch.long)
        if any(p.video for p in prepared):
            enc["visual_is_video"] = torch.tensor([p.video for p in prepared if p.grid is not None], dtype=torch.bool)
        return enc

    # -- model steps (stock transformers modules, called one by one) --
    def embed_tokens(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model.model.get_input_embeddings()(input_ids)

    def tower(self, pixel_values: torch.Tensor, grid_thw: torch.Tensor) -> list[torch.Tensor]:
        """The vision tower's merged features, one (tokens, hidden) tensor per image."""
        out = self.model.model.get_image_features(pixel_values, grid_thw, return_dict=True)
        return list(out.pooler_output)

    def image_features(self, enc: dict[str, torch.Tensor], prepared: Sequence[Prepared] | None) -> torch.Tensor:
        """Features of every image row, in order: from the cache, else from the tower (then cached)."""
        rows = [p for p in prepared or () if p.shows_image]
        if prepared is None or not self.vision_cache.enabled or any(p.slot is None and p.picture is None for p in rows):
            # rows prepared one by one (`prepare`): every image's pixels are in `enc`, in row order
            return torch.cat(self.tower(enc["pixel_values"], enc["image_grid_thw"]), dim=0)
        found: dict[Any, torch.Tensor] = {}
        for p in rows:
            entry = self.vision_cache.get(p.picture) if p.picture not in found else None
            if entry is not None:
                found[p.picture] = entry[1]
        wanted: dict[Any, int] = {}  # picture (or row id when not cacheable) -> slot to compute
        computed: dict[int, torch.Tensor] = {}
        for p in rows:
            if p.picture is None or p.picture not in found:
                if p.slot is None:
                    raise PictureEvicted(p.picture)
                wanted.setdefault(p.picture if p.picture is not None else id(p), p.slot)
        if wanted:
            grids = {p.slot: p.grid for p in rows if p.slot is not None}
            sizes = [t * h * w for t, h, w in (grids[i] for i in range(len(grids)))]
            starts = [sum(sizes[:i]) for i in range(len(sizes))]
            slots = sorted(set(wanted.values()))
            pixels = torch.cat([enc["pixel_values"][starts[i]:starts[i] + sizes[i]] for i in slots])
            grid = torch.tensor([grids[i] for i in slots], dtype=torch.long, device=pixels.device)
            computed.update(zip(slots, self.tower(pixels, grid)))
            for key, slot in wanted.items():
                if isinstance(key, tuple):
                    found[key] = computed[slot]
                    self.vision_cache.put(key, (grids[slot], computed[slot]))
                    self._promised.pop(key, None)
        return torch.cat([found[p.picture] if p.picture is not None else computed[p.slot] for p in rows], dim=0)

    def input_embeddings(self, enc: dict[str, torch.Tensor], prepared: Sequence[Prepared] | None = None) -> torch.Tensor:
        core = self.model.model
        embeds = self.embed_tokens(enc["input_ids"])
        if "image_grid_thw" in enc:
            features = self.image_features(enc, prepared).to(embeds.device, embeds.dtype)
            if "visual_is_video" in enc:  # image and video pad slots, filled in row order
                ids, config = enc["input_ids"], self.model.config
                slots = (ids == config.image_token_id) | (ids == config.video_token_id)
                if int(slots.sum()) != features.shape[0]:
                    raise ScarError(f"{int(slots.sum())} image/video pad tokens for {features.shape[0]} visual features")
                image_mask = slots.unsqueeze(-1).expand_as(embeds)
            else:
                image_mask, _ = core.get_placeholder_mask(enc["input_ids"], inputs_embeds=embeds, image_features=features)
            embeds = embeds.masked_scatter(image_mask, features)
        return embeds

    def position_ids(self, enc: dict[str, torch.Tensor]) -> torch.Tensor:
        """(3, batch, length) position ids of the processor's tokens, as the protocol computes them."""
        if self.official:
            return first_call_positions(enc["attention_mask"])
        grids, videos = enc.get("image_grid_thw"), enc.get("visual_is_video")
        image_grids, video_grids = grids, None
        if grids is not None and videos is not None:
            image_grids, video_grids = grids[~videos], grids[videos]
        position_ids, _ = self.model.model.get_rope_index(
            enc["input_ids"], mm_token_type_ids=enc["mm_token_type_ids"],
            image_grid_thw=image_grids if image_grids is not None and len(image_grids) else None,
            video_grid_thw=video_grids, attention_mask=enc["attention_mask"],
        )
        return position_ids

    def lm_inputs(self, items: Sequence[Item], prepared: Sequence[Prepared], enc: dict[str, torch.Tensor]
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(inputs_embeds, attention_mask, position_ids) for the language model; VIRTUE adds its tokens."""
        return self.input_embeddings(enc, prepared), enc["attention_mask"], self.position_ids(enc)

    def prepare_batch(self, items: Sequence[Item], reuse: bool = True
                      ) -> tuple[Sequence[Item], list[Prepared], dict[str, torch.Tensor]]:
        """Images decoded, regions applied, processor run (tensors stay on the CPU until forward).

        With `reuse` (and a model that needs nothing but the tower's output), a row whose picture is
        cached, or is computed by an earlier batch, gets no pixels; each new picture is processed once,
        by the preprocessing workers."""
        if not (self.vision_cache.enabled and reuse and not self.needs_pixels):
            return self.prepare_every_image(items)
        prepared: list[Prepared] = []
        slots: dict[tuple, int] = {}  # new picture -> slot of its pixels in this batch
        fresh: list[Item] = []
        for item in items:
            key = self.picture_key(item)
            if key is None:  # no image, or a file that cannot be read (the plain way reports it)
                prepared.append(self.prepare(item))
                continue
            _, text = apply_region(None, item.text, item, self.variant)
            video = self.shows_video(item)
            p = Prepared(text=self.text_with_image(text, self.video_token if video else None), image=None,
                         original_size=self.frame_size(item), picture=key, grid=self.known_grid(key), video=video)
            if p.grid is None:
                if key not in slots:
                    slots[key] = len(fresh)
                    fresh.append(item)
                p.slot = slots[key]
            prepared.append(p)
        pipeline = PicturePipeline(self.variant, self.image_resolution, self.processor.image_processor, self.size,
                                   self.reads_video)
        results = self.workers.map(pipeline, fresh)
        for p in prepared:
            if p.slot is not None:
                p.grid = results[p.slot][1]
        enc = self.process_known(prepared, [pixels for pixels, _ in results])
        for key, slot in slots.items():
            self._promised[key] = results[slot][1]  # cached once this batch's forward has run
        return items, prepared, enc

    def prepare_every_image(self, items: Sequence[Item]) -> tuple[Sequence[Item], list[Prepared], dict[str, torch.Tensor]]:
        """Every row's image decoded and processed (the tower may still skip cached pictures)."""
        cache = self.vision_cache.enabled
        prepared = []
        count = 0
        for item in items:
            p = self.prepare(item)
            if p.image is not None or p.frames is not None:
                p.picture = self.picture_key(item) if cache else None
                p.slot, count = count, count + 1
            prepared.append(p)
        enc = self.process(prepared, to_device=False)
        grids = [tuple(int(v) for v in g) for g in enc.get("image_grid_thw", [])]
        for p in prepared:
            if p.slot is not None:
                p.grid = grids[p.slot]  # type: ignore[assignment]
        return items, prepared, enc

    def picture_key(self, item: Item) -> tuple | None:
        size = None if self.size is None else tuple(sorted(self.size.items()))
        if self.shows_video(item):
            return video_key(item, (self.image_resolution, size))
        return picture_key(item, self.variant, (self.image_resolution, size))

    def frame_size(self, item: Item) -> tuple[int, int] | None:
        """(w, h) of `item`'s image file for a row prepared without decoding it; None: not needed here."""
        return None

    def known_grid(self, picture: tuple | None) -> tuple[int, int, int] | None:
        """The patch grid of a picture whose tower output is cached or promised, else None."""
        if picture is None:
            return None
        entry = self.vision_cache.peek(picture)
        return entry[0] if entry is not None else self._promised.get(picture)

    def forward_batch(self, batch: tuple[Sequence[Item], list[Prepared], dict[str, torch.Tensor]]) -> torch.Tensor:
        items, prepared, enc = batch
        try:
            return self.forward_prepared(items, prepared, enc)
        except PictureEvicted:  # a picture left the cache before this batch ran: prepare it again, in full
            for p in prepared:
                if p.picture is not None:
                    self._promised.pop(p.picture, None)
            return self.forward_prepared(*self.prepare_batch(items, reuse=False))

    def forward_prepared(self, items: Sequence[Item], prepared: list[Prepared], enc: dict[str, torch.Tensor]
                         ) -> torch.Tensor:
        enc = {key: value.to(self.device) for key, value in enc.items()}
        with torch.inference_mode():
            embeds, attention_mask, position_ids = self.lm_inputs(items, prepared, enc)
            return F.normalize(self.last_hidden(embeds, attention_mask, position_ids).float(), dim=-1).cpu()

    def last_hidden(self, embeds: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor
                    ) -> torch.Tensor:
        """The language model's final hidden state at the last position of every row (left padding).

        On a CPU, a padded batch of long rows runs as one call per row length, cut to that length: no
        padding, so attention takes sdpa's causal kernel instead of a masked one (measured 1.5x faster
        at 2330 tokens), and no compute is spent on padding. Rows do not see each other either way, so
        the embeddings are the same to float rounding. Not for models whose rows depend on the batch."""
        lm = self.model.model.language_model
        lengths = attention_mask.sum(-1)
        split = (embeds.device.type == "cpu" and not self.batch_dependent and attention_mask.shape[1] >= SPLIT_MIN_TOKENS
                 and bool((lengths != attention_mask.shape[1]).any())
                 # every row's real tokens are its last `length` positions (VIRTUE's masked slots are not)
                 and bool((attention_mask.flip(-1).cumprod(-1).sum(-1) == lengths).all()))
        if not split:
            out = lm(inputs_embeds=embeds, attention_mask=attention_mask, position_ids=position_ids, use_cache=False)
            return out.last_hidden_state[:, -1]
        last = embeds.new_empty(embeds.shape[0], embeds.shape[-1])
        for n in sorted(set(lengths.tolist())):
            rows = (lengths == n).nonzero().flatten()
            out = lm(inputs_embeds=embeds[rows, -n:], attention_mask=attention_mask[rows, -n:],
                     position_ids=position_ids[:, rows, -n:], use_cache=False)
            last[rows] = out.last_hidden_state[:, -1]
        return last

    def embed_batch(self, items: Sequence[Item]) -> torch.Tensor:
        return self.forward_batch(self.prepare_batch(items))

    def encode(self, items: Sequence[Item], batch_size: int) -> torch.Tensor:
        if not items:
            return torch.empty(0, self.model.config.text_config.hidden_size)
        with torch.inference_mode():
            return torch.cat([self.embed_batch(items[i:i + batch_size])
                              for i in range(0, len(items), max(1, batch_size))])


__all__ = ["QWEN_IMAGE_TOKEN", "QWEN_VIDEO_TOKEN", "RESOLUTIONS", "FIXED_PROTOCOL", "OFFICIAL_PROTOCOL", "PictureEvicted", "Prepared",
           "Qwen2VLEmbedder",
           "first_call_positions", "later_call_positions", "resize_for_resolution"]
