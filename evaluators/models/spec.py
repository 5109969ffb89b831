"""A registered model, as data: `ModelSpec`. Registration modules (baselines.models,
evaluators.models.virtue_models) hold tables of these and import nothing else, so the registry reads
them by name and nothing imports the registry back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # "virtue" | "vlm2vec" | "clip" | "siglip" | "openclip" ...
    hf_id: str
    loader: Any  # "module:function" or the function itself, see evaluators.models.registry for its signature
    revision: str = "main"
    defaults: dict[str, Any] = field(default_factory=dict)  # options passed to the loader unless overridden
    default_region: str | None = None  # the region variant used when the name has none
    summary: str = ""
    native_regions: tuple[str, ...] = ()  # prompts the model takes itself ("box", "point", "mask"); () = region-blind
