"""Registrations of VIRTUE, as data (read by name by evaluators.models.registry).

The embedder lives in evaluators.models.virtue; this module imports no model code (no torch), so that
`scar models` lists the models without loading anything.
"""

from __future__ import annotations

from evaluators.models.spec import ModelSpec

VIRTUE_LOADER = "evaluators.models.virtue:load_virtue"
FAMILIES = {"virtue": VIRTUE_LOADER}
MODELS = tuple(
    ModelSpec(
        name=f"virtue-{size}",
        family="virtue",
        hf_id=f"Sony/VIRTUE-{size.upper()}-SCaR",
        loader=VIRTUE_LOADER,
        defaults={"image_resolution": "high"},
        default_region="boxtext",
        summary=f"VIRTUE-{size.upper()} (SCaR-trained): Qwen2-VL-{size.upper()} + SAM2.1 Hiera-B+ prompts",
        native_regions=("box", "point", "mask"),
    )
    for size in ("2b", "7b")
)
