"""`<out>/<source>/.build-manifest.json`: the settings that determine a source's rows.

Written by the first build into a folder; every later build into it (a resume, another worker)
must carry the same settings, or it is refused rather than mixing rows made two ways.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scar.core.errors import ScarError
from scar.core.images_roots import stored_form
from scar.core.tempfiles import atomic_write_json, temp_path

if TYPE_CHECKING:
    from scar.build.config import BuildConfig
    from scar.generate.base import Generator

MANIFEST_NAME = ".build-manifest.json"


def review_ids(config: BuildConfig) -> list[str]:
    """The review-rejected ids of this build's source (a review file may cover several sources)."""
    return sorted(i for i in config.review_rejects if i.startswith(f"{config.source.name}:"))


def build_manifest(config: BuildConfig, generator: Generator, images_root: Path) -> dict[str, Any]:
    opts = config.source_options
    manifest = {
        "source": config.source.name,
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
    if opts.stuff:  # scene evidence changes rows; absent without --stuff, so earlier manifests still match
        manifest["source_options"]["stuff"] = [p.name for p in opts.stuff]
    review = review_ids(config)
    if review:  # absent without a review, so manifests of earlier builds still match
        digest = hashlib.sha256("\n".join(review).encode("utf-8")).hexdigest()
        manifest["review"] = {"rejected": len(review), "rejected_ids_sha256": digest}
    return manifest


def check_manifest(source_dir: Path, manifest: dict[str, Any]) -> bool:
    """Claim a new source folder by writing the manifest; refuse a folder built with other settings.
    True when this call wrote the manifest (this build owns the folder).

    Claim and check are one atomic step: the manifest is written complete under a temporary name and
    hard-linked to its final name, which fails when it exists. Of two builds started together, one
    links and the other reads what the first wrote, so builds with other settings are refused, never mixed."""
    path = source_dir / MANIFEST_NAME
    tmp = temp_path(path)
    atomic_write_json(tmp, manifest)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    try:
        existing = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ScarError(f"{path}: unreadable build manifest ({exc}); remove it or use a new --out") from None
    if existing != manifest:
        diffs = sorted(k for k in {**existing, **manifest} if existing.get(k) != manifest.get(k))
        raise ScarError(
            f"{source_dir} holds a build made with other settings ({', '.join(diffs)} differ); "
            f"use a new --out or remove {source_dir}"
        )
    return False


def release_empty_claim(source_dir: Path) -> bool:
    """Remove the manifest of a source folder that holds no finished shard, so a rerun with corrected
    inputs (another --images, say) may claim it. Called only by the build that claimed the folder."""
    if any(source_dir.glob("*.parquet")):
        return False
    (source_dir / MANIFEST_NAME).unlink(missing_ok=True)
    return True


TERMS_NAME = ".source-terms.json"  # what the source's own files say of their terms, per split (scar.publish.terms)


def record_declared_terms(source: Any, split: str, source_dir: Path) -> None:
    """Keep what the loader read of the split's own license statements beside the shards, for the card."""
    declared = source.declared_terms(split) if hasattr(source, "declared_terms") else None
    if declared is None:
        return
    known = declared_terms(source_dir) or {}
    if known.get(split) != declared:
        atomic_write_json(source_dir / TERMS_NAME, dict(sorted({**known, split: declared}.items())))


def declared_terms(source_dir: Path) -> dict[str, Any] | None:
    """What the source's own annotation files say of their terms (written by the build), or None."""
    path = source_dir / TERMS_NAME
    try:
        data = json.loads(path.read_text("utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
