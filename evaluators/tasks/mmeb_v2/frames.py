"""Video frames as MMEB-V2 feeds them: a folder of saved frames, `num_frames` taken uniformly.

The official release ships frames, not videos (at most 64 saved per video). A folder's frames are its
.jpg/.jpeg/.png files in natural order (numbers compared as numbers: frame_2 before frame_10); with at
least `num_frames` of them, the frames at `linspace(0, n - 1, num_frames)` truncated to integers are
taken, else all of them (`src/utils/vision_utils/vision_utils.py` `process_video_frames`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png")


def _natural(name: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def list_frames(folder: Path | str) -> list[str]:
    """Every frame file of `folder` in natural order ([] when the folder is absent)."""
    folder = str(folder)
    if not os.path.isdir(folder):
        return []
    names = sorted(os.listdir(folder), key=_natural)
    return [f"{folder}/{name}" for name in names if os.path.splitext(name)[1].lower() in FRAME_EXTENSIONS]


def sample_uniform(frames: list[str], num_frames: int | None) -> list[str]:
    if num_frames == 0:
        return []
    if num_frames is None or num_frames > len(frames):
        return list(frames)
    index = np.linspace(0, len(frames) - 1, num_frames, dtype=int)
    return [frames[i] for i in index.tolist()]


def middle(frames: tuple[str, ...] | list[str]) -> str | None:
    """The frame a single-image model is shown for a video: the middle of the sampled ones, as the official
    code does for its single-image baselines (GME, LamRA: `src/model/model.py`, `imgs[len(imgs) // 2]`)."""
    return frames[len(frames) // 2] if frames else None
