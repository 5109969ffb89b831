"""The model registry: names, variant suffixes, local directories with --family, errors, listing."""

from __future__ import annotations

import argparse
import json
import sys
import types

import pytest

from evaluators.models import registry
from evaluators.models.listing import add_models_arguments, run_models
from evaluators.models.registry import ModelSpec, load_embedder, models, resolve, split_variant
from scar.core.errors import ScarError


@pytest.fixture
def recording_loader(monkeypatch):
    """A registered fake family whose loader records its arguments (this tests the registry, not a model)."""
    calls: list[dict] = []
    module = types.ModuleType("fake_family_loader")

    def load(spec, variant, device, dtype, model_path=None, **options):
        calls.append({"spec": spec, "variant": variant, "device": device, "dtype": dtype, "model_path": model_path, **options})
        return "embedder"

    module.load = load
    monkeypatch.setitem(sys.modules, "fake_family_loader", module)
    monkeypatch.setattr(registry, "_MODELS", dict(registry.models()))
    monkeypatch.setattr(registry, "_FAMILY_LOADERS", dict(registry.families()))
    registry.register(
        ModelSpec(
            name="fake-1",
            family="fake",
            hf_id="org/fake-1",
            loader="fake_family_loader:load",
            revision="abc123",
            defaults={"image_size": 64, "fusion": "sum"},
        )
    )
    registry.register(ModelSpec(name="fake-vlm", family="fakevlm", hf_id="org/fake-vlm", loader="fake_family_loader:load", default_region="boxtext"))
    return calls


def test_split_variant():
    assert split_variant("clip-vit-l-14") == ("clip-vit-l-14", None)
    assert split_variant("clip-vit-l-14+crop") == ("clip-vit-l-14", "crop")
    assert split_variant("/data/models/my-clip+circle") == ("/data/models/my-clip", "circle")
    assert split_variant("org/model+boxtext") == ("org/model", "boxtext")
    with pytest.raises(ScarError, match=r"unknown region variant '\+blur'"):
        split_variant("clip-vit-l-14+blur")
    with pytest.raises(ScarError, match="no model"):
        split_variant("+crop")


def test_the_three_baselines_are_registered():
    specs = models()
    assert specs["clip-vit-l-14"].hf_id == "openai/clip-vit-large-patch14"
    assert specs["openclip-vit-l-14"].hf_id == "laion/CLIP-ViT-L-14-laion2B-s32B-b82K"
    assert specs["siglip-so400m"].hf_id == "google/siglip-so400m-patch14-384"
    assert specs["siglip-so400m"].defaults["image_size"] == 384
    assert specs["clip-vit-l-14"].defaults["image_size"] == 224
    assert {"clip", "openclip", "siglip"} <= set(registry.families())


def test_resolve_registered_name_with_variant():
    spec, variant = resolve("siglip-so400m+circle")
    assert spec.name == "siglip-so400m" and variant == "circle"


def test_unknown_name_is_one_line_with_closest_names():
    with pytest.raises(ScarError) as err:
        resolve("clip-vit-l14")
    message = str(err.value)
    assert "\n" not in message
    assert "unknown model 'clip-vit-l14'" in message and "did you mean clip-vit-l-14" in message
    assert "--family" in message


def test_local_directory_needs_family(tmp_path):
    with pytest.raises(ScarError, match="is a local directory: pass --family"):
        resolve(str(tmp_path))
    with pytest.raises(ScarError, match="unknown family 'nope'"):
        resolve(str(tmp_path), family="nope")
    spec, variant = resolve(f"{tmp_path}+crop", family="clip")
    assert spec.hf_id == str(tmp_path) and spec.family == "clip" and spec.loader == "baselines.clip:load"
    assert variant == "crop"


def test_directory_with_plus_in_its_name_is_taken_whole(tmp_path):
    odd = tmp_path / "clip+crop"
    odd.mkdir()
    spec, variant = resolve(str(odd), family="clip")
    assert spec.hf_id == str(odd) and variant is None


def test_load_embedder_passes_spec_defaults_and_options(recording_loader):
    assert load_embedder("fake-1+crop", device="cuda:1", dtype="bfloat16", fusion="mean", sam_checkpoint=None) == "embedder"
    call = recording_loader[-1]
    assert call["spec"].name == "fake-1" and call["spec"].revision == "abc123"
    assert call["variant"] == "crop" and call["device"] == "cuda:1" and call["dtype"] == "bfloat16"
    assert call["model_path"] is None  # registered: the loader uses spec.hf_id at spec.revision
    assert call["image_size"] == 64 and call["fusion"] == "mean"  # option beats default
    assert "sam_checkpoint" not in call  # unset (None) options keep the defaults


def test_load_embedder_default_region_revision_and_local_copy(recording_loader):
    load_embedder("fake-vlm")
    assert recording_loader[-1]["variant"] == "boxtext"
    load_embedder("fake-vlm+crop")
    assert recording_loader[-1]["variant"] == "crop"
    load_embedder("fake-1", revision="deadbeef", model_path="/mnt/copy")
    call = recording_loader[-1]
    assert call["spec"].revision == "deadbeef" and call["model_path"] == "/mnt/copy"
    assert models()["fake-1"].revision == "abc123"  # the registered spec is not changed


def test_load_embedder_hub_id_with_family(recording_loader):
    load_embedder("someone/their-model+circle", family="fake")
    call = recording_loader[-1]
    assert call["model_path"] == "someone/their-model" and call["variant"] == "circle"
    assert call["spec"].family == "fake"


def run_listing(argv: list[str], capsys) -> str:
    parser = argparse.ArgumentParser()
    add_models_arguments(parser)
    assert run_models(parser.parse_args(argv)) == 0
    return capsys.readouterr().out


def test_scar_models_lists_every_registered_name(capsys):
    out = run_listing([], capsys)
    for name, spec in models().items():
        assert name in out and spec.hf_id in out
    assert "+crop +circle +boxtext" in out
    assert "image_size=384" in out


def test_scar_models_json_and_family_filter(capsys):
    rows = json.loads(run_listing(["--json", "--family", "clip"], capsys))
    assert [row["name"] for row in rows] == ["clip-vit-l-14"]
    assert rows[0]["region_variants"] == ["crop", "circle", "boxtext"]
    all_rows = json.loads(run_listing(["--json"], capsys))
    assert [row["name"] for row in all_rows] == sorted(models())
    with pytest.raises(ScarError, match="unknown family"):
        run_listing(["--family", "nope"], capsys)


def test_local_directory_is_named_by_its_folder_and_gets_its_familys_region(tmp_path):
    from evaluators.models.registry import resolve

    model_dir = tmp_path / "runs" / "my-vlm2vec"
    model_dir.mkdir(parents=True)
    spec, variant = resolve(str(model_dir), family="vlm2vec")
    assert spec.name == "my-vlm2vec" and spec.hf_id == str(model_dir)
    assert spec.default_region == "boxtext" and variant is None
    spec, variant = resolve(f"{model_dir}+crop", family="clip")
    assert spec.name == "my-vlm2vec" and spec.default_region is None and variant == "crop"
