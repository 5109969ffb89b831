"""Models by name. A name may carry a region-variant suffix: `clip-vit-l-14+crop`.

`load_embedder` is the one entry point the runner and the CLI use. `--model` takes
  - a registered name (`scar models` lists them; `--include FILE` runs a file that registers more), or the
    hub id of one (`VLM2Vec/VLM2Vec-V2.0`: that registration, its settings and its name),
  - a local directory or an HF hub id together with `--family` (`./my-clip+crop --family clip`), or
  - `package.module:Factory`, your own embedder's factory (evaluators.models.custom).

A loader is a "module:function" with the signature
    load(spec: ModelSpec, variant: str | None, device: str, dtype: str,
         model_path: str | None = None, **options) -> Embedder
called with `spec` and `variant` by position, where `model_path` is the local directory or hub id
to `from_pretrained` (None: use `spec.hf_id` at `spec.revision`). A loaded model from a local
folder gets the folder's content hash in its fingerprint, so new weights at the same path never
reuse cached embeddings. Registrations are data in torch-free modules (baselines.models for the baselines,
evaluators.models.virtue_models for VIRTUE; see REGISTRATIONS), read by name on first lookup; a model's own module is imported only to load
it, so listing models imports neither torch nor transformers.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from dataclasses import replace
from pathlib import Path
from typing import Any

from evaluators.models.custom import CUSTOM_FAMILY, factory_loader, import_factory, is_factory_spec
from evaluators.models.fingerprint import directory_hash
from evaluators.models.protocol import FOLDER_HASH, Embedder, EmbedderInfo
from evaluators.models.regions import REGION_VARIANTS
from evaluators.models.spec import ModelSpec
from scar.core.errors import ScarError
from scar.core.optional import optional_module

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
    "load_resolved",
]


_MODELS: dict[str, ModelSpec] = {}
# family -> loader, for `--model PATH --family F`
_FAMILY_LOADERS: dict[str, str] = {}


# family -> the region variant its registered models default to (VLMs read the box as text)
_FAMILY_REGIONS: dict[str, str | None] = {}


def register(spec: ModelSpec, as_family: bool = True) -> None:
    """Make `spec.name` loadable; `as_family`: its loader also serves `--family <its family>` for local
    folders and hub ids when the family has none yet (not for a user's factory, which loads no folder)."""
    _MODELS[spec.name] = spec
    if not as_family:
        return
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


# The registration tables, as data: modules holding FAMILIES (family -> "module:function" loader) and
# MODELS (ModelSpec rows), which import no model code and not this registry; read on first lookup.
REGISTRATIONS = ("baselines.models", "evaluators.models.virtue_models")
_READ: set[str] = set()


def _load_registrations() -> None:
    for module in REGISTRATIONS:
        if module in _READ:
            continue
        table = optional_module(module)
        if table is None:
            continue
        _READ.add(module)
        for family, loader in table.FAMILIES.items():
            register_family(family, loader)
        for spec in table.MODELS:
            register(spec)


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
    registered = _by_hub_id(base, family)
    if registered is not None:
        return registered, variant
    if is_factory_spec(base) and not Path(base).exists():
        factory = import_factory(base)
        fam = family or CUSTOM_FAMILY
        return ModelSpec(name=base, family=fam, hf_id=base, revision="", loader=factory_loader(factory, None, fam, base),
                         summary="a factory named by its import path"), variant
    if family is None or (family == CUSTOM_FAMILY and family not in _FAMILY_LOADERS):
        if Path(base).exists() and family is None:
            raise ScarError(f"{base!r} is a local directory: pass --family ({', '.join(sorted(_FAMILY_LOADERS))})")
        close = difflib.get_close_matches(base, list(_MODELS), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ScarError(
            f"unknown model {base!r}; {hint}see `scar models`; your own model: --model package.module:Factory, or "
            f"--include FILE.py that registers it; a local directory or HF id: pass --family "
            f"({', '.join(sorted(_FAMILY_LOADERS))})"
        )
    if family not in _FAMILY_LOADERS:
        raise ScarError(f"unknown family {family!r}; available: {', '.join(sorted(_FAMILY_LOADERS))}")
    # A local directory is shown by its own name (results, tables); its path stays in `hf_id`/model_id.
    shown = Path(base).name if Path(base).is_dir() else base
    spec = ModelSpec(
        name=shown, family=family, hf_id=base, loader=_FAMILY_LOADERS[family], default_region=_FAMILY_REGIONS.get(family)
    )
    return spec, variant


def _by_hub_id(name: str, family: str | None) -> ModelSpec | None:
    """The one registration whose hub id `name` is (given no --family, or its own family), so that
    `--model VLM2Vec/VLM2Vec-V2.0` loads what `--model vlm2vec-v2-qwen2vl-2b` loads, with its settings. A local
    directory is never one (its own files, whatever its name)."""
    if Path(name).exists():
        return None
    matches = [s for s in _MODELS.values() if s.hf_id == name and family in (None, s.family)]
    return matches[0] if len(matches) == 1 else None


def default_dtype(device: str) -> str:
    """bf16 on a GPU (how the published numbers were made), float32 elsewhere."""
    return "bfloat16" if str(device).startswith("cuda") else "float32"


def load_embedder(
    name: str, family: str | None = None, device: str = "cpu", dtype: str | None = None, **options: Any
) -> Embedder:
    """Build the embedder `name` names. Options set to None are dropped, so unset CLI flags keep the
    model's defaults; `revision` overrides the spec's, `model_path` loads a registered model's weights
    from a local copy; `dtype` None means `default_dtype(device)`."""
    spec, variant = resolve(name, family)
    return load_resolved(spec, variant, device=device, dtype=dtype, **options)


def load_resolved(
    spec: ModelSpec, variant: str | None, /, device: str = "cpu", dtype: str | None = None, **options: Any
) -> Embedder:
    """Build the embedder of what `resolve` returned: a command resolves the model name once, up front
    (a bad name fails before any task loads), and loads that same spec here. `spec` and `variant` are
    positional-only, so loader options of those names reach the clash check below, as before."""
    dtype = dtype or default_dtype(device)
    registered = _MODELS.get(spec.name) is spec or is_factory_spec(spec.hf_id)
    options = {key: value for key, value in options.items() if value is not None}
    if "revision" in options:
        spec = replace(spec, revision=str(options.pop("revision")))
    model_path = options.pop("model_path", None) or (None if registered else spec.hf_id)
    if callable(spec.loader):
        loader = spec.loader
    else:
        module_name, fn = spec.loader.split(":")
        loader = getattr(importlib.import_module(module_name), fn)
    options = {**spec.defaults, **options}
    _check_no_clash(loader, spec.name, options)
    embedder = loader(spec, variant or spec.default_region, device=device, dtype=dtype, model_path=model_path, **options)
    return _pin_local_folder(embedder)


def _check_no_clash(loader: Any, name: str, options: dict[str, Any]) -> None:
    """A loader option named like the loader's own `spec` / `variant` argument (which the user's own
    loaders take by position only, see evaluators.models.custom) is one line, not a TypeError."""
    try:
        params = inspect.signature(loader).parameters
    except (TypeError, ValueError):
        return
    for arg in ("spec", "variant"):
        param = params.get(arg)
        if arg in options and param is not None and param.kind is not param.POSITIONAL_ONLY:
            what = "the region variant: write it as a name suffix, e.g. +crop" if arg == "variant" else "the model spec"
            raise ScarError(f"{name}: option {arg!r} clashes with the loader's own {arg!r} argument ({what})")


def _pin_local_folder(embedder: Embedder) -> Embedder:
    """A model loaded from a local folder: its files' hash joins the fingerprint (and so the cache key)."""
    info = getattr(embedder, "info", None)
    if isinstance(info, EmbedderInfo) and not info.content_hash and Path(info.model_id).is_dir():
        embedder.info = replace(info, content_hash=directory_hash(Path(info.model_id)), fingerprint_from=FOLDER_HASH)
    return embedder
