"""Load untrusted pickles (RefCOCO `refs(*).p`, the ADE20K index) as plain data only.

A pickle can name any importable callable and have it called while loading; the restricted
unpickler below resolves only plain containers and numpy's array/dtype reconstruction, and
refuses everything else before it is imported, let alone called.

A pickle can also be a bomb without any global: memo references let a few hundred bytes describe
one list shared 40 levels deep (`x = [x, x]`), which any code that walks the result as a tree
(`refer._plain`) visits 2**40 times. So the work is bounded (`PickleLimits`): the file's bytes
before reading, then, on the loaded objects (one pass over distinct objects, no recursion), the
nesting depth, the references to an already-seen container (what memo references build), cycles,
and the number of objects a tree walk would visit. A bomb is refused with a one-line error.
"""

from __future__ import annotations

import gc
import io
import os
import pickle
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from scar.core.errors import InputFileError, ScarError
from scar.sources.files import read_bytes

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


@dataclass(frozen=True)
class PickleLimits:
    """Ceilings far above the real files (RefCOCOg refs: ~85k refs, a few million objects).

    A pickle without shared containers describes at most one object per byte (every object costs
    an opcode), so a tree walk of it visits fewer objects than the file has bytes; the object bound
    is therefore `objects_per_byte` times the file size (plus slack), never above `max_objects`.
    """

    max_bytes: int = 4 << 30
    max_depth: int = 200
    max_shared_refs: int = 20_000_000  # references to a container already seen elsewhere (memo references)
    max_objects: int = 100_000_000  # objects a walk that copies the data as a tree would visit
    objects_per_byte: float = 2.0
    objects_slack: int = 1_000_000

    def objects_for(self, size: int) -> int:
        return min(self.max_objects, int(self.objects_per_byte * size) + self.objects_slack)


DEFAULT_LIMITS = PickleLimits()


class PickleBomb(ScarError):
    """The pickle is plain data but would cost unbounded work to walk; it was refused."""


def _safe_bytearray(*args: Any) -> bytearray:
    """`bytearray` for bytes and text only: `bytearray(10**12)` would ask for a terabyte."""
    if not args or not isinstance(args[0], (bytes, str)):
        raise pickle.UnpicklingError("bytearray() from something other than bytes or text")
    return bytearray(*args)


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
            if name == "bytearray":
                return _safe_bytearray
            return super().find_class(module, name)
        if (module, name) == ("_codecs", "encode"):
            return _latin1_bytes
        raise UnsafePickleError(
            f"{self._path}: refused to load pickle: it asks for {module}.{name}, which is not plain data "
            "(only containers, strings, numbers and numpy arrays are allowed)"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"{self._path}: refused to load pickle: it uses persistent ids")


def load_pickle(path: Path, encoding: str = "latin1", limits: PickleLimits = DEFAULT_LIMITS) -> Any:
    """Unpickle `path` admitting only plain data of bounded shape; raise a one-line ScarError otherwise.

    Python-2 pickles need an encoding for their byte strings: "latin1" (numpy arrays need it)
    or "bytes" (keeps them as bytes, so the caller can decode UTF-8 and spot invalid text).
    """
    try:
        size = os.path.getsize(path)
    except OSError:
        size = 0  # read_bytes below names the problem
    if size > limits.max_bytes:
        raise PickleBomb(f"{path}: refused to load pickle: {size:,} bytes, over the {limits.max_bytes:,}-byte limit")
    data = read_bytes(path)
    try:
        value = _RestrictedUnpickler(data, Path(path), encoding).load()
    except ScarError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise InputFileError(path, f"not a readable pickle (truncated or corrupt?): {type(exc).__name__}: {exc}") from None
    except (MemoryError, OverflowError):
        raise InputFileError(path, "pickle too large for memory") from None
    problem = shape_problem(value, replace(limits, max_objects=limits.objects_for(len(data))))
    if problem:
        raise PickleBomb(f"{path}: refused to load pickle: {problem}")
    return value


# What the restricted unpickler can build that holds other objects (exact types: it builds no subclass).
_CONTAINERS = frozenset({list, tuple, dict, set, frozenset, OrderedDict, defaultdict})


