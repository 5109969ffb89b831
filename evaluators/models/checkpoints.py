"""Checkpoint files and loader helpers shared by every model family."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from scar.core.errors import ScarError

if TYPE_CHECKING:
    from evaluators.models.spec import ModelSpec


def checkpoint_file(model_path: str, filename: str, revision: str | None) -> Path | None:
    """`filename` inside a local folder, or fetched from the hub; None when the checkpoint has none."""
    local = Path(model_path)
    if local.is_dir():
        path = local / filename
        return path if path.is_file() else None
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError

        return Path(hf_hub_download(model_path, filename, revision=revision))
    except EntryNotFoundError:
        return None
    except Exception as exc:  # offline, unknown repo, gated...
        raise ScarError(f"cannot fetch {filename} of {model_path!r} ({exc.__class__.__name__}); "
                        "pass a local directory") from None


def torch_dtype(name: str) -> torch.dtype:
    dtype = getattr(torch, str(name).replace("torch.", ""), None)
    if not isinstance(dtype, torch.dtype):
        raise ScarError(f"unknown dtype {name!r}; use float32, bfloat16 or float16")
    return dtype


def display_name(spec: "ModelSpec", variant: str | None) -> str:
    """The name results and tables show: the registry name plus its region variant."""
    return f"{spec.name}+{variant}" if variant else spec.name
