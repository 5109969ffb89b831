"""Your own model: a factory (a class or function) that returns an embedder, made loadable like a
registered one, from Python (`scar.register_embedder`, an embedder object) or the shell
(`--model package.module:Factory`, `--include FILE_OR_FOLDER`).

What a factory is called with: `device`, `dtype` (when it takes them), the loader options
(`--model-option k=v`, `evaluate(..., k=v)`; an option the factory does not take is a one-line
error), and `region_variant` ("crop" | "circle" | "boxtext", only when the model name carries one
and the factory takes it; apply it with `evaluators.models.regions.prepare(item, region_variant)`). A
factory that takes no `region_variant` gets `+boxtext` applied to its items' texts by the toolkit;
`+crop` / `+circle` need the pixels, so they are refused for it.

Identity (`finish_info`): the embedder's options, region variant and protocol enter its fingerprint,
and so does its version: a declared revision (an explicit `revision`, its own `info.revision`, or a
`revision` attribute of the embedder or the factory), else a hash of the module files of its class,
its base classes and its factory (`evaluators.models.fingerprint.source_hash`). Results say which
(`fingerprint_from`).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import json
import os
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

from evaluators.models.fingerprint import source_hash
from evaluators.models.protocol import (
    REVISION,
    SOURCE_HASH,
    UNVERSIONED,
    EmbedderInfo,
    Item,
    check_protocol,
)
from evaluators.models.regions import box_text, normalize_variant
from scar.core.errors import ScarError

CUSTOM_FAMILY = "custom"
REGION_ARG = "region_variant"
_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_FACTORY_SPEC = re.compile(rf"^({_DOTTED}):({_DOTTED})$")


def is_factory_spec(name: str) -> bool:
    """`package.module:Factory` (an import path, as `python -m` and uvicorn write them)."""
    return _FACTORY_SPEC.match(name) is not None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def import_factory(spec: str) -> Callable[..., Any]:
    """The callable `module:attr` names; one-line errors for a module not found, an attribute missing,
    or a value that is not callable. The current folder is searched after sys.path."""
    match = _FACTORY_SPEC.match(spec)
    if match is None:
        raise ScarError(f"model spec {spec!r}: expected package.module:Factory")
    module_name, attr = match.groups()
    module = _import(spec, module_name)
    value: Any = module
    for part in attr.split("."):
        if not hasattr(value, part):
            names = [n for n in dir(value) if not n.startswith("_")]
            close = difflib.get_close_matches(part, names, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ScarError(f"model spec {spec!r}: {value.__name__ if value is module else attr!r} has no attribute "
                            f"{part!r}{hint}")
        value = getattr(value, part)
    if not callable(value):
        raise ScarError(f"model spec {spec!r}: {attr} is not callable ({type(value).__name__}); name a class or "
                        "function that returns an embedder")
    return value


def _import(spec: str, module_name: str) -> Any:
    def attempt() -> Any:
        return importlib.import_module(module_name)

    try:
        return attempt()
    except ModuleNotFoundError as exc:
        top = module_name.split(".")[0]
        if exc.name is None or not module_name.startswith(exc.name):
            raise ScarError(f"model spec {spec!r}: importing {module_name} failed: {_first_line(exc)}") from None
        if exc.name == top and os.getcwd() not in sys.path and "" not in sys.path:
            _add_cwd_to_path()
            try:
                return attempt()
            except ModuleNotFoundError as again:
                if again.name is None or not module_name.startswith(again.name):
                    raise ScarError(f"model spec {spec!r}: importing {module_name} failed: "
                                    f"{_first_line(again)}") from None
        raise ScarError(f"model spec {spec!r}: no module named {exc.name!r} (looked on sys.path and in the "
                        "current folder; set PYTHONPATH or use --include FILE)") from None
    except ScarError:
        raise
    except Exception as exc:  # the user's module raised while loading
        raise ScarError(f"model spec {spec!r}: importing {module_name} failed: {_first_line(exc)}") from None


def include(path: str | Path) -> list[str]:
    """Run a .py file, or every .py file of a folder (sorted, not recursive), so the models it
    registers (`scar.register_embedder`) can be named by `--model`; returns the module names.
    A file's folder and the current folder join sys.path (its own modules import); including a file
    twice runs it once."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.py") if p.is_file())
        if not files:
            raise ScarError(f"--include {path}: the folder holds no .py file")
    elif path.is_file() and path.suffix == ".py":
        files = [path]
    elif path.exists():
        raise ScarError(f"--include {path}: expected a .py file or a folder of them")
    else:
        raise ScarError(f"--include {path}: no such file or folder")
    return [_run_file(f) for f in files]


def _add_cwd_to_path() -> None:
    """`scar` is a script: its sys.path does not hold the folder it runs in, where a user's modules are."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)


def _run_file(shown: Path) -> str:
    path = shown.resolve()
    name = path.stem
    if not name.isidentifier():
        raise ScarError(f"--include {path}: {name!r} is not a valid module name")
    loaded = sys.modules.get(name)
    if loaded is not None:
        if Path(getattr(loaded, "__file__", "") or "").resolve() == path:
            return name
        raise ScarError(f"--include {shown}: a module named {name!r} is already loaded from elsewhere; rename the file")
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    _add_cwd_to_path()
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's file raised while running
        del sys.modules[name]
        raise ScarError(f"--include {shown}: {_first_line(exc)}") from None
    return name


# ---------------------------------------------------------------- calling a factory


def _parameters(factory: Callable[..., Any]) -> tuple[set[str], bool] | None:
    """The keyword names `factory` takes and whether it takes **kwargs; None if it cannot be inspected."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


