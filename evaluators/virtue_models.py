"""Registrations of VIRTUE (imported lazily by evaluators.registry).

The embedder lives in evaluators.virtue; this module imports no model code (no torch), so that
`scar models` lists the models without loading anything.
"""

from __future__ import annotations

from evaluators.registry import ModelSpec, register, register_family

VIRTUE_LOADER = "evaluators.virtue:load_virtue"
register_family("virtue", VIRTUE_LOADER)
for _size in ("2b", "7b"):
    register(ModelSpec(
        name=f"virtue-{_size}",
        family="virtue",
        hf_id=f"Sony/VIRTUE-{_size.upper()}-SCaR",
        loader=VIRTUE_LOADER,
        defaults={"image_resolution": "high"},
        default_region="boxtext",
        summary=f"VIRTUE-{_size.upper()} (SCaR-trained): Qwen2-VL-{_size.upper()} + SAM2.1 Hiera-B+ prompts",
        native_regions=("box", "point", "mask"),
    ))
