"""The parity inputs: what both the golden generator (official venv) and the tests (project venv) encode.

Plain data (and one digest helper), importable from both environments, so they read the same definitions.
Images live in `data/images/` (drawn once by `generate_golden.py`, committed); image names below are
those files' stems. Texts carry the Phi-3.5-V image token `<|image_1|>`, as MMEB and SCaR store them.

VIRTUE item kinds (what the official SCaR eval / demo feeds the model):
  scar   a SCaR-Eval query row: `text` + `bbox_xywh`; the official SCaR loader appends the box line
         (project side: `evaluators.tasks.scar.official_query_text`), SAM gets the box;
  point  `text` (already holding its "Referring object point" line) + `point_xy`, SAM gets the point;
  image  `text` + image, no prompt: SAM gets its 3x3 grid of points;
  text   a text-only candidate.
A case is a list of items encoded in ONE forward (a batch of the official eval).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

IMAGES = {
    # name: (width, height) of the committed PNG
    "street": (288, 208),  # landscape
    "kitchen": (176, 240),  # portrait: a second size and aspect ratio
}

_SCAR_INSTRUCTION = ("<|image_1|>\nFind the caption that best describes the object in the bounding box, "
                     "considering both local details and global context in the given image.")

VIRTUE_ITEMS = {
    "box": {"kind": "scar", "image": "street", "text": _SCAR_INSTRUCTION, "bbox_xywh": [31.5, 60.0, 96.25, 70.0]},
    "point": {"kind": "point", "image": "kitchen", "point_xy": [88.0, 150.0],
              "text": "<|image_1|>\nFind the caption that best describes the segmented object, considering both "
                      "local details and global context in the given image.\nReferring object point: (88, 150)"},
    "none": {"kind": "image", "image": "street", "text": "<|image_1|>\nRetrieve a caption for this picture.\n"},
    "text": {"kind": "text", "text": "a blue car parked under a tree"},
    # the batch: several image queries, very different text lengths (left padding), two image sizes
    "q_short": {"kind": "scar", "image": "kitchen", "text": "<|image_1|>\nWhat is it?",
                "bbox_xywh": [20.0, 130.0, 70.0, 60.0]},
    "q_long": {"kind": "scar", "image": "street", "bbox_xywh": [150.0, 20.0, 110.0, 150.0],
               "text": _SCAR_INSTRUCTION + " Look at its colour, its shape and where it stands next to the "
                                           "other things in the scene, then name it."},
    "q_mid": {"kind": "scar", "image": "kitchen", "text": "<|image_1|>\nDescribe the object inside the box.",
              "bbox_xywh": [96.0, 40.0, 64.0, 88.0]},
    # candidates: texts of different lengths in one batch
    "c_short": {"kind": "text", "text": "a fork"},
    "c_long": {"kind": "text", "text": "a silver fork lying beside a white bowl on a wooden kitchen table, "
                                       "with a green cup and a folded napkin"},
}

VIRTUE_CASES = {
    "box": ["box"],
    "point": ["point"],
    "none": ["none"],
    "text": ["text"],
    "query_batch": ["q_short", "q_long", "q_mid"],
    "candidate_batch": ["text", "c_short", "c_long"],
    # image rows and text rows in one forward: the official model appends bos copies to the text rows
    "mixed_batch": ["c_long", "none", "text"],
}

VLM2VEC_ITEMS = {
    "q_street": {"image": "street",
                 "text": "<|image_1|>\nRepresent the given image with the following question: what is parked under the tree?"},
    "q_kitchen": {"image": "kitchen", "text": "<|image_1|>\nFind a caption for the cup."},
    "q_kitchen_long": {"image": "kitchen",
                       "text": "<|image_1|>\nRepresent the given image with the following question: which object on "
                               "the wooden table is closest to the bowl, and what colour is it?"},
    "image_street": {"image": "street", "text": "<|image_1|>\nRepresent the given image."},
    "image_kitchen": {"image": "kitchen", "text": "<|image_1|>\nRepresent the given image."},
    "t_car": {"text": "a blue car"},
    "t_table": {"text": "a silver fork and a white bowl on a wooden table"},
}

VLM2VEC_CASES = {
    "image_text": ["q_street"],
    "image_only": ["image_street"],
    "text_only": ["t_car"],
    "query_batch": ["q_street", "q_kitchen", "q_kitchen_long"],
    "image_batch": ["image_kitchen", "image_street"],
    "mixed_batch": ["q_kitchen_long", "t_table", "image_street"],
}

TOLERANCE = 1e-4  # max abs difference per embedding component

# Words the tiny tokenizers learn merges for, so common words are single tokens (others fall back to bytes).
TOKENIZER_CORPUS = [
    _SCAR_INSTRUCTION,
    "Referring object bbox: [31.5, 60.0, 127.75, 130.0] Referring object point: (88, 150)",
    "Represent the given image with the following question: what is parked under the tree?",
    "Represent the given image. Find a caption for the cup. Retrieve a caption for this picture.",
    "a blue car parked under a tree; a silver fork lying beside a white bowl on a wooden kitchen table",
    "Describe the object inside the box. What is it? 0123456789",
]


def pixel_digest(path: Path) -> str:
    """sha256 of an image's decoded pixels (mode, size, bytes): what the models see, not the PNG bytes."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        header = f"{image.mode}:{image.size[0]}x{image.size[1]}:".encode()
        return hashlib.sha256(header + np.asarray(image).tobytes()).hexdigest()


def qwen_image_digest(patches, grid_thw, mean, std, patch_size: int = 14, merge_size: int = 2,
                      temporal_patch_size: int = 2) -> str:
    """"HxW:sha256" of the uint8 image a Qwen2-VL processor patchified, recovered from ONE image's
    pixel_values rows: it tells whether two resizers produced the very same pixels."""
    import numpy as np

    t, gh, gw = (int(v) for v in np.asarray(grid_thw).reshape(-1)[:3])
    rows = np.asarray(patches, dtype=np.float64).reshape(t * gh * gw, -1)[: gh * gw]
    channels = rows.shape[1] // (temporal_patch_size * patch_size * patch_size)
    grid = rows.reshape(gh // merge_size, gw // merge_size, merge_size, merge_size, channels, temporal_patch_size,
                        patch_size, patch_size)[:, :, :, :, :, 0]
    image = grid.transpose(4, 0, 2, 5, 1, 3, 6).reshape(channels, gh * patch_size, gw * patch_size)
    mean, std = np.asarray(mean, dtype=np.float64).reshape(-1, 1, 1), np.asarray(std, dtype=np.float64).reshape(-1, 1, 1)
    pixels = np.clip(np.rint((image * std + mean) * 255), 0, 255).astype(np.uint8)
    return f"{gh * patch_size}x{gw * patch_size}:{hashlib.sha256(pixels.tobytes()).hexdigest()}"
