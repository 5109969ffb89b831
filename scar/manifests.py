"""`<out>/<source>/.build-manifest.json`: the settings that determine a source's rows.

Written by the first build into a folder; every later build into it (a resume, another worker)
must carry the same settings, or it is refused rather than mixing rows made two ways.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scar.errors import ScarError
from scar.images_roots import stored_form
from scar.tempfiles import atomic_write_json

if TYPE_CHECKING:
    from scar.generate.base import Generator
    from scar.pipeline import BuildConfig

MANIFEST_NAME = ".build-manifest.json"


def review_ids(config: BuildConfig) -> list[str]:
    """The review-rejected ids of this build's source (a review file may cover several sources)."""
    return sorted(i for i in config.review_rejects if i.startswith(f"{config.source}:"))


def build_manifest(config: BuildConfig, generator: Generator, images_root: Path) -> dict[str, Any]:
    opts = config.source_options
    manifest = {
        "source": config.source,
        # where this source's images are (relative to --out when inside it): another root is another build
        "images_root": stored_form(images_root, config.out),
        "seed": config.seed,
        "limit": config.limit,
        "shard_size": config.shard_size,
        "generator": {
            "name": generator.info.name,
            "model": generator.info.model,
            "prompt_version": generator.info.prompt_version,
            "region_kind": getattr(generator, "region_kind", "box"),
        },
        "source_options": {
            "split_by": opts.split_by,
            "max_per_image": opts.max_per_image,
            "min_area": opts.min_area,
            "annotations": [p.name for p in opts.annotations],
        },
    }
    review = review_ids(config)
    if review:  # absent without a review, so manifests of earlier builds still match
        digest = hashlib.sha256("\n".join(review).encode("utf-8")).hexdigest()
        manifest["review"] = {"rejected": len(review), "rejected_ids_sha256": digest}
    return manifest


def check_manifest(source_dir: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest into a new source folder; refuse a folder built with other settings."""
    path = source_dir / MANIFEST_NAME
    if path.exists():
        try:
            existing = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ScarError(f"{path}: unreadable build manifest ({exc}); remove it or use a new --out") from None
        if existing != manifest:
            diffs = sorted(k for k in {**existing, **manifest} if existing.get(k) != manifest.get(k))
            raise ScarError(
                f"{source_dir} holds a build made with other settings ({', '.join(diffs)} differ); "
                "use a new --out or remove that directory"
            )
    else:
        atomic_write_json(path, manifest)
