"""Load untrusted pickles (RefCOCO `refs(*).p`, the ADE20K index) as plain data only.

A pickle can name any importable callable and have it called while loading; the restricted
unpickler below resolves only plain containers and numpy's array/dtype reconstruction, and
refuses everything else before it is imported, let alone called.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from scar.errors import InputFileError, ScarError
from scar.sources.common import read_bytes

_ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "complex"),
        ("builtins", "bytearray"),
        ("__builtin__", "set"),  # Python-2 spelling, mapped to builtins when resolved
        ("__builtin__", "frozenset"),
        ("__builtin__", "complex"),
        ("__builtin__", "bytearray"),
        ("collections", "OrderedDict"),
        ("collections", "defaultdict"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        # numpy < 2 and numpy >= 2 spell the reconstruction helpers differently
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
    }
)


def _latin1_bytes(text: object, encoding: str = "latin1") -> bytes:
    """Stand-in for `_codecs.encode`, which Python 3 protocol-2 pickles use to spell bytes."""
    if not isinstance(text, str) or encoding.lower().replace("-", "") != "latin1":
        raise pickle.UnpicklingError(f"_codecs.encode with {encoding!r} is not plain data")
    return text.encode("latin1")


class UnsafePickleError(ScarError):
    """The pickle names a global that is not plain data; it was refused, never executed."""


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, path: Path, encoding: str) -> None:
        super().__init__(io.BytesIO(data), encoding=encoding)
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        if (module, name) == ("_codecs", "encode"):
            return _latin1_bytes
        raise UnsafePickleError(
            f"{self._path}: refused to load pickle: it asks for {module}.{name}, which is not plain data "
            "(only containers, strings, numbers and numpy arrays are allowed)"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"{self._path}: refused to load pickle: it uses persistent ids")


def load_pickle(path: Path, encoding: str = "latin1") -> Any:
    """Unpickle `path` admitting only plain data; raise a one-line ScarError otherwise.

    Python-2 pickles need an encoding for their byte strings: "latin1" (numpy arrays need it)
    or "bytes" (keeps them as bytes, so the caller can decode UTF-8 and spot invalid text).
    """
    data = read_bytes(path)
    try:
        return _RestrictedUnpickler(data, Path(path), encoding).load()
    except ScarError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise InputFileError(path, f"not a readable pickle (truncated or corrupt?): {type(exc).__name__}: {exc}") from None
    except MemoryError:
        raise InputFileError(path, "pickle too large for memory") from None
