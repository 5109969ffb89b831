"""The images root as loaders see it: names kept inside the root, files checked by their header.

A loader takes an image's file name from an annotation file, which is untrusted input. Before an
image becomes rows:
- its declared size is bounded (`size_problem`), before any full-image mask is allocated;
- its name must stay inside the images root (`resolve_inside`): no absolute path, no `..`, and no
  symlink that resolves outside the root;
- its header is read (size and format; PIL opens lazily, nothing is decoded): an empty, unreadable
  or differently sized file is rejected with the reason.
Each image is checked once (loaders handle an image's annotations together); existence checks use
one directory listing per folder.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Sequence

from PIL import Image

from scar.core.errors import InputFileError
from scar.sources.base import SourceOptions

# JPEG cannot exceed 65,535 pixels a side; PIL calls anything past ~89.5 megapixels a decompression
# bomb. A full-image mask of the largest accepted image is 89 MB when decoded.
MAX_IMAGE_SIDE = 65_535
MAX_IMAGE_PIXELS = 89_478_485

# Rejection reasons (they appear in stats.json and the dataset card).
BAD_SIZE = "bad image size"
TOO_LARGE = "image too large"
ESCAPES_ROOT = "image path escapes images root"
MISSING = "missing image file"
EMPTY = "empty image file"
UNREADABLE = "unreadable image"
SIZE_MISMATCH = "image size disagrees with annotation"
AMBIGUOUS = "image file name ambiguous under images root"
MISSING_FOLDER = "missing image folder"  # ADE20K: a release folder the index names is absent
# Reasons the user fixes outside the annotations (copy the images, point --images elsewhere): a shard
# that kept nothing and lost records for one of them is left unfinished, so a rerun after the fix builds it.
FIXABLE_REASONS = frozenset({MISSING, EMPTY, UNREADABLE, SIZE_MISMATCH, AMBIGUOUS, MISSING_FOLDER})

_DRIVE = re.compile(r"^[A-Za-z]:")


def size_problem(width: object, height: object) -> str | None:
    """Why a declared image size cannot be used (checked before anything is allocated), or None."""
    if not isinstance(width, int) or not isinstance(height, int) or isinstance(width, bool) or isinstance(height, bool):
        return BAD_SIZE
    if width <= 0 or height <= 0:
        return BAD_SIZE
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
        return TOO_LARGE
    return None


def name_problem(name: str) -> str | None:
    """Why a file name from an annotation cannot name a file under the images root (no file access)."""
    if not name or "\x00" in name:
        return "empty or NUL in file name"
    posix = name.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        return "absolute path"
    if ".." in posix.split("/"):
        return "'..' in path"
    return None


def resolve_inside(root: Path, rel: str) -> tuple[str | None, str | None]:
    """(`rel` as a clean POSIX path, None) when `root / rel` stays inside `root` once symlinks are
    resolved; (None, why not) otherwise. Components that do not exist are judged by name only.
    Takes the root, so a caller with several roots (one per source) can use it for each."""
    problem = name_problem(rel)
    if problem:
        return None, problem
    clean = PurePosixPath(rel).as_posix()
    real_root = _real_path(str(root))
    path = real_root
    for part in clean.split("/"):
        path = os.path.join(path, part)
        try:
            is_link = stat.S_ISLNK(os.lstat(path).st_mode)
        except OSError:
            break  # does not exist (yet): nothing below it can be a link
        if is_link:  # only then is the costly full resolution needed
            real = os.path.realpath(os.path.join(real_root, clean))
            if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
                return None, f"a symlink resolves outside the root, to {real}"
            break
    return clean, None


@lru_cache(maxsize=64)
def _real_path(path: str) -> str:
    return os.path.realpath(path)


@dataclass(frozen=True)
class ImageHeader:
    width: int
    height: int
    format: str


def read_header(path: Path) -> tuple[ImageHeader | None, str | None, str]:
    """Size and format from the file's header (no decode): (header, None, "") or (None, reason, detail)."""
    try:
        handle = open(path, "rb")  # PIL opens a given handle faster than a path (~35 vs ~45 us)
    except FileNotFoundError:
        return None, MISSING, str(path)
    except OSError as exc:
        return None, UNREADABLE, f"{path}: {exc.strerror or exc}"
    with handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, UNREADABLE, f"{path}: not a regular file"
        if info.st_size == 0:
            return None, EMPTY, str(path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(handle) as im:
                    return ImageHeader(int(im.width), int(im.height), str(im.format or "?")), None, ""
        except Image.DecompressionBombError:
            return None, TOO_LARGE, str(path)
        except Exception as exc:  # PIL raises many types (UnidentifiedImageError, SyntaxError, struct.error...)
            return None, UNREADABLE, f"{path}: {type(exc).__name__}: {str(exc)[:120]}"


SUBFOLDER_DEPTH = 3  # how far below --images a file is looked up when it is not directly there


def check_images_option(options: SourceOptions) -> bool:
    """The loader option `check_images` (default on): whether image files are opened and checked."""
    return bool(options.extra.get("check_images", True))


class ImageFiles:
    """Existence, containment and header checks for the image files under one images root.

    With `check=False` (loader option `check_images`) nothing is read from disk: names are still
    checked for escaping the root, sizes still bounded, and the first candidate name is used.
    """

    def __init__(self, root: Path | None, check: bool = True) -> None:
        self.root = Path(root) if root is not None else None
        self.check = check and root is not None
        if self.check and self.root is not None and not self.root.is_dir():
            raise InputFileError(self.root, "images root not found (a directory; set it with --images)")
        self._listings: dict[str, frozenset[str]] = {}
        self._below: dict[str, list[str]] | None = None  # file name -> paths in subfolders, built on first miss

    def exists(self, rel_path: str) -> bool:
        if not self.check:
            return True
        assert self.root is not None
        folder, _, name = rel_path.rpartition("/")
        listing = self._listings.get(folder)
        if listing is None:
            try:
                listing = frozenset(os.listdir(self.root / folder))
            except OSError:
                listing = frozenset()
            self._listings[folder] = listing
        return name in listing

    def first_existing(self, candidates: Sequence[str]) -> str | None:
        """The first candidate under the root; failing that, the one file in a subfolder (up to
        SUBFOLDER_DEPTH down) whose path ends with a candidate, so `--images` may be a parent folder
        (one COCO root holding train2014/ and val2014/ for several sources)."""
        usable = [rel for rel in candidates if name_problem(rel) is None]
        for rel in usable:
            if self.exists(rel):
                return rel
        for rel in usable:
            found = self.below(rel)
            if found is not None:
                return found
        return None

    def below(self, rel: str) -> str | None:
        if not self.check or self.root is None:
            return None
        if self._below is None:
            self._below = {}
            for dirpath, dirnames, filenames in os.walk(self.root):  # symlinked folders are not followed
                depth = len(Path(dirpath).relative_to(self.root).parts)
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")) if depth < SUBFOLDER_DEPTH else []
                if depth == 0:
                    continue
                prefix = Path(dirpath).relative_to(self.root).as_posix()
                for name in filenames:
                    self._below.setdefault(name, []).append(f"{prefix}/{name}")
        matches = self._matches_below(rel)
        return matches[0] if len(matches) == 1 else None

    def _matches_below(self, rel: str) -> list[str]:
        tail = PurePosixPath(rel).as_posix()
        return [p for p in (self._below or {}).get(PurePosixPath(rel).name, []) if p.endswith("/" + tail)]

    def not_found(self, candidates: Sequence[str]) -> tuple[str, str]:
        """(reason, detail) for candidates none of which was found: missing, with where it was looked
        for, or ambiguous, with the folders that each hold a file of that name."""
        for rel in candidates:
            matches = self._matches_below(rel) if name_problem(rel) is None else []
            if len(matches) > 1:
                shown = ", ".join(matches[:3]) + (f" and {len(matches) - 3} more" if len(matches) > 3 else "")
                return AMBIGUOUS, f"{rel}: {shown} (pass the folder that holds the images as --images)"
        return MISSING, f"{candidates[0]} (looked in {self.root} and up to {SUBFOLDER_DEPTH} folders below it)"

    def locate(
        self, candidates: Sequence[str], width: int | None = None, height: int | None = None
    ) -> tuple[str | None, str | None, str]:
        """The first candidate that is a usable image inside the root and, when a size is given, of
        that size: (relative path, None, "") or (None, reason, detail). One call per image."""
        if not candidates:
            return None, MISSING, ""
        primary = candidates[0]
        problem = name_problem(primary)
        if problem:
            return None, ESCAPES_ROOT, f"{primary!r}: {problem}"
        if not self.check:
            return PurePosixPath(primary).as_posix(), None, ""
        assert self.root is not None
        rel = self.first_existing(candidates)
        if rel is None:
            reason, detail = self.not_found(candidates)
            return None, reason, detail
        clean, problem = resolve_inside(self.root, rel)
        if clean is None:
            return None, ESCAPES_ROOT, f"{rel!r}: {problem}"
        header, reason, detail = read_header(self.root / clean)
        if header is None:
            return None, reason, detail
        if width is not None and height is not None and (header.width, header.height) != (width, height):
            return None, SIZE_MISMATCH, f"{clean}: file {header.width}x{header.height}, annotation {width}x{height}"
        return clean, None, ""
