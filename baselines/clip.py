"""One dual-encoder embedder for CLIP, OpenCLIP (HF-format LAION checkpoints) and SigLIP.

Loaded with transformers `AutoModel` / `AutoProcessor.from_pretrained(path or hub id, revision)`,
so a local directory and a hub id take the same path.

What an item becomes:
  - image and text: the fusion rule `fusion` (default "sum");
  - image only:     the image embedding (also image + empty text);
  - text only:      the text embedding (also for an item with neither: the embedding of "").
Fusion rules:
  - "sum"  (default) the raw projected image features plus the raw projected text features, then
           L2-normalised: what VLM2Vec v1's MMEB evaluation of CLIP/SigLIP/OpenCLIP does in its
           "multimodal" mode (`evaluation/eval_clip.py`, `eval_siglip.py`, `eval_openclip.py` sum the
           image and text features; scores are cosines);
  - "mean" the mean of the L2-normalised image and text embeddings (each modality weighs the same);
  - "image" the image embedding alone, the instruction text ignored.
The region variant (crop / circle / boxtext) is applied by evaluators.models.regions before any of this.
Every output row is L2-normalised, float32, on CPU.
The image tower's output is kept per picture (`evaluators.models.vision_cache`, option `image_cache_mb`, 0
disables it) and reused for every later item showing it: a picture under several instructions is
decoded and encoded once, with exactly the numbers of that first encode.

Protocols (`protocol`), against VLM2Vec v1 (28fdbdd) `evaluation/eval_{clip,siglip,openclip}.py` with
`src/collator.py` (`CLIPCollator` :375-417, its text at :400 and mask at :406; `OpenCLIPCollator` :421-461;
fusion at `eval_clip.py:102,130`, `eval_siglip.py:103`; OpenCLIP's unmasked `encode_text` at `eval_openclip.py:89`):
  official  the text reaches the tokenizer as stored, the Phi-3.5-V token `<|image_1|>` included (the
            collators never remove it), truncated to 77 tokens (`--max_len 77`; SigLIP: its 64 positions).
            CLIP and SigLIP (`CLIPCollator`): the attention mask is `input_ids != pad_token_id`; their
            tokenizers pad with the end-of-text token, so the end-of-text token itself is hidden from
            attention. SigLIP pools the last position, so a text right-padded inside a batch would be
            pooled on padding that depends on the batch (the official batches come from a hash-ordered
            set, which no run can reproduce): each text is encoded at its own length, as if alone.
            OpenCLIP (`OpenCLIPCollator`, open_clip's `encode_text`): no padding mask, causal attention,
            pooled at the end-of-text token; the same here through transformers. Its texts are cleaned
            as open_clip's SimpleTokenizer cleans them before the (same) BPE: `ftfy.fix_text`, HTML
            entities unescaped twice, whitespace collapsed, lower case (`open_clip_text`), which the
            transformers tokenizer does not do (curly quotes, `&amp;`, ligatures, mojibake).
  fixed     `<|image_1|>` removed and whitespace trimmed; the tokenizer's own attention mask; SigLIP
            padded to the fixed 64 tokens it was trained with.
Images: the official protocol resizes with PIL (the image processor's PIL backend), as transformers
4.x did; fixed takes transformers' default (torchvision) backend. The two differ by ~5e-4.
OpenCLIP's official protocol runs open_clip's eval transform instead (`OpenClipTransform`): the picture
in its file's mode (the collator converts only L to RGB), shortest side resized with PIL bicubic, a
centre crop whose offset is rounded (transformers floors it: a one-pixel shift when the margin is
3 mod 4), then RGB (after the resize: RGBA/LA resize premultiplied, P resizes nearest-neighbour).
Either way an embedding does not depend on what else is in the batch.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from evaluators.models.hub import require_hub_model
from evaluators.models.preprocess import ImageWorkers, UsesImageWorkers, worker_count
from evaluators.models.protocol import IMAGE_TOKEN, OFFICIAL_PROTOCOL, EmbedderInfo, Item, check_protocol
from evaluators.models.regions import apply_region, check_variant, load_image, prepare
from evaluators.models.spec import ModelSpec
from evaluators.models.vision_cache import FeatureCache, picture_key
from scar.core.errors import ScarError

FUSIONS = ("sum", "mean", "image")
OFFICIAL_MAX_TEXT_TOKENS = 77  # --max_len of the VLM2Vec v1 baseline evaluations
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
IMAGE_LOADERS = 8  # threads decoding images for one batch (PIL releases the GIL while decoding)
IMAGE_CACHE_MB = 256  # image features are small (projection-dim floats): this holds ~100k pictures of CLIP-L


def torch_dtype(dtype: str) -> torch.dtype:
    if dtype not in DTYPES:
        raise ScarError(f"unknown dtype {dtype!r}; choose from {', '.join(DTYPES)}")
    return DTYPES[dtype]


def query_text(text: str) -> str:
    """The text a CLIP-style text tower sees under the fixed protocol: no image token, no stray whitespace."""
    return text.replace(IMAGE_TOKEN, "").replace(" \n", "\n").strip()


def official_text(text: str) -> str:
    """The text the official collator tokenizes: exactly as stored, image token included."""
    return text


def open_clip_text(text: str) -> str:
    """The text open_clip's SimpleTokenizer (default `clean="lower"`) turns into BPE tokens: ftfy.fix_text,
    HTML entities unescaped twice, whitespace collapsed, lower case; the image token kept."""
    import html

    try:
        import ftfy
    except ImportError:  # pragma: no cover - a declared dependency
        raise ScarError("the official OpenCLIP protocol cleans texts with ftfy, as open_clip does: "
                        "pip install ftfy") from None
    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    return " ".join(text.split()).lower()


def load_in_file_mode(path: str) -> Image.Image:
    """The picture in its file's own mode (L made RGB, as VLM2Vec's OpenCLIPCollator does), for
    open_clip's transform, which resizes before it converts to RGB."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB") if image.mode == "L" else image.copy()
    except Exception:  # noqa: BLE001 - the project's loader reports it (missing file, unreadable image)
        return load_image(path)


