"""Video frames as VLM2Vec-V2 shows them to Qwen2-VL (TIGER-AI-Lab/VLM2Vec main 6e1e1d4, its vendored
Qwen2-VL processor under transformers 4.52, `videos=` path).

A video is its sampled frames (`evaluators.tasks.mmeb_v2.frames`), shown as ONE visual input behind a
single `<|video_pad|>` token (the text is built exactly as for an image, with that token instead of
`<|image_pad|>`). Its pixels:
  - every frame is resized with PIL (the processor's resample, bicubic) to one size, the one the pixel
    limits give the FIRST frame: both sides rounded to multiples of patch x merge (28), scaled down
    under the max or up over the min pixel count keeping the aspect ratio; a frame with a side under 28
    or an aspect ratio over 200 counts as a square of its longest side (the vendored processor's
    rule, where transformers 5 raises instead). No 56x56 blow-up of small pictures: that is the image
    path's;
  - rescaled and normalised as an image (the checkpoint processor's own steps, PIL backend);
  - frames are grouped in pairs (`temporal_patch_size` 2) into temporal patches: an odd count repeats
    the last frame; each 14x14 patch row then holds (channel, frame of the pair, 14, 14) values, rows in
    the image order (merge blocks of 2x2 patches), so the grid is (frames / 2, h / 14, w / 14) and the
    video costs t*h*w/4 tokens.
The vision tower then runs on those rows as on an image's (transformers' `get_video_features` is the
same tower call); the official prompt has no `<|vision_start|>`, so positions stay 1-D as for images.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import torch
from PIL import Image


MAX_ASPECT = 200


def frame_size(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """(height, width) every frame of a video whose first frame is `height` x `width` is resized to."""
    if min(height, width) < factor or max(height, width) > MAX_ASPECT * min(height, width):
        height = width = max(factor, height, width)
    h, w = round(height / factor) * factor, round(width / factor) * factor
    if h * w > max_pixels:
        scale = math.sqrt(height * width / max_pixels)
        h, w = math.floor(height / scale / factor) * factor, math.floor(width / scale / factor) * factor
    elif h * w < min_pixels:
        scale = math.sqrt(min_pixels / (height * width))
        h, w = math.ceil(height * scale / factor) * factor, math.ceil(width * scale / factor) * factor
    return h, w


def resize_frame(image: Image.Image, side: int | None) -> Image.Image:
    """The eval's fixed-size resize (`image_resolution`: `side` x `side`, PIL's default filter), applied to
    every frame as to images; None keeps the frame."""
    return image if side is None else image.resize((side, side))


def video_pixels(frames: Sequence[Image.Image], image_processor: Any, size: Mapping[str, Any] | None
                 ) -> tuple[torch.Tensor, tuple[int, int, int]]:
    """(pixel rows, (t, h, w) patch grid) of a video given as RGB frames; `size` the pixel limits
    (shortest_edge / longest_edge; None: the processor's own)."""
    if not frames:
        raise ValueError("a video needs at least one frame")
    limits = dict(size if size is not None else image_processor.size)
    patch, merge = int(image_processor.patch_size), int(image_processor.merge_size)
    pair = int(image_processor.temporal_patch_size)
    width, height = frames[0].size
    h, w = frame_size(height, width, patch * merge, int(limits["shortest_edge"]), int(limits["longest_edge"]))
    resample = Image.Resampling(int(image_processor.resample))
    resized = [frame.resize((w, h), resample) for frame in frames]
    rows = image_processor(images=resized, do_resize=False, return_tensors="pt")["pixel_values"]
    gh, gw = h // patch, w // patch
    channels = rows.shape[-1] // (pair * patch * patch)
    # the image path repeats each frame over the temporal axis of its patches: keep one copy per frame
    single = rows.reshape(len(frames), gh * gw, channels, pair, patch, patch)[:, :, :, 0]
    if len(frames) % pair:
        single = torch.cat([single, single[-1:].expand(pair - len(frames) % pair, -1, -1, -1, -1)])
    t = single.shape[0] // pair
    grouped = single.reshape(t, pair, gh * gw, channels, patch, patch).permute(0, 2, 3, 1, 4, 5)
    return grouped.reshape(t * gh * gw, channels * pair * patch * patch).contiguous(), (t, gh, gw)


__all__ = ["frame_size", "resize_frame", "video_pixels"]
