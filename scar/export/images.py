"""The images of an export: one folder, `images/<source>/<path as the rows store it>`.

Every path is checked before anything is written: the row's path must stay inside its source's
images root once symlinks are resolved (`scar.sources.images.resolve_inside`: no absolute path, no
`..`, no link out), the file must exist, and the destination must stay inside the export's images
folder. Files are hard-linked (no extra disk), else copied (another disk, or a file system without
links); a symlink is never written, so nothing in an export points outside it. A rerun reuses every
destination that already holds the same file.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from scar.core.errors import ScarError
from scar.core.tempfiles import temp_path
from scar.sources.images import resolve_inside

IMAGES_FOLDER = "images"
LINK, COPY, NONE = "link", "copy", "none"
MODES = (LINK, COPY, NONE)
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


def check_source_name(source: str) -> str:
    """A source name is a folder name of the export: one plain path component."""
    if not _SOURCE_NAME.match(source) or source in (".", ".."):
        raise ScarError(f"source {source!r}: not a plain folder name, cannot be exported")
    return source


@dataclass
class ImageCounts:
    linked: int = 0
    copied: int = 0
    reused: int = 0

    @property
    def total(self) -> int:
        return self.linked + self.copied + self.reused


@dataclass
class ImagePlan:
    """Which file goes where: (source, path in rows) -> the real file under the source's root.
    With `need_files` False (`--no-images`) paths are still checked, by name and links, but no file is planned."""

    need_files: bool = True
    files: dict[tuple[str, str], str] = field(default_factory=dict)
    _clean: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, source: str, root: Path, rel: object, where: str) -> str:
        """Check one row's image and plan it; the clean relative path (as the rows will hold it)."""
        if not isinstance(rel, str):
            raise ScarError(f"{where}: image path {rel!r} is not a string")
        known = self._clean.get((source, rel))
        if known is not None:
            return known
        clean, problem = resolve_inside(root, rel)
        if clean is None:
            raise ScarError(f"{where}: image path {rel!r} is unsafe ({problem})")
        if self.need_files and (source, clean) not in self.files:
            real = os.path.realpath(os.path.join(root, clean))
            if not os.path.isfile(real):
                raise ScarError(f"{where}: image {Path(root) / clean} not found (pass --images ROOT, or --no-images)")
            self.files[(source, clean)] = real
        self._clean[(source, rel)] = clean
        return clean


def destination(images_dir: Path, source: str, clean: str) -> Path:
    return images_dir / check_source_name(source) / clean


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def same_file(src: str, dest: Path, mode: str) -> bool:
    try:
        if os.path.samefile(src, dest):
            return True
        a, b = os.stat(src), os.stat(dest)
    except OSError:
        return False
    return mode == COPY and a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def place_file(src: str, dest: Path, mode: str) -> str:
    """Hard link or copy `src` to `dest` under a temporary name, then rename; which one happened."""
    tmp = temp_path(dest)
    tmp.unlink(missing_ok=True)
    how = COPY
    try:
        if mode == LINK:
            try:
                os.link(src, tmp)
                how = LINK
            except OSError:  # another file system, links not supported or not allowed: copy
                pass
        if how == COPY:
            shutil.copy2(src, tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ScarError(f"cannot write {dest}: {exc.strerror or exc}") from None
    return how


def place_images(plan: ImagePlan, images_dir: Path, mode: str, advance=lambda n: None) -> ImageCounts:
    """Write every planned image under `images_dir` (hard link, else copy); reuse what is already there."""
    counts = ImageCounts()
    images_dir.mkdir(parents=True, exist_ok=True)
    real_images = os.path.realpath(images_dir)
    checked: set[Path] = set()
    for (source, clean), src in sorted(plan.files.items()):
        dest = destination(images_dir, source, clean)
        if dest.parent not in checked:
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not _inside(os.path.realpath(dest.parent), real_images):  # a link planted in the export folder
                raise ScarError(f"{dest.parent}: resolves outside {images_dir}; remove it and rerun")
            checked.add(dest.parent)
        if dest.is_symlink():
            dest.unlink()
        if dest.exists() and same_file(src, dest, mode):
            counts.reused += 1
        elif place_file(src, dest, mode) == LINK:
            counts.linked += 1
        else:
            counts.copied += 1
        advance(1)
    return counts


def prune(images_dir: Path, plan: ImagePlan) -> int:
    """Delete files under `images_dir` that `plan` no longer holds (left by an earlier export into the same folder)."""
    if not images_dir.is_dir():
        return 0
    wanted = {destination(images_dir, s, c) for s, c in plan.files}
    removed = 0
    for dirpath, dirnames, filenames in os.walk(images_dir, topdown=False):
        for name in dirnames:  # os.walk lists a link to a folder here and does not enter it
            if os.path.islink(os.path.join(dirpath, name)):
                os.unlink(os.path.join(dirpath, name))
        for name in filenames:
            path = Path(dirpath) / name
            if path not in wanted:
                path.unlink()
                removed += 1
        if dirpath != str(images_dir) and not os.listdir(dirpath):
            os.rmdir(dirpath)
    return removed
