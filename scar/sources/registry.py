"""The source loaders by name, as data: name -> ("module:Class", summary), nothing imported until a
name is resolved. `resolve_source` turns a `--source` name into a `SourceSpec` once, at the command
boundary; the build passes that object down and never looks the name up again."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from scar.core.errors import ScarError
from scar.sources.base import Source, SourceOptions

# name -> ("module:factory", summary). Modules are imported only when their name is resolved, so a
# missing optional file format never slows the CLI down.
SOURCES: dict[str, tuple[str, str]] = {
    "demo": ("scar.sources.demo:DemoSource", "procedurally rendered scenes, no download (train and eval)"),
    "refcoco": ("scar.sources.refer:RefCOCO", "RefCOCO, refer layout: --root DIR (refcoco/refs(unc).p + instances.json)"),
    "refcoco+": ("scar.sources.refer:RefCOCOPlus", "RefCOCO+, refer layout: --root DIR (refcoco+/refs(unc).p + instances.json)"),
    "refcocog": ("scar.sources.refer:RefCOCOg", "RefCOCOg, refer layout: --root DIR (refcocog/refs(umd).p + instances.json)"),
    "coco": ("scar.sources.coco:CocoSource", "any COCO instances JSON: --annotations FILE --images DIR"),
    "vg": ("scar.sources.visual_genome:VisualGenomeSource", "Visual Genome JSONs under --root (boxes only)"),
    "cocostuff": ("scar.sources.cocostuff:CocoStuffSource", "COCO-Stuff 164K: stuff JSON and/or stuffthingmaps PNGs + COCO things"),
    "ade20k": ("scar.sources.ade20k:Ade20kSource", "ADE20K full release (index_ade20k.pkl) or ADEChallengeData2016"),
}  # fmt: skip

OPTION_FLAGS = {
    "root": "--root", "images": "--images", "annotations": "--annotations", "stuff": "--stuff", "split_by": "--split-by",
}  # fmt: skip


def register(name: str, target: str, summary: str) -> None:
    """Add a loader by its "module:factory" string (tests and plug-ins; the built-in ones are above)."""
    SOURCES[name] = (target, summary)


def available() -> dict[str, str]:
    return {name: summary for name, (_, summary) in sorted(SOURCES.items())}


@dataclass(frozen=True)
class SourceSpec:
    """A source name resolved to its loader: what the build is given instead of the name."""

    name: str
    factory: Callable[[SourceOptions], Source]
    summary: str = ""

    @property
    def finds_own_images(self) -> bool:
        """Whether the source knows where its images are without --images (its `images_root` attribute
        then names that folder); the build's default, OUT/images, is for sources that write images."""
        return bool(getattr(self.factory, "finds_own_images", False))

    def check_options(self, options: SourceOptions) -> None:
        """Refuse, in one line, an option the source does not read (it would be recorded, never used)."""
        uses = getattr(self.factory, "uses_options", None)
        if uses is None:
            return
        given = [field for field in OPTION_FLAGS if getattr(options, field) not in (None, (), [], "")]
        unused = [OPTION_FLAGS[f] for f in given if f not in uses]
        if unused:
            takes = ", ".join(OPTION_FLAGS[f] for f in OPTION_FLAGS if f in uses) or "none of them"
            raise ScarError(f"--source {self.name} does not use {', '.join(unused)} (it takes {takes})")

    def make(self, options: SourceOptions) -> Source:
        return self.factory(options)


def resolve_source(name: str) -> SourceSpec:
    """The one lookup of a source name: its loader imported, or the one-line error listing the names."""
    if name not in SOURCES:
        raise ScarError(f"unknown source {name!r}; available: {', '.join(sorted(SOURCES))}")
    target, summary = SOURCES[name]
    module_name, attr = target.split(":")
    factory: Any = getattr(importlib.import_module(module_name), attr)
    return SourceSpec(name, factory, summary)


def make_source(name: str, options: SourceOptions) -> Source:
    """Resolve `name` and build its loader (for callers that hold only a name: tests, benchmarks)."""
    return resolve_source(name).make(options)
