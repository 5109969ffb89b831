"""What both export layouts share: claiming `--out` for a build, and the result they fill."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from scar.core.errors import ScarError
from scar.export import names
from scar.export.build_folder import Build, read_build
from scar.export.images import COPY, LINK, NONE, ImageCounts, ImagePlan
from scar.export.outdir import prepare

IMAGE_COLUMNS = ("qry_image_path", "pos_image_path", "neg_image_path")


@dataclass
class ExportResult:
    out: Path
    layout: str
    files: dict[str, int] = field(default_factory=dict)  # path relative to out -> rows
    images: ImageCounts = field(default_factory=ImageCounts)
    pruned: int = 0
    images_mode: str = LINK

    def summary(self) -> dict[str, Any]:
        """What the export marker records besides its file list."""
        i = self.images
        return {"rows": self.files, "images": {"mode": self.images_mode, "linked": i.linked, "copied": i.copied,
                                               "reused": i.reused}}


def start(build_dir: Path, out: Path, layout: str, images_mode: str, images_override: Path | None,
          planned: Callable[[Build], list[str]], official_names: bool = False
          ) -> tuple[Build, list[str], ExportResult, ImagePlan]:
    """Read the build and claim `out` for it: the build, the earlier export's files, an empty result
    and the image plan every layout fills. `official_names`: refuse sources whose release names collide."""
    if images_mode not in (LINK, COPY, NONE):
        raise ScarError(f"unknown images mode {images_mode!r}")
    build = read_build(build_dir, images_override)
    if official_names:
        names.check_unique([s.name for s in build.sources])
    previous = prepare(out, build_dir, layout, planned(build))
    return build, previous, ExportResult(out, layout, images_mode=images_mode), ImagePlan(need_files=images_mode != NONE)
