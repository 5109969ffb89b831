"""Source loaders, one module per raw format, registered by name."""

from __future__ import annotations

import importlib

from scar.errors import ScarError
from scar.sources.base import Record, Source, SourceOptions, add_source_arguments, options_from_args
from scar.sources.images import FIXABLE_REASONS

# name -> "module:factory". Modules are imported on first use so a missing optional file
# format never slows the CLI down.
_REGISTRY: dict[str, tuple[str, str]] = {
    "demo": ("scar.sources.demo:DemoSource", "procedurally rendered scenes, no download (train and eval)"),
}


def register(name: str, target: str, summary: str) -> None:
    _REGISTRY[name] = (target, summary)


def _load_builtin_registrations() -> None:
    # Real-dataset loaders register themselves in scar.sources.registry_real (if present).
    try:
        importlib.import_module("scar.sources.registry_real")
    except ModuleNotFoundError as exc:
        if exc.name != "scar.sources.registry_real":
            raise


def available() -> dict[str, str]:
    _load_builtin_registrations()
    return {name: summary for name, (_, summary) in sorted(_REGISTRY.items())}


def _factory(name: str):  # noqa: ANN202 - a source class or factory function
    _load_builtin_registrations()
    if name not in _REGISTRY:
        raise ScarError(f"unknown source {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    target, _ = _REGISTRY[name]
    module_name, attr = target.split(":")
    return getattr(importlib.import_module(module_name), attr)


def make_source(name: str, options: SourceOptions) -> Source:
    return _factory(name)(options)


OPTION_FLAGS = {
    "root": "--root", "images": "--images", "annotations": "--annotations", "stuff": "--stuff", "split_by": "--split-by",
}  # fmt: skip


def check_options(name: str, options: SourceOptions) -> None:
    """Refuse, in one line, an option the source does not read (it would be recorded, never used)."""
    uses = getattr(_factory(name), "uses_options", None)
    if uses is None:
        return
    given = [field for field in OPTION_FLAGS if getattr(options, field) not in (None, (), [], "")]
    unused = [OPTION_FLAGS[f] for f in given if f not in uses]
    if unused:
        takes = ", ".join(OPTION_FLAGS[f] for f in OPTION_FLAGS if f in uses) or "none of them"
        raise ScarError(f"--source {name} does not use {', '.join(unused)} (it takes {takes})")


def finds_own_images(name: str) -> bool:
    """Whether the source knows where its images are without --images (its `images_root` attribute
    then names that folder); the build's default, OUT/images, is for sources that write images."""
    return bool(getattr(_factory(name), "finds_own_images", False))


__all__ = [
    "Record",
    "Source",
    "SourceOptions",
    "add_source_arguments",
    "available",
    "check_options",
    "finds_own_images",
    "make_source",
    "options_from_args",
    "register",
]
