"""Fail fast, in one line with the remedy, when a model or a dataset must come from the Hugging Face hub and cannot.

Without this, a missing network costs about 30 s of retries inside huggingface_hub before an error
that does not say what to do.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

from scar.core.errors import ScarError

PROBE_SECONDS = 3.0


def _offline_requested() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = PROBE_SECONDS) -> bool:
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname or "huggingface.co", port), timeout=timeout):
            return True
    except OSError:
        return False


def _cached(repo_id: str, revision: str | None) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(repo_id, "config.json", revision=revision), str)
    except Exception:  # a malformed id or cache: treat as absent
        return False


def _go_offline() -> None:
    """The hub is down but the files are cached: read them without the retries."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        import huggingface_hub.constants as constants

        constants.HF_HUB_OFFLINE = True
    except ImportError:
        pass


def require_hub_model(repo_id: str, revision: str | None, remedy: str = "--model-path DIR") -> None:
    """Return when `repo_id` is a local path, is cached, or the hub answers; else one ScarError."""
    if Path(repo_id).exists():
        return
    cached = _cached(repo_id, revision)
    if _offline_requested():
        if not cached:
            raise ScarError(f"{repo_id}: not in the local Hugging Face cache and HF_HUB_OFFLINE is set; "
                            f"download it once with network (`hf download {repo_id}`) or pass {remedy}")
        return
    if hub_reachable():
        return
    if cached:
        _go_offline()
        return
    raise ScarError(f"{repo_id}: the Hugging Face hub cannot be reached and the model is not in the local cache; "
                    f"pass {remedy} (a local copy), or download it where there is network and set HF_HUB_OFFLINE=1")


def _dataset_cached(repo_id: str) -> bool:
    """Whether a copy of hub dataset `repo_id` may be in a local cache (the hub's, or `datasets`' own).
    Looks at folder names only, so it costs no import of `datasets`; a false yes only means the load is tried."""
    try:
        from huggingface_hub import constants
    except ImportError:
        return False
    # The environment first: huggingface_hub reads it once, when imported.
    home = Path(os.environ.get("HF_HOME") or constants.HF_HOME)
    hub_cache = Path(os.environ.get("HF_HUB_CACHE") or (home / "hub" if os.environ.get("HF_HOME") else constants.HF_HUB_CACHE))
    datasets_cache = Path(os.environ.get("HF_DATASETS_CACHE") or home / "datasets")
    if (hub_cache / f"datasets--{repo_id.replace('/', '--')}").is_dir():
        return True
    prefix = repo_id.replace("/", "___").lower()
    try:
        return any(p.name.lower().startswith(prefix) for p in datasets_cache.iterdir() if p.is_dir())
    except OSError:
        return False


def _datasets_offline() -> None:
    """Make `datasets` read only its cache (it reads the switch when imported, so set both)."""
    _go_offline()
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    config = sys.modules.get("datasets.config")
    if config is not None:
        config.HF_HUB_OFFLINE = True


def require_hub_dataset(repo_id: str, remedy: str) -> None:
    """Return when the hub answers, or it does not but a cached copy may exist (then read offline); else one
    ScarError at once. Without this, `datasets` spends about 25 s retrying before an error naming no remedy."""
    offline = _offline_requested() or os.environ.get("HF_DATASETS_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    cached = _dataset_cached(repo_id)
    if offline:
        if not cached:
            raise ScarError(f"{repo_id}: not in the local Hugging Face cache and offline mode is set "
                            f"(HF_HUB_OFFLINE / HF_DATASETS_OFFLINE); pass {remedy}")
        return
    if hub_reachable():
        return
    if cached:
        _datasets_offline()
        return
    raise ScarError(f"{repo_id}: the Hugging Face hub cannot be reached and no copy is in the local cache; pass {remedy}")


def check_device(device: str) -> None:
    """`--device cuda[:N]` on a machine without that GPU: say so before any model is loaded."""
    if not str(device).startswith("cuda"):
        return
    import torch

    if not torch.cuda.is_available():
        raise ScarError(f"--device {device}: no CUDA GPU is available here (torch.cuda.is_available() is False); "
                        "use --device cpu")
    index = torch.device(device).index
    if index is not None and index >= torch.cuda.device_count():
        raise ScarError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) here")


def quiet_hf_libraries(progress: bool = True) -> None:
    """transformers and huggingface_hub: only errors in the log (their warnings about tiny test configs or
    deprecations are not the user's to act on), and no progress bars of their own unless `progress`."""
    import transformers
    from huggingface_hub.utils import disable_progress_bars

    transformers.logging.set_verbosity_error()
    if not progress:
        transformers.logging.disable_progress_bar()
        disable_progress_bars()
