"""A card states only the license and citation the source itself gives: a private COCO-format set
(`"licenses": []`) is not called MS-COCO, while an MS-COCO release keeps COCO's terms."""

from __future__ import annotations

import json
from pathlib import Path

from scar.build.config import BuildConfig
from scar.build.pipeline import build
from scar.generate.offline import OfflineGenerator
from scar.sources import resolve_source
from scar.sources.base import SourceOptions
from tests.realistic import writers


def _build(tmp_path: Path, info: dict, licenses: list) -> tuple[str, dict]:
    files, images = writers.write_coco(tmp_path / "raw", 8, 4, seed=2)
    for f in files:
        data = json.loads(f.read_text())
        data["info"], data["licenses"] = info, licenses
        f.write_text(json.dumps(data))
    out = tmp_path / "out"
    options = SourceOptions(annotations=tuple(files), images=images)
    build(BuildConfig(source=resolve_source("coco"), out=out, source_options=options, progress=False, audit=False), OfflineGenerator(0))
    return (out / "README.md").read_text("utf-8"), json.loads((out / "stats.json").read_text())


def test_a_private_coco_format_set_claims_no_coco_terms(tmp_path: Path) -> None:
    card, stats = _build(tmp_path, {"description": "our warehouse shelves"}, [])
    assert stats["sources"]["coco"]["declared_terms"]["eval"]["ms_coco"] is False
    assert "license: other" in card
    assert "cc-by-4.0" not in card and "Flickr" not in card and "lin2014coco" not in card
    assert "none stated" in card


def test_a_private_set_with_its_own_license_names_it(tmp_path: Path) -> None:
    card, _ = _build(tmp_path, {"description": "field survey"}, [{"id": 1, "name": "Internal use only"}])
    assert "Internal use only" in card and "lin2014coco" not in card


def test_ms_coco_keeps_its_terms_and_citation(tmp_path: Path) -> None:
    info = {"description": "COCO 2017 Dataset", "url": "http://cocodataset.org", "version": "1.0", "year": 2017}
    card, _ = _build(tmp_path, info, [{"id": 1, "name": "Attribution License", "url": "http://creativecommons.org/licenses/by/2.0/"}])
    assert "license: cc-by-4.0" in card and "lin2014coco" in card