def _child_nodes(obj: Any) -> tuple[list[Any], int]:
    """(the containers directly inside `obj`, how many objects are directly inside it)."""
    if type(obj) is np.ndarray:
        items = obj.ravel().tolist() if obj.dtype == object else []
    elif isinstance(obj, dict):
        items = [*obj, *obj.values()]
    else:
        items = obj
    nodes = [c for c in items if type(c) in _CONTAINERS or (type(c) is np.ndarray and c.dtype == object)]
    return nodes, len(items)


def _is_node(obj: Any) -> bool:
    return type(obj) in _CONTAINERS or (type(obj) is np.ndarray and obj.dtype == object)


def shape_problem(root: Any, limits: PickleLimits = DEFAULT_LIMITS) -> str | None:
    """Why walking `root` as a tree would cost unbounded work (depth, cycle, sharing), or None.

    Fast pass: breadth first, one level of containers at a time, their children listed in C
    (gc.get_referents); it bounds the depth (a cycle never runs out of levels) and counts the
    references to a container seen before. Only when there are such shared references does the
    exact pass run, to find cycles and sum what a tree walk would visit.
    """
    if not _is_node(root):
        return None
    seen = {id(root)}  # ids are stable: everything reachable from root lives as long as root
    level = [root]
    depth, shared, objects = 1, 0, 1
    while level:
        if depth > limits.max_depth:
            return f"nested more than {limits.max_depth} levels deep (or it holds a reference cycle)"
        arrays = [o for o in level if type(o) is np.ndarray]
        children = gc.get_referents(*(o for o in level if type(o) is not np.ndarray))
        for array in arrays:
            children.extend(array.ravel().tolist())
        objects += len(children)
        if objects > limits.max_objects:
            return f"more than {limits.max_objects:,} objects"
        level = []
        for child in children:
            if type(child) in _CONTAINERS or (type(child) is np.ndarray and child.dtype == object):
                if id(child) in seen:
                    shared += 1
                else:
                    seen.add(id(child))
                    level.append(child)
        depth += 1
    if shared > limits.max_shared_refs:
        return f"more than {limits.max_shared_refs:,} shared references (memo references)"
    return _tree_problem(root, limits) if shared else None


def _tree_problem(root: Any, limits: PickleLimits) -> str | None:
    """The exact pass, iterative post-order over the distinct containers. Each one's tree size
    (itself, its leaves, and its child containers' tree sizes, a shared child counted each time it
    appears) and height are computed once: linear in distinct objects, while the sizes it sums are
    what a naive tree walk would visit."""
    done: dict[int, tuple[int, int]] = {}  # id -> (tree size, height), for finished containers
    on_path: dict[int, tuple[list[Any], int]] = {}  # id -> (child containers, child count)
    referenced: set[int] = set()
    shared = 0
    max_depth, max_objects = limits.max_depth, limits.max_objects
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:
        obj, depth, leaving = stack.pop()
        key = id(obj)
        if not leaving:
            if key in done:
                continue
            if depth > max_depth:
                return f"nested more than {max_depth} levels deep"
            kids, count = _child_nodes(obj)
            on_path[key] = (kids, count)
            stack.append((obj, depth, True))
            for child in kids:
                child_key = id(child)
                if child_key in on_path:
                    return "it holds a reference cycle (a container inside itself)"
                if child_key in referenced:
                    shared += 1
                else:
                    referenced.add(child_key)
                if child_key not in done:
                    stack.append((child, depth + 1, False))
            if shared > limits.max_shared_refs:
                return f"more than {limits.max_shared_refs:,} shared references (memo references)"
            continue
        kids, count = on_path.pop(key)
        size, height = 1 + count - len(kids), 1
        for child in kids:
            child_size, child_height = done[id(child)]
            size += child_size
            if child_height >= height:
                height = child_height + 1
        if height > max_depth:
            return f"nested more than {max_depth} levels deep"
        if size > max_objects:
            return (f"walking it would visit more than {max_objects:,} objects "
                    "(containers shared many times over: a pickle bomb)")
        done[key] = (size, height)
    return None
