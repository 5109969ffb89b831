"""Models by name. A name may carry a region-variant suffix: `clip-vit-l-14+crop`.

`load_embedder` is the one entry point the runner and the CLI use.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluators.protocol import Embedder
from scar.errors import ScarError

REGION_VARIANTS = ("crop", "circle", "boxtext")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # "virtue" | "vlm2vec" | "clip" | "siglip" | "openclip" ...
    hf_id: str
    loader: str  # "module:function" taking (model_path, spec, **options) -> Embedder
    revision: str = "main"
    defaults: dict[str, Any] = field(default_factory=dict)
    default_region: str | None = None  # the region variant used when the name has none
    summary: str = ""


_MODELS: dict[str, ModelSpec] = {}
# family -> loader, for `--model PATH --family F`
_FAMILY_LOADERS: dict[str, str] = {}


def register(spec: ModelSpec) -> None:
    _MODELS[spec.name] = spec
    _FAMILY_LOADERS.setdefault(spec.family, spec.loader)


def _load_registrations() -> None:
    for module in ("baselines.models", "baselines.vlm2vec", "evaluators.virtue"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def models() -> dict[str, ModelSpec]:
    _load_registrations()
    return dict(sorted(_MODELS.items()))


def split_variant(name: str) -> tuple[str, str | None]:
    base, plus, variant = name.partition("+")
    if not plus:
        return name, None
    if variant not in REGION_VARIANTS:
        raise ScarError(f"unknown region variant '+{variant}' in {name!r}; choose from {', '.join(REGION_VARIANTS)}")
    return base, variant


def resolve(name: str, family: str | None = None) -> tuple[ModelSpec, str | None]:
    """Registry name, local directory or HF id (with family) -> (spec, region variant)."""
    _load_registrations()
    base, variant = split_variant(name)
    if base in _MODELS:
        return _MODELS[base], variant
    if family is None:
        hint = "a local directory" if Path(base).exists() else "an unknown name"
        raise ScarError(f"{base!r} is {hint}; pass --family ({', '.join(sorted(_FAMILY_LOADERS))}) or use one of `scar models`")
    if family not in _FAMILY_LOADERS:
        raise ScarError(f"unknown family {family!r}; available: {', '.join(sorted(_FAMILY_LOADERS))}")
    return ModelSpec(name=base, family=family, hf_id=base, loader=_FAMILY_LOADERS[family]), variant


def load_embedder(name: str, family: str | None = None, **options: Any) -> Embedder:
    spec, variant = resolve(name, family)
    module_name, fn = spec.loader.split(":")
    loader = getattr(importlib.import_module(module_name), fn)
    return loader(spec=spec, variant=variant or spec.default_region, **{**spec.defaults, **options})
