"""SCaR toolkit: build the Segmentation-and-Scene Caption Retrieval benchmark, evaluate, publish.

The Python API (`evaluators.api`) is importable from here without loading torch until it is used:
    scar.evaluate(model, tasks, ...), scar.register_embedder(name, factory)
"""

from typing import Any

from scar.core.version import __version__

_API = ("evaluate", "register_embedder", "EvaluationOutput")


def __getattr__(name: str) -> Any:
    if name in _API:
        from evaluators import api

        return getattr(api, name)
    raise AttributeError(f"module 'scar' has no attribute {name!r}")


__all__ = ["__version__", *_API]
