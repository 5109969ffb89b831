"""Which prompt kinds a model takes, and how; a kind it cannot take is skipped with the reason.

A model takes a kind
  - natively when its registration declares it (`ModelSpec.native_regions`, `scar.register_embedder(...,
    native_regions=...)`, or a `native_regions` attribute on an embedder object): VIRTUE's SAM prompts
    (box, point, mask; under the official protocol sony/virtue does not wire masks to SAM, so a mask
    reaches official VIRTUE only through its region variant, the box in the text);
  - through its region variant (`+crop`, `+circle`, `+boxtext`, or the family's default), which shows
    every kind as `evaluators.models.regions` does: the box, a mask's tight box, a point's square (crop, circle)
    or the point written out (boxtext).
A model with neither (a plain region-blind model) takes no kind: its robustness run is skipped whole.
The floor (no prompt) is measured for every model that takes at least one kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from evaluators.models.protocol import OFFICIAL_PROTOCOL
from evaluators.robustness.suite import PROMPT_KINDS

VARIANT_HOW = {
    "crop": "+crop: the image cropped to the box (a mask's tight box, a point's square)",
    "circle": "+circle: a red ellipse around the box (a mask's tight box, a point's square)",
    "boxtext": "+boxtext: the box (a mask's tight box) or the point written in the query text",
}


# What a family takes natively when the model was named by a folder or hub id (`--family virtue`), whose
# spec is built from the family and declares nothing.
FAMILY_NATIVE = {"virtue": ("box", "point", "mask")}


@dataclass(frozen=True)
class Route:
    kind: str
    takes: bool
    how: str  # how the model is shown the kind, or why it is skipped


def routes(native: Sequence[str], variant: str | None, family: str = "", protocol: str = OFFICIAL_PROTOCOL,
           model: str = "the model") -> dict[str, Route]:
    """kind -> Route, for box, point, mask and the floor `none`."""
    out: dict[str, Route] = {}
    native = tuple(native) or FAMILY_NATIVE.get(family, ())
    for kind in PROMPT_KINDS:
        unwired = family == "virtue" and protocol == OFFICIAL_PROTOCOL and kind == "mask"
        if kind in native and not unwired:
            out[kind] = Route(kind, True, "native prompt" + (" (SAM)" if family == "virtue" else ""))
        elif variant in VARIANT_HOW:
            note = " (official VIRTUE does not pass masks to SAM)" if unwired else ""
            out[kind] = Route(kind, True, VARIANT_HOW[variant] + note)
        else:
            declared = ", ".join(native) or "none"
            why = "its official protocol does not pass masks to SAM" if unwired else f"it declares native kinds: {declared}"
            out[kind] = Route(kind, False, f"{model} takes no {kind} prompt: {why}, and it has no region variant")
    if any(r.takes for r in out.values()):
        out["none"] = Route("none", True, "no prompt: the whole image, no region in the text")
    else:
        out["none"] = Route("none", False, f"{model} takes no region prompt at all: nothing to perturb")
    return out
