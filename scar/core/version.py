"""The toolkit's version, read from the installed package's metadata (as mteb and lm-eval do), so
no module imports the package `scar` for it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scar-bench")
except PackageNotFoundError:  # a source tree on sys.path without an install
    __version__ = "0+unknown"