def factory_arguments(factory: Callable[..., Any], shown: str, device: str, dtype: str, options: dict[str, Any],
                      variant: str | None) -> tuple[dict[str, Any], bool]:
    """The keyword arguments to call `factory` with, and whether it takes the region variant itself."""
    taken = _parameters(factory)
    if taken is None:  # a builtin or C callable: pass everything, as documented
        return {"device": device, "dtype": dtype, **options, **({REGION_ARG: variant} if variant else {})}, True
    names, var_kw = taken
    unknown = sorted(k for k in options if k not in names and not var_kw)
    if unknown:
        offered = sorted(names - {"self", "device", "dtype", REGION_ARG})
        raise ScarError(f"{shown}: the model takes no option {', '.join(map(repr, unknown))} "
                        f"(its options: {', '.join(offered) or 'none'})")
    kwargs = {k: v for k, v in (("device", device), ("dtype", dtype)) if k in names or var_kw}
    kwargs.update(options)
    takes_region = REGION_ARG in names or var_kw
    if variant is not None and takes_region:
        kwargs[REGION_ARG] = variant
    return kwargs, takes_region


class BoxTextShown:
    """A region-blind embedder shown `+boxtext`: each item's region is written into its text first."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "")
        self.info = getattr(inner, "info", None)
        self.batch_dependent = bool(getattr(inner, "batch_dependent", False))
        if hasattr(inner, "reference_batch_size"):
            self.reference_batch_size = inner.reference_batch_size

    def encode(self, items: Sequence[Item], batch_size: int) -> Any:
        return self.inner.encode([replace(i, text=box_text(i.text, i)) if i.has_region else i for i in items],
                                 batch_size)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()


def _jsonable(options: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(options, sort_keys=True, default=str))


def finish_info(embedder: Any, *, name: str | None = None, family: str = CUSTOM_FAMILY, device: str = "cpu",
                dtype: str = "float32", options: dict[str, Any] | None = None, variant: str | None = None,
                revision: str = "", factory: Any = None, spec: str = "") -> Any:
    """Check `embedder` is one and give it the identity its results and cache key need (module doc)."""
    if not callable(getattr(embedder, "encode", None)):
        what = f"{spec or name} returned a {type(embedder).__name__}, not an embedder" if factory is not None else \
            f"{type(embedder).__name__} is not an embedder"
        raise ScarError(f"{what}: it has no encode(items, batch_size)")
    options = dict(options or {})
    protocol = options.get("protocol")
    own = getattr(embedder, "info", None)
    if own is not None and not isinstance(own, EmbedderInfo):
        raise ScarError(f"{type(embedder).__name__}.info is a {type(own).__name__}, not an evaluators.models.protocol.EmbedderInfo")
    if own is None:
        shown = name or getattr(embedder, "name", None) or type(embedder).__name__
        shown = f"{shown}+{variant}" if variant and not shown.endswith(f"+{variant}") else shown
        model_id = spec or f"{type(embedder).__module__}.{type(embedder).__qualname__}"
        own = EmbedderInfo(name=shown, model_id=model_id, family=family, device=device, dtype=dtype)
    merged = {**own.options, **_jsonable(options)}
    if variant:
        merged["region_variant"] = variant
    declared = revision or own.revision or str(getattr(embedder, "revision", "") or "") \
        or str(getattr(factory, "revision", "") or "")
    if declared:
        content, source = "", REVISION
    elif own.content_hash and own.fingerprint_from not in (SOURCE_HASH, UNVERSIONED):  # e.g. a folder hash
        content, source = own.content_hash, own.fingerprint_from
    else:
        content = source_hash([type(embedder), *([factory] if factory is not None else [])])
        source = SOURCE_HASH if content else UNVERSIONED
        if not content:
            print(f"warning: {own.name}: no revision and no source file to hash, so a change to its code does not "
                  "change its cache key; give it a `revision`", file=sys.stderr)
    embedder.info = replace(own, options=merged, revision=declared, content_hash=content, fingerprint_from=source,
                            protocol=check_protocol(str(protocol)) if protocol is not None else own.protocol)
    if not getattr(embedder, "name", None):
        embedder.name = embedder.info.name
    return embedder


def factory_loader(factory: Callable[..., Any], name: str | None = None, family: str = CUSTOM_FAMILY,
                   spec: str = "") -> Callable[..., Any]:
    """A registry loader (evaluators.models.registry) that builds the embedder by calling `factory`.

    Its spec and region variant are positional-only, so a user option may be named `variant`."""

    def load(model: Any, variant: str | None, /, device: str = "cpu", dtype: str = "float32",
             model_path: str | None = None, **options: Any) -> Any:
        if model_path is not None:
            options["model_path"] = model_path
        variant = normalize_variant(variant)
        shown = f"{name or spec}+{variant}" if variant else (name or spec)
        kwargs, takes_region = factory_arguments(factory, shown, device, dtype, options, variant)
        if variant in ("crop", "circle") and not takes_region:
            raise ScarError(f"{shown}: its factory takes no {REGION_ARG!r} argument, so it cannot show a +{variant} "
                            f"region; add `{REGION_ARG}=None` to its parameters and apply it with "
                            f"evaluators.models.regions.prepare(item, {REGION_ARG})")
        embedder = factory(**kwargs)
        embedder = finish_info(embedder, name=name, family=family, device=device, dtype=dtype, options=options,
                               variant=variant, revision=model.revision, factory=factory, spec=spec)
        if variant == "boxtext" and not takes_region:
            embedder = BoxTextShown(embedder)
        return embedder

    return load


__all__ = ["CUSTOM_FAMILY", "is_factory_spec", "import_factory", "include", "factory_loader", "finish_info",
           "factory_arguments", "BoxTextShown"]
