"""Models by name. A name may carry a region-variant suffix: `clip-vit-l-14+crop`.

`load_embedder` is the one entry point the runner and the CLI use. `--model` takes
  - a registered name (`scar models` lists them), or
  - a local directory or an HF hub id together with `--family` (`./my-clip+crop --family clip`).

A loader is a "module:function" with the signature
    load(spec: ModelSpec, variant: str | None, device: str, dtype: str,
         model_path: str | None = None, **options) -> Embedder
where `model_path` is the local directory or hub id to `from_pretrained` (None: use `spec.hf_id`
at `spec.revision`). Registrations live in torch-free modules (baselines.models for the baselines,
evaluators.virtue_models for VIRTUE), imported lazily; a model's own module is imported only to load
it, so listing models imports neither torch nor transformers.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evaluators.regions import REGION_VARIANTS
from evaluators.protocol import Embedder
from scar.errors import ScarError

__all__ = [
    "REGION_VARIANTS",
    "ModelSpec",
    "register",
    "register_family",
    "unregister",
    "families",
    "models",
    "split_variant",
    "resolve",
    "load_embedder",
]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # "virtue" | "vlm2vec" | "clip" | "siglip" | "openclip" ...
    hf_id: str
    loader: Any  # "module:function" or the function itself, see the module docstring for its signature
    revision: str = "main"
    defaults: dict[str, Any] = field(default_factory=dict)  # options passed to the loader unless overridden
    default_region: str | None = None  # the region variant used when the name has none
    summary: str = ""
    native_regions: tuple[str, ...] = ()  # prompts the model takes itself ("box", "point", "mask"); () = region-blind


_MODELS: dict[str, ModelSpec] = {}
# family -> loader, for `--model PATH --family F`
_FAMILY_LOADERS: dict[str, str] = {}


# family -> the region variant its registered models default to (VLMs read the box as text)
_FAMILY_REGIONS: dict[str, str | None] = {}


def register(spec: ModelSpec) -> None:
    _MODELS[spec.name] = spec
    _FAMILY_LOADERS.setdefault(spec.family, spec.loader)
    if _FAMILY_REGIONS.get(spec.family) is None:
        _FAMILY_REGIONS[spec.family] = spec.default_region


def register_family(family: str, loader: str, default_region: str | None = None) -> None:
    """Make `--family F` available for local directories and hub ids even without a registered name."""
    _FAMILY_LOADERS[family] = loader
    if default_region is not None or family not in _FAMILY_REGIONS:
        _FAMILY_REGIONS[family] = default_region


def unregister(name: str, family: str | None = None) -> None:
    """Forget a registered model (and, given, a family's `--family` loader): for tests and notebooks."""
    _MODELS.pop(name, None)
    if family is not None:
        _FAMILY_LOADERS.pop(family, None)
        _FAMILY_REGIONS.pop(family, None)


def _load_registrations() -> None:
    for module in ("baselines.models", "evaluators.virtue_models"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def models() -> dict[str, ModelSpec]:
    _load_registrations()
    return dict(sorted(_MODELS.items()))


def families() -> dict[str, str]:
    """family -> loader, for every family `--family` accepts."""
    _load_registrations()
    return dict(sorted(_FAMILY_LOADERS.items()))


def split_variant(name: str) -> tuple[str, str | None]:
    """`clip-vit-l-14+crop` -> (`clip-vit-l-14`, `crop`); the suffix is the text after the last `+`."""
    base, plus, variant = name.rpartition("+")
    if not plus:
        return name, None
    if not base:
        raise ScarError(f"model name {name!r} has a region variant but no model")
    if variant not in REGION_VARIANTS:
        raise ScarError(f"unknown region variant '+{variant}' in {name!r}; choose from {', '.join(REGION_VARIANTS)}")
    return base, variant


def resolve(name: str, family: str | None = None) -> tuple[ModelSpec, str | None]:
    """Registry name, local directory or HF id (with family) -> (spec, region variant)."""
    _load_registrations()
    # a directory whose own name holds a "+" is taken whole
    base, variant = (name, None) if "+" in name and Path(name).is_dir() else split_variant(name)
    if base in _MODELS:
        return _MODELS[base], variant
    if family is None:
        if Path(base).exists():
            raise ScarError(f"{base!r} is a local directory: pass --family ({', '.join(sorted(_FAMILY_LOADERS))})")
        close = difflib.get_close_matches(base, list(_MODELS), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ScarError(
            f"unknown model {base!r}; {hint}see `scar models`, or pass --family "
            f"({', '.join(sorted(_FAMILY_LOADERS))}) for a local directory or HF id"
        )
    if family not in _FAMILY_LOADERS:
        raise ScarError(f"unknown family {family!r}; available: {', '.join(sorted(_FAMILY_LOADERS))}")
    # A local directory is shown by its own name (results, tables); its path stays in `hf_id`/model_id.
    shown = Path(base).name if Path(base).is_dir() else base
    spec = ModelSpec(
        name=shown, family=family, hf_id=base, loader=_FAMILY_LOADERS[family], default_region=_FAMILY_REGIONS.get(family)
    )
    return spec, variant


def default_dtype(device: str) -> str:
    """bf16 on a GPU (how the published numbers were made), float32 elsewhere."""
    return "bfloat16" if str(device).startswith("cuda") else "float32"


def load_embedder(
    name: str, family: str | None = None, device: str = "cpu", dtype: str | None = None, **options: Any
) -> Embedder:
    """Build the embedder `name` names. Options set to None are dropped, so unset CLI flags keep the
    model's defaults; `revision` overrides the spec's, `model_path` loads a registered model's weights
    from a local copy; `dtype` None means `default_dtype(device)`."""
    dtype = dtype or default_dtype(device)
    spec, variant = resolve(name, family)
    registered = _MODELS.get(spec.name) is spec
    options = {key: value for key, value in options.items() if value is not None}
    if "revision" in options:
        spec = replace(spec, revision=str(options.pop("revision")))
    model_path = options.pop("model_path", None) or (None if registered else spec.hf_id)
    if callable(spec.loader):
        loader = spec.loader
    else:
        module_name, fn = spec.loader.split(":")
        loader = getattr(importlib.import_module(module_name), fn)
    return loader(
        spec=spec,
        variant=variant or spec.default_region,
        device=device,
        dtype=dtype,
        model_path=model_path,
        **{**spec.defaults, **options},
    )
