"""Video frames as VLM2Vec-V2 feeds them to Qwen2-VL (`evaluators.models.qwen2vl_video`): one size for every frame,
from the first frame and the pixel limits; frames paired into temporal patches, an odd count repeating the
last. (The official comparison of the pixels and embeddings: tests/parity/test_parity_mmeb_v2.py.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from evaluators.models.qwen2vl_video import frame_size, resize_frame, video_pixels
from tests.parity.golden_mmeb_v2 import GOLDEN

LIMITS = {"shortest_edge": 3136, "longest_edge": 1003520}


@pytest.fixture(scope="module")
def image_processor():
    from transformers import Qwen2VLImageProcessorPil

    return Qwen2VLImageProcessorPil.from_pretrained(str(GOLDEN.parent / "ckpt"))


def frame(seed: int, size: tuple[int, int] = (64, 48)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")


@pytest.mark.parametrize("height, width, limits, expected", [
    (48, 64, (3136, 1003520), (56, 56)),  # rounded to multiples of 28
    (10, 20, (3136, 1003520), (56, 56)),  # a side under 28: a square of the longest side, then up to the min
    (30, 9000, (3136, 1003520), (980, 980)),  # aspect ratio over 200: a square too, then down under the max
    (360, 640, (3136, 28 * 28 * 64), (168, 280)),  # down under the max, aspect ratio kept
])
def test_frame_size(height, width, limits, expected):
    assert frame_size(height, width, 28, *limits) == expected


def test_resize_frame_keeps_the_original_or_makes_a_square():
    image = frame(0)
    assert resize_frame(image, None) is image
    assert resize_frame(image, 128).size == (128, 128)


def test_two_equal_frames_are_the_image_rows(image_processor):
    """The image path repeats a picture over the temporal axis: a video of that picture twice is the same."""
    image = frame(1)
    rows, grid = video_pixels([image, image], image_processor, LIMITS)
    resized = image.resize((56, 56), Image.Resampling.BICUBIC)
    expected = image_processor(images=[resized], do_resize=False, return_tensors="pt")["pixel_values"]
    assert grid == (1, 4, 4) and torch.equal(rows, expected)


def test_frames_pair_into_temporal_patches(image_processor):
    frames = [frame(s) for s in range(3)]
    rows, grid = video_pixels(frames, image_processor, LIMITS)
    assert grid == (2, 4, 4) and rows.shape == (2 * 16, 3 * 2 * 14 * 14)
    patches = rows.reshape(2, 16, 3, 2, 14, 14)
    singles = [video_pixels([f, f], image_processor, LIMITS)[0].reshape(16, 3, 2, 14, 14)[:, :, 0] for f in frames]
    assert torch.equal(patches[0, :, :, 0], singles[0]) and torch.equal(patches[0, :, :, 1], singles[1])
    assert torch.equal(patches[1, :, :, 0], singles[2]) and torch.equal(patches[1, :, :, 1], singles[2])  # repeated


def test_every_frame_takes_the_first_frames_size(image_processor):
    rows, grid = video_pixels([frame(0, (64, 48)), frame(1, (300, 100))], image_processor, LIMITS)
    assert grid == (1, 4, 4) and rows.shape[0] == 16


def test_a_video_needs_a_frame(image_processor):
    with pytest.raises(ValueError):
        video_pixels([], image_processor, LIMITS)


def test_a_video_is_never_cached_as_its_middle_frame(tmp_path):
    from evaluators.models.protocol import Item
    from evaluators.models.vision_cache import picture_key, video_key

    paths = []
    for s in range(3):
        paths.append(str(tmp_path / f"f{s}.png"))
        frame(s).save(paths[-1])
    video = Item(text="v", image=paths[1], frames=tuple(paths))
    assert video_key(video, ("original",)) != picture_key(Item(text="v", image=paths[1]), None, ("original",))
    assert video_key(video, ("original",)) != video_key(Item(text="v", image=paths[1], frames=tuple(paths[:2])),
                                                        ("original",))
    assert video_key(Item(frames=(str(tmp_path / "missing.png"),)), ()) is None
