"""Captioners and hard-negative generators, chosen with `scar build --generator NAME`."""

from __future__ import annotations

import argparse

from scar.core.errors import ScarError
from scar.core.optional import optional_module
from scar.generate.base import Generator

# name -> (module, summary). Each module provides add_arguments(parser) and from_args(args) -> Generator.
_GENERATORS: dict[str, tuple[str, str]] = {
    "offline": ("scar.generate.offline", "rule-based, deterministic, no network"),
    "llm": ("scar.generate.llm", "an LLM through the openai client (OpenAI or any compatible server)"),
}


def _module(name: str):
    """The generator's module, or None when this installation lacks it."""
    return optional_module(_GENERATORS[name][0])


def add_generator_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("generation")
    g.add_argument("--generator", default="offline", choices=sorted(_GENERATORS), help="caption generator")
    for name in sorted(_GENERATORS):
        module = _module(name)
        if module is not None and hasattr(module, "add_arguments"):
            module.add_arguments(parser)


def make_generator(args: argparse.Namespace) -> Generator:
    if args.generator not in _GENERATORS:
        raise ScarError(f"unknown generator {args.generator!r}; available: {', '.join(sorted(_GENERATORS))}")
    module = _module(args.generator)
    if module is None:
        raise ScarError(f"generator {args.generator!r} is not available in this installation")
    return module.from_args(args)


__all__ = ["Generator", "add_generator_arguments", "make_generator"]
