"""Tiny random-weight checkpoints: official HF layout, offline loading, deterministic per seed."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import load_file

from baselines.tiny import TINY_FAMILIES, clip_vocab, ensure_tiny_models


@pytest.fixture(scope="module")
def two_roots(tmp_path_factory):
    first = ensure_tiny_models(tmp_path_factory.mktemp("first"))
    second = ensure_tiny_models(tmp_path_factory.mktemp("second"))
    return first, second


def test_writes_both_models_in_the_hf_layout(two_roots):
    first, _ = two_roots
    assert set(first) == {"tiny-clip", "tiny-siglip"} == set(TINY_FAMILIES)
    for name, directory in first.items():
        files = {path.name for path in directory.iterdir()}
        assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= files
        assert files & {"processor_config.json", "preprocessor_config.json"}
        config = json.loads((directory / "config.json").read_text())
        assert config["model_type"] == TINY_FAMILIES[name]
        marker = json.loads((directory / "tiny_model.json").read_text())
        assert marker["random_weights"] is True and marker["seed"] == 0


def test_same_seed_same_weights(two_roots):
    first, second = two_roots
    for name in first:
        a = load_file(first[name] / "model.safetensors")
        b = load_file(second[name] / "model.safetensors")
        assert a.keys() == b.keys()
        assert all((a[key] == b[key]).all() for key in a), name
        assert (first[name] / "config.json").read_text() == (second[name] / "config.json").read_text()


def test_other_seed_other_weights(tmp_path):
    from baselines.tiny import write_tiny_clip

    a = load_file(write_tiny_clip(tmp_path / "s0", seed=0) / "model.safetensors")
    b = load_file(write_tiny_clip(tmp_path / "s1", seed=1) / "model.safetensors")
    assert any(not (a[key] == b[key]).all() for key in a)


def test_present_models_are_not_rewritten(two_roots):
    first, _ = two_roots
    root = first["tiny-clip"].parent
    stamps = {name: (path / "model.safetensors").stat().st_mtime_ns for name, path in first.items()}
    assert ensure_tiny_models(root) == first
    assert {name: (path / "model.safetensors").stat().st_mtime_ns for name, path in first.items()} == stamps


def test_incomplete_directory_is_rewritten(tmp_path):
    (tmp_path / "tiny-clip").mkdir()
    (tmp_path / "tiny-clip" / "config.json").write_text("{}")  # e.g. a killed earlier write
    paths = ensure_tiny_models(tmp_path)
    assert json.loads((paths["tiny-clip"] / "config.json").read_text())["model_type"] == "clip"


def test_loads_offline_through_auto_classes(two_roots, monkeypatch):
    from transformers import AutoModel, AutoProcessor

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    first, _ = two_roots
    clip = AutoModel.from_pretrained(first["tiny-clip"])
    siglip = AutoModel.from_pretrained(first["tiny-siglip"])
    assert type(clip).__name__ == "CLIPModel" and type(siglip).__name__ == "SiglipModel"
    clip_processor = AutoProcessor.from_pretrained(first["tiny-clip"])
    siglip_processor = AutoProcessor.from_pretrained(first["tiny-siglip"])
    assert type(clip_processor).__name__ == "CLIPProcessor" and type(siglip_processor).__name__ == "SiglipProcessor"
    # CLIP's byte-level BPE: start, merged "the</w>", letters, end-of-word, end (the highest id)
    vocab = clip_vocab()
    ids = clip_processor.tokenizer("The cat").input_ids
    assert clip_processor.tokenizer.convert_ids_to_tokens(ids) == ["<|startoftext|>", "the</w>", "c", "a", "t</w>", "<|endoftext|>"]
    assert ids[-1] == max(vocab.values()) == clip.config.text_config.eos_token_id
    # SigLIP-style: lower-cased word pieces, "</s>" appended, padded with "</s>" to a fixed length
    tokens = siglip_processor.tokenizer(["The cat"], padding="max_length", max_length=8)
    assert siglip_processor.tokenizer.convert_ids_to_tokens(tokens.input_ids[0])[:5] == ["▁the", "▁c", "a", "t", "</s>"]
    assert len(tokens.input_ids[0]) == 8
    assert tokens.input_ids[0][-1] == siglip.config.text_config.pad_token_id