def picture(item: Item, variant: str | None, file_mode: bool) -> tuple[Image.Image | None, str]:
    """`evaluators.models.regions.prepare`, except that with `file_mode` and no region variant the image keeps its
    file's mode (the region variants draw on RGB images)."""
    if file_mode and variant is None and item.image:
        return load_in_file_mode(str(item.image)), item.text
    return prepare(item, variant)


@dataclass
class OpenClipTransform:
    """open_clip's eval transform (`image_transform`, resize mode "shortest", bicubic) with the image
    processor's call signature: Resize(size) on the PIL image, CenterCrop(size) (offset
    `round((h - size) / 2)`), convert("RGB"), ToTensor, Normalize(mean, std); torchvision's own functions."""

    size: int
    image_mean: tuple[float, ...]
    image_std: tuple[float, ...]

    def __call__(self, images: list, return_tensors: str = "pt", **_: Any) -> dict[str, torch.Tensor]:
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms import functional as TF

        out = []
        for image in images:
            image = TF.resize(image, self.size, interpolation=InterpolationMode.BICUBIC)
            image = TF.center_crop(image, [self.size, self.size])
            out.append(TF.normalize(TF.to_tensor(image.convert("RGB")), list(self.image_mean), list(self.image_std)))
        return {"pixel_values": torch.stack(out)}


