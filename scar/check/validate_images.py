"""The image checks of `scar validate`: each image a row names is inspected once, however many rows name it.

Always: the path stays inside the images root (symlinks resolved), the file exists and its header
reads, and the header's size equals the row's image_width x image_height. With `decode=True`
(`scar validate --decode`) every image is also fully decoded, which finds truncated or corrupt pixel
data that a header read cannot.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from scar.sources.images import read_header, resolve_inside


@dataclass(frozen=True)
class ImageFacts:
    problems: tuple[str, ...]  # rule names broken by the image itself, whichever row names it
    size: tuple[int, int] | None  # (width, height) from the header, when it read


def inspect_image(images_root: Path, image_path: str, decode: bool) -> ImageFacts:
    if not image_path:
        return ImageFacts(("image_missing",), None)
    clean, _ = resolve_inside(images_root, image_path)
    if clean is None:
        return ImageFacts(("image_path_escapes",), None)
    path = images_root / clean
    if not path.is_file():
        return ImageFacts(("image_missing",), None)
    header, _, _ = read_header(path)
    if header is None:
        return ImageFacts(("image_unreadable",), None)
    if decode and not _decodes(path):
        return ImageFacts(("image_undecodable",), (header.width, header.height))
    return ImageFacts((), (header.width, header.height))


def _decodes(path: Path) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.load()
        return True
    except Exception:  # PIL raises many types for broken pixel data
        return False
