"""A model's fingerprint (its embedding-cache key and run identity) follows everything that changes its
output: loader options, region variant, protocol, a declared revision, else its source files, and the
files of a local model folder; a run folder holding another fingerprint is refused, never overwritten."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Iterator

import pytest

import scar
from evaluators.models import registry
from evaluators.models.custom import include
from evaluators.models.protocol import EmbedderInfo
from evaluators.models.registry import ModelSpec, load_embedder, register
from scar.core.errors import ScarError
from tests.eval_fixtures import mmeb_fixture, scar_fixture

USER_MODULE = '''
import numpy as np
import torch
import scar

SALT = {salt}


class WordHash:
    name = "word-hash"

    def __init__(self, dim=16, variant="plain", region_variant=None, protocol="official"):
        self.dim = dim

    def encode(self, items, batch_size):
        rows = []
        for item in items:
            v = np.zeros(self.dim)
            for word in item.text.split():
                v[(sum(map(ord, word)) + SALT) % self.dim] += 1
            v[0] += 1e-3
            rows.append(v / np.linalg.norm(v))
        return torch.tensor(np.stack(rows), dtype=torch.float32)


class Versioned(WordHash):
    revision = "{revision}"


scar.register_embedder("{name}", WordHash)
scar.register_embedder("{name}-versioned", Versioned)
'''


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A user's file that registers `<name>` (source-hashed) and `<name>-versioned` (revision "v1")."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    name = f"fp_user_{tmp_path.name}"
    path = tmp_path / f"{name}.py"
    path.write_text(USER_MODULE.format(salt=0, revision="v1", name=name))
    include(path)
    yield name, path
    sys.modules.pop(name, None)
    registry.unregister(name)
    registry.unregister(f"{name}-versioned")


def _fp(name: str, **options) -> EmbedderInfo:
    return load_embedder(name, device="cpu", dtype="float32", **options).info


def test_loader_options_variant_and_protocol_change_the_fingerprint(user_module):
    name, _ = user_module
    infos = [_fp(name), _fp(name, dim=8), _fp(f"{name}+crop"), _fp(f"{name}+circle"), _fp(name, protocol="fixed"),
             _fp(name, variant="other")]
    assert len({i.fingerprint for i in infos}) == len(infos)
    assert _fp(name).fingerprint == _fp(name).fingerprint  # and nothing else does
    assert infos[1].options["dim"] == 8 and infos[2].options["region_variant"] == "crop"
    assert infos[4].protocol == "fixed" and infos[5].options["variant"] == "other"


def test_revision_or_source_hash(user_module):
    name, path = user_module
    hashed, versioned = _fp(name), _fp(f"{name}-versioned")
    assert hashed.fingerprint_from == "source hash" and hashed.content_hash and hashed.revision == ""
    assert versioned.fingerprint_from == "revision" and versioned.revision == "v1" and not versioned.content_hash
    assert _fp(f"{name}-versioned", revision="v2").fingerprint != versioned.fingerprint

    path.write_text(path.read_text() + "\n# an edit that changes nothing but the file\n")
    assert _fp(name).fingerprint != hashed.fingerprint  # the source changed
    assert _fp(f"{name}-versioned").fingerprint == versioned.fingerprint  # the declared revision rules


def test_a_changed_source_file_misses_the_cache(user_module, tmp_path):
    name, path = user_module
    scar_fixture(tmp_path / "scar")
    common = dict(tasks="RefCOCO+", scar_root=tmp_path / "scar", out=tmp_path / "res", progress=False, device="cpu")
    first = scar.evaluate(name, **common)
    assert first.stats.encoded > 0 and first.records["RefCOCO+"]["fingerprint_from"] == "source hash"
    assert first.run_dir.name.startswith("src-")
    assert scar.evaluate(name, **common).stats.encoded == 0  # unchanged: all cached

    path.write_text(USER_MODULE.format(salt=3, revision="v1", name=name) + "\n# salted\n")
    importlib.reload(sys.modules[name])
    again = scar.evaluate(name, **common)
    assert again.stats.cached == 0 and again.stats.encoded == first.stats.encoded
    assert again.run_dir != first.run_dir  # another version, another run folder


def test_another_option_into_the_same_run_folder_is_refused(user_module, tmp_path):
    name, _ = user_module
    scar_fixture(tmp_path / "scar")
    mmeb_fixture(tmp_path / "mmeb")
    common = dict(scar_root=tmp_path / "scar", mmeb_root=tmp_path / "mmeb", out=tmp_path / "res", progress=False,
                  device="cpu")
    first = scar.evaluate(f"{name}-versioned", tasks="RefCOCO+", dim=16, **common)
    with pytest.raises(ScarError) as err:  # another task, but the folder's summary would mix two models
        scar.evaluate(f"{name}-versioned", tasks="N24News", dim=8, **common)
    message = str(err.value)
    assert "\n" not in message and str(first.run_dir) in message and "--overwrite" in message
    with pytest.raises(ScarError, match="another model fingerprint"):
        scar.evaluate(f"{name}-versioned", tasks="RefCOCO+", dim=8, **common)

    replaced = scar.evaluate(f"{name}-versioned", tasks="RefCOCO+", dim=8, overwrite=True, **common)
    assert replaced.stats.cached == 0 and replaced.run_dir == first.run_dir
    record = json.loads((first.run_dir / "RefCOCO+.json").read_text())
    assert record["model_options"]["dim"] == 8 and record["fingerprint_from"] == "revision"


def test_overwrite_removes_the_other_fingerprints_results(user_module, tmp_path):
    name, _ = user_module
    scar_fixture(tmp_path / "scar")
    mmeb_fixture(tmp_path / "mmeb")
    common = dict(scar_root=tmp_path / "scar", mmeb_root=tmp_path / "mmeb", out=tmp_path / "res", progress=False,
                  device="cpu", overwrite=True)
    first = scar.evaluate(f"{name}-versioned", tasks="RefCOCO+", **common)
    out = scar.evaluate(f"{name}-versioned", tasks="N24News", dim=8, **common)
    assert not (first.run_dir / "RefCOCO+.json").exists()
    assert not (first.run_dir / "RefCOCO+.predictions.jsonl").exists()
    assert out.summary["scar"]["tasks"] == {} and "N24News" in out.summary["mmeb"]["tasks"]


def test_a_local_model_folder_hashes_into_the_fingerprint(tmp_path):
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"one")

    class FromFolder:
        name = "from-folder"

        def __init__(self) -> None:
            self.info = EmbedderInfo(name="from-folder", model_id=str(folder))

        def encode(self, items, batch_size):
            raise AssertionError("not called")

    register(ModelSpec(name="from-folder", family="folder-test", hf_id=str(folder), loader=lambda *a, **k: FromFolder()))
    try:
        before = load_embedder("from-folder").info
        (folder / "model.bin").write_bytes(b"two")
        after = load_embedder("from-folder").info
    finally:
        registry.unregister("from-folder", family="folder-test")
    assert before.fingerprint_from == after.fingerprint_from == "folder hash"
    assert before.fingerprint != after.fingerprint


def test_hub_model_fingerprints_are_unchanged():
    """No content hash, no new field in the payload: caches of registered hub models stay valid."""
    info = EmbedderInfo(name="clip-vit-l-14", model_id="openai/clip-vit-large-patch14", revision="main",
                        family="clip", options={"region": None})
    assert info.fingerprint == "668d0b72f04ef5346120e0c8"  # the value before content hashes existed