def pooled(output: Any) -> torch.Tensor:
    """`get_*_features` returns a tensor in transformers 4 and an output whose pooler_output is the
    projected feature in transformers 5."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


@dataclass
class PreparedBatch:
    """A batch after every CPU-side step: pixel tensors and tokens, with the rows they belong to."""

    size: int
    image_rows: list[int]
    pixels: torch.Tensor | None  # of the image rows in `pixel_rows` (the others show a cached picture)
    text_rows: list[int]
    text_has_image: list[bool]
    tokens: dict[str, torch.Tensor] | None
    pictures: list[tuple | None] | None = None  # cache key per image row
    pixel_rows: list[int] | None = None  # image rows whose pixels are in `pixels`, in order
    items: Sequence[Item] = ()  # what was prepared (to prepare it again in full if a cached picture is gone)


@dataclass
class ClipPicturePipeline:
    """One picture's CPU work, picklable for `evaluators.models.preprocess` workers: decode, region variant,
    image processor -> pixel_values (1, 3, H, W)."""

    variant: str | None
    image_processor: Any
    resize: dict
    file_mode: bool = False

    def __call__(self, item: Item) -> torch.Tensor:
        image, _ = picture(item, self.variant, self.file_mode)
        return self.image_processor(images=[image], return_tensors="pt", **self.resize)["pixel_values"]


class DualEncoderEmbedder(UsesImageWorkers):
    """CLIP-style embedder: separate image and text towers sharing one embedding space."""

    def __init__(
        self,
        model: torch.nn.Module,
        processor: Any,
        info: EmbedderInfo,
        variant: str | None,
        fusion: str,
        text_padding: str,
        max_length: int,
        image_size: int,
        protocol: str = OFFICIAL_PROTOCOL,
        image_cache_mb: float = IMAGE_CACHE_MB,
        preprocess_workers: int | str | None = "auto",
    ) -> None:
        self.image_cache = FeatureCache(image_cache_mb)
        self._promised: set[tuple] = set()  # pictures whose features an earlier, pending batch computes
        self.model = model
        self.processor = processor
        self.info = info
        self.name = info.name
        self.variant = variant
        self.fusion = fusion
        self.text_padding = text_padding
        self.max_length = max_length
        self.image_size = image_size
        self.protocol = check_protocol(protocol)
        self.official = self.protocol == OFFICIAL_PROTOCOL
        openclip = self.official and info.family == "openclip"
        self.text_of = (open_clip_text if openclip else official_text) if self.official else query_text
        self.file_mode = openclip  # open_clip's transform takes the picture in its file's mode
        self.interpolate = image_size != int(model.config.vision_config.image_size)
        self.device = torch.device(info.device)
        self.dtype = torch_dtype(info.dtype)
        self.workers = ImageWorkers(worker_count(preprocess_workers, info.device))

    def encode(self, items: Sequence[Item], batch_size: int) -> torch.Tensor:
        if batch_size < 1:
            raise ScarError(f"batch size must be at least 1, got {batch_size}")
        chunks = [self._encode_batch(items[start : start + batch_size]) for start in range(0, len(items), batch_size)]
        if not chunks:
            return torch.empty(0, self.embedding_dim)
        return torch.cat(chunks)

    @property
    def embedding_dim(self) -> int:
        config = self.model.config
        return int(getattr(config, "projection_dim", None) or config.text_config.hidden_size)

    def _encode_batch(self, items: Sequence[Item]) -> torch.Tensor:
        return self.forward_batch(self.prepare_batch(items))

    def prepare_batch(self, items: Sequence[Item], reuse: bool = True) -> PreparedBatch:
        """Decode images, apply the region variant, run the image processor and the tokenizer.

        With `reuse`, an image whose picture is cached (or computed by an earlier batch, or by an
        earlier row of this one) is not decoded: only its text is prepared."""
        keys = [picture_key(item, self.variant) if self.image_cache.enabled else None for item in items]
        first: dict[tuple, int] = {}
        for row, key in enumerate(keys):
            if key is not None:
                first.setdefault(key, row)
        known = {key for key in first if reuse and (self.image_cache.peek(key) is not None or key in self._promised)}
        decode = [item.image is not None and (key is None or (key not in known and first[key] == row))
                  for row, (item, key) in enumerate(zip(items, keys))]

        def show(row: int) -> tuple[object | None, str]:
            item = items[row]
            if decode[row]:
                return picture(item, self.variant, self.file_mode)
            return apply_region(None, item.text, item, self.variant)

        pixels = None
        if self.workers.count > 0:  # the images in worker processes, the texts here
            shown = [apply_region(None, item.text, item, self.variant) for item in items]
            decoded = [row for row in range(len(items)) if decode[row]]
            if decoded:
                pipeline = ClipPicturePipeline(self.variant, self.processor.image_processor, self._resize_kwargs(),
                                               self.file_mode)
                pixels = torch.cat(self.workers.map(pipeline, [items[row] for row in decoded]))
            has_image = [item.image is not None for item in items]
        else:
            with ThreadPoolExecutor(max_workers=max(1, min(IMAGE_LOADERS, sum(decode)))) as pool:
                shown = list(pool.map(show, range(len(items))))
            has_image = [item.image is not None and (not decode[row] or shown[row][0] is not None)
                         for row, item in enumerate(items)]
        image_rows = [row for row in range(len(items)) if has_image[row]]
        pixel_rows = [row for row in image_rows if decode[row]]
        if pixels is None and pixel_rows:
            pixels = self._pixels([shown[row][0] for row in pixel_rows])
        texts = [
            (row, self.text_of(text))
            for row, (_, text) in enumerate(shown)
            if not has_image[row] or (self.fusion != "image" and self.text_of(text))
        ]
        self._promised.update(keys[row] for row in pixel_rows if keys[row] is not None)
        return PreparedBatch(
            size=len(items),
            image_rows=image_rows,
            pixels=pixels,
            text_rows=[row for row, _ in texts],
            text_has_image=[has_image[row] for row, _ in texts],
            tokens=self._tokens([text for _, text in texts]) if texts else None,
            pictures=[keys[row] for row in image_rows],
            pixel_rows=pixel_rows,
            items=items,
        )

    def image_rows_features(self, batch: PreparedBatch) -> torch.Tensor:
        """Features of every image row: the new pictures through the tower (then cached), the rest cached."""
        computed = self._image_features(batch.pixels) if batch.pixels is not None else None
        by_row = dict(zip(batch.pixel_rows or [], computed if computed is not None else []))
        if batch.pictures is None:  # a batch prepared without picture keys
            return computed if computed is not None else torch.empty(0, self.embedding_dim)
        for row, key in zip(batch.image_rows, batch.pictures):
            if row in by_row and key is not None:
                self.image_cache.put(key, by_row[row])
                self.image_cache.misses += 1  # a picture through the tower (its other rows count as hits)
                self._promised.discard(key)
        out = []
        for row, key in zip(batch.image_rows, batch.pictures):
            feature = by_row.get(row)
            if feature is None:
                feature = self.image_cache.get(key)
            if feature is None:
                raise LookupError(f"image features of {key} left the cache before their batch ran")
            out.append(feature)
        return torch.stack(out)

    def forward_batch(self, batch: PreparedBatch) -> torch.Tensor:
        out = torch.zeros(batch.size, self.embedding_dim)
        with torch.inference_mode():
            if batch.image_rows:
                try:
                    out[torch.tensor(batch.image_rows)] = self.image_rows_features(batch)
                except LookupError:  # evicted, or an earlier batch failed: this batch again, decoding every image
                    return self.forward_batch(self.prepare_batch(batch.items, reuse=False))
            if batch.tokens is not None:
                text_rows = torch.tensor(batch.text_rows)
                text_features = self._text_features(batch.tokens)
                has_image = torch.tensor(batch.text_has_image)
                fused = text_rows[has_image]
                only_text = text_rows[~has_image]
                out[only_text] = text_features[~has_image]
                if len(fused):
                    if self.fusion == "sum":
                        out[fused] = out[fused] + text_features[has_image]
                    else:  # mean of unit vectors; the final normalisation makes it the same as their sum
                        out[fused] = F.normalize(out[fused], dim=-1) + F.normalize(text_features[has_image], dim=-1)
        return F.normalize(out, dim=-1)

    def _resize_kwargs(self) -> dict:
        processor = self.processor.image_processor
        if not self.interpolate:
            return {}
        # CLIP resizes the short side then centre-crops; SigLIP resizes to a square
        square = {"height": self.image_size, "width": self.image_size}
        if getattr(processor, "do_center_crop", False):
            return {"size": {"shortest_edge": self.image_size}, "crop_size": square}
        return {"size": square}

    def _pixels(self, images: list) -> torch.Tensor:
        return self.processor.image_processor(images=images, return_tensors="pt", **self._resize_kwargs())["pixel_values"]

    def _image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        extra = {"interpolate_pos_encoding": True} if self.interpolate else {}
        features = pooled(self.model.get_image_features(pixel_values=pixels.to(self.device, self.dtype), **extra))
        return features.float().cpu()

    def _tokens(self, texts: list[str]) -> dict[str, torch.Tensor]:
        tokens = dict(
            self.processor.tokenizer(
                texts, padding=self.text_padding, truncation=True, max_length=self.max_length, return_tensors="pt"
            )
        )
        if self.official and self.info.family != "openclip":
            pad_id = self.processor.tokenizer.pad_token_id
            tokens["lengths"] = tokens["attention_mask"].sum(dim=1)  # right padding: each text's own length
            tokens["attention_mask"] = (tokens["input_ids"] != pad_id).long()
        return tokens

    def _text_features(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.official and self.info.family == "siglip":
            return self._text_features_unpadded(tokens)
        kwargs = {"input_ids": tokens["input_ids"].to(self.device)}
        if "attention_mask" in tokens and self.text_padding != "max_length":
            kwargs["attention_mask"] = tokens["attention_mask"].to(self.device)
        return pooled(self.model.get_text_features(**kwargs)).float().cpu()

    def _text_features_unpadded(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        """Texts of one token length run together, cut to that length: each is pooled on its own last token."""
        lengths = tokens["lengths"]
        out = torch.empty(len(lengths), self.embedding_dim)
        for length in sorted(set(lengths.tolist())):
            rows = (lengths == length).nonzero().flatten()
            ids = tokens["input_ids"][rows, :length].to(self.device)
            mask = tokens["attention_mask"][rows, :length].to(self.device)
            out[rows] = pooled(self.model.get_text_features(input_ids=ids, attention_mask=mask)).float().cpu()
        return out


def missing_packages_hint(family: str) -> str:
    """Real SigLIP checkpoints ship a sentencepiece tokenizer, which transformers reads only with
    the sentencepiece and protobuf packages installed."""
    import importlib.util

    if family != "siglip":
        return ""
    missing = [name for name in ("sentencepiece", "google.protobuf") if importlib.util.find_spec(name.split(".")[0]) is None]
    return f" (SigLIP's tokenizer needs: {', '.join(m.split('.')[-1] for m in missing)})" if missing else ""


def text_settings(family: str, model: torch.nn.Module, protocol: str = OFFICIAL_PROTOCOL) -> tuple[str, int]:
    """(padding mode, max text length) for a family under a protocol; the length is capped by the
    model's position table (and by the official evaluations' 77 tokens)."""
    max_length = int(model.config.text_config.max_position_embeddings)
    if protocol == OFFICIAL_PROTOCOL:
        return "longest", min(max_length, OFFICIAL_MAX_TEXT_TOKENS)
    return ("max_length" if family == "siglip" else "longest"), max_length


def load(
    spec: ModelSpec,
    variant: str | None,
    device: str = "cpu",
    dtype: str = "float32",
    model_path: str | None = None,
    fusion: str = "sum",
    image_size: int | None = None,
    attn_implementation: str = "sdpa",
    protocol: str = OFFICIAL_PROTOCOL,
    image_cache_mb: float = IMAGE_CACHE_MB,
    preprocess_workers: int | str = "auto",
    **options: Any,
) -> DualEncoderEmbedder:
    """Registry loader for the clip / openclip / siglip families (see evaluators.models.registry).

    `image_size` resizes images to that many pixels (square) instead of the checkpoint's own size,
    interpolating the position embeddings; None keeps the checkpoint's. Any other option (a typo,
    or one meant for another family such as `image_resolution`) is an error, as in the VLM loaders.
    """
    from transformers import AutoImageProcessor, AutoModel, AutoProcessor

    if options:
        raise ScarError(
            f"{spec.name}: unknown option(s) {', '.join(sorted(options))}; "
            "this family takes fusion, image_size, attn_implementation, protocol, image_cache_mb, preprocess_workers"
        )
    check_variant(variant)
    check_protocol(protocol)
    if fusion not in FUSIONS:
        raise ScarError(f"unknown fusion {fusion!r} for {spec.name}; choose from {', '.join(FUSIONS)}")
    source = model_path or spec.hf_id
    revision = None if model_path else spec.revision
    require_hub_model(source, revision)
    try:
        model = AutoModel.from_pretrained(
            source, revision=revision, dtype=torch_dtype(dtype), attn_implementation=attn_implementation
        )
        processor = AutoProcessor.from_pretrained(source, revision=revision)
        if protocol == OFFICIAL_PROTOCOL:  # resize as the official code's transformers 4.x did: with PIL
            processor.image_processor = AutoImageProcessor.from_pretrained(source, revision=revision, backend="pil")
    except ScarError:
        raise
    except Exception as exc:  # noqa: BLE001 - any loading failure becomes one line naming the source
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise ScarError(f"cannot load {spec.family} model from {source!r}: {first_line}{missing_packages_hint(spec.family)}") from None
    if not hasattr(model, "get_image_features") or not hasattr(model, "get_text_features"):
        raise ScarError(f"{source!r} is a {model.__class__.__name__}, not a dual encoder (family {spec.family})")
    model.to(device).eval()
    padding, max_length = text_settings(spec.family, model, protocol)
    native_size = int(model.config.vision_config.image_size)
    image_size = int(image_size or native_size)
    if spec.family == "openclip" and protocol == OFFICIAL_PROTOCOL:  # eval_openclip.py preprocesses with open_clip
        image_processor = processor.image_processor
        processor.image_processor = OpenClipTransform(image_size, tuple(image_processor.image_mean),
                                                      tuple(image_processor.image_std))
    name = spec.name + (f"+{variant}" if variant else "")
    info = EmbedderInfo(
        name=name,
        model_id=source,
        revision="" if model_path else spec.revision,
        family=spec.family,
        dtype=dtype,
        device=device,
        options={
            "region": variant,
            "fusion": fusion,
            "image_size": image_size,
            "text_padding": padding,
            "max_length": max_length,
            # open_clip's text cleaning and image transform (OpenCLIP, official): also a new cache fingerprint
            **({"preprocess": "open_clip"} if spec.family == "openclip" and protocol == OFFICIAL_PROTOCOL else {}),
        },
        protocol=protocol,
    )
    return DualEncoderEmbedder(model, processor, info, variant, fusion, padding, max_length, image_size, protocol,
                               image_cache_mb, preprocess_workers)
