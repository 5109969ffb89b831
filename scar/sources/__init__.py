"""Source loaders, one module per raw format, registered by name as data (`scar.sources.registry`)."""

from __future__ import annotations

from scar.sources.base import Record, Source, SourceOptions, add_source_arguments, options_from_args
from scar.sources.images import FIXABLE_REASONS
from scar.sources.registry import SourceSpec, available, make_source, register, resolve_source

__all__ = [
    "FIXABLE_REASONS",
    "Record",
    "Source",
    "SourceOptions",
    "SourceSpec",
    "add_source_arguments",
    "available",
    "make_source",
    "options_from_args",
    "register",
    "resolve_source",
]
