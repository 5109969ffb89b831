"""OpenCLIP on MMEB: `scar eval --family openclip` reproduces VLM2Vec v1's `evaluation/eval_openclip.py` (golden data).

The official script runs the `open_clip` package on `hf-hub:laion/CLIP-ViT-B-16-laion2B-s34B-b88K`; the
project runs the transformers copy of the same weights that LAION's repositories hold. The golden data
was made from one tiny model written in both layouts (`data/openclip/open_clip/`: open_clip's config,
state dict and BPE file; `data/openclip/model/`: transformers'). End to end through the CLI on the
committed fixture (`data/dual/mmeb`, five tasks; VOC2007 holds RGBA, P and LA pictures): per task the
same num_correct, per query the same top-1 pick, every item's embedding within TOLERANCE. `fixed`, or
one quirk of open_clip's switched off (its text cleaning, its image transform, resizing in the file's
mode, the image token), must break it. open_clip itself is not needed here.
"""

from __future__ import annotations

import gzip
import json

import pytest
import torch
from PIL import Image

from evaluators.models.registry import load_embedder
from tests.parity.dual_support import check_embeddings, check_fixed_protocol_differs, check_picks_and_counts, MMEB, PINNED_COMMIT, Family, encode_with
from tests.parity.openclip_layout import to_transformers
from tests.parity.support import DATA, TOLERANCE

OPENCLIP = Family("openclip", DATA / "openclip" / "model")
OPEN_CLIP_FILES = DATA / "openclip" / "open_clip"
TASKS = ["ImageNet-1K", "N24News", "MSCOCO_t2i", "NIGHTS", "VOC2007"]


def test_golden_data_is_from_the_pinned_official_code():
    data = OPENCLIP.golden()
    assert data["official"]["repo"] == "TIGER-AI-Lab/VLM2Vec" and data["official"]["commit"] == PINNED_COMMIT
    assert "evaluation/eval_openclip.py" in data["official"]["files_sha256_16"]
    assert data["official"]["packages"]["open_clip_torch"] == "2.26.1"
    assert data["hub_id"] == "laion/CLIP-ViT-B-16-laion2B-s34B-b88K"
    assert data["conversion_max_abs_diff"] <= 1e-6  # open_clip's model and its transformers copy, same inputs
    assert list(data["tasks"]) == TASKS
    assert data["inputs"]["items"] == OPENCLIP.recorded_inputs()
    assert sum(task["ties_at_top"] for task in data["tasks"].values()) > 0  # the tie rule is exercised


def test_transformers_weights_are_the_open_clip_weights():
    """The committed transformers copy holds exactly the tensors of the committed open_clip state dict."""
    from safetensors.torch import load_file

    state = torch.load(OPEN_CLIP_FILES / "open_clip_pytorch_model.bin", map_location="cpu", weights_only=True)
    converted = to_transformers(state)
    committed = load_file(str(OPENCLIP.model / "model.safetensors"))
    assert set(converted) == set(committed)
    assert all(torch.equal(converted[k], committed[k]) for k in committed)


def test_transformers_tokenizer_is_the_open_clip_vocabulary():
    """vocab.json gives every token the id open_clip's SimpleTokenizer gives it (bytes, bytes + `</w>`, one
    token per merge of its BPE file, then start and end of text)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols = [chr(b) for b in printable] + [chr(256 + i) for i in range(256 - len(printable))]
    config = json.loads((OPEN_CLIP_FILES / "open_clip_config.json").read_text())
    lines = gzip.open(OPEN_CLIP_FILES / config["model_cfg"]["text_cfg"]["tokenizer_kwargs"]["bpe_path"]).read().decode().split("\n")
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(line.split()) for line in lines[1:]]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    assert json.loads((OPENCLIP.model / "vocab.json").read_text()) == {token: i for i, token in enumerate(vocab)}
    assert config["model_cfg"]["text_cfg"]["vocab_size"] == len(vocab)


@pytest.fixture(scope="module")
def official_run(tmp_path_factory):
    return OPENCLIP.run_scar_eval(tmp_path_factory.mktemp("openclip-official"))


@pytest.mark.parametrize("task", TASKS)
def test_scar_eval_gives_eval_openclip_picks_and_counts(official_run, task):
    check_picks_and_counts(OPENCLIP, official_run, task)


@pytest.mark.parametrize("task", TASKS)
def test_scar_eval_embeddings_match_eval_openclip(official_run, task):
    check_embeddings(official_run, task, TOLERANCE)


def test_fixed_protocol_does_not(tmp_path):
    check_fixed_protocol_differs(OPENCLIP, tmp_path, TOLERANCE)


# ---- one quirk off at a time, on the embedder itself -------------------------------------------------

@pytest.fixture
def embedder():
    return load_embedder(str(OPENCLIP.model), family="openclip")  # the default protocol: official


def crop_margin(image: str) -> int:
    """What a shortest-side resize to 64 leaves for the 64-pixel centre crop to cut."""
    with Image.open(MMEB / "images" / image) as picture:
        short, long = sorted(picture.size)
    return int(64 * long / short) - 64


def short_side(image: str) -> int:
    with Image.open(MMEB / "images" / image) as picture:
        return min(picture.size)


def file_mode(image: str) -> str:
    with Image.open(MMEB / "images" / image) as picture:
        return picture.mode


def item_diffs(report) -> dict:
    return {key: diff for task in report.values() for key, diff in task["diffs"].items()}


def test_embedder_matches(embedder):
    report = OPENCLIP.compare(encode_with(embedder))
    for task, expected in OPENCLIP.golden()["tasks"].items():
        assert report[task]["picks"] == expected["picks"] and report[task]["max_abs_diff"] <= TOLERANCE, task


def test_without_open_clip_text_cleaning_parity_breaks(embedder, monkeypatch):
    """SimpleTokenizer runs ftfy and html.unescape first; transformers' CLIP tokenizer does not: curly quotes,
    `&amp;`, the fi ligature, full-width letters and mojibake tokenize differently."""
    from baselines.clip import official_text

    monkeypatch.setattr(embedder, "text_of", official_text)
    diffs = item_diffs(OPENCLIP.compare(encode_with(embedder)))
    for label in ("o\u2019clock tower", "rock &amp; roll drum", "fish &amp;amp; chips", "\ufb01re truck",
                  "\uff34\uff36 set", "caf\u00c3\u00a9 table"):
        assert diffs[("tgt", label, "")] > 100 * TOLERANCE, label
    assert diffs[("tgt", "dog-house", "")] <= TOLERANCE  # nothing to clean: the same tokens


def test_transformers_image_processor_breaks_parity(embedder, monkeypatch):
    """transformers' CLIP image processor floors the centre-crop offset where open_clip's CenterCrop rounds
    it (half to even): a one-pixel shift exactly when the margin is 3 mod 4. It also converts to RGB
    before resizing (see test_resizing_in_the_file_mode_matters)."""
    from transformers import CLIPImageProcessorPil

    monkeypatch.setattr(embedder.processor, "image_processor", CLIPImageProcessorPil.from_pretrained(str(OPENCLIP.model)))
    diffs = item_diffs(OPENCLIP.compare(encode_with(embedder)))
    shifted = [d for (_, _, image), d in diffs.items() if image and crop_margin(image) % 4 == 3]
    same = [d for (_, _, image), d in diffs.items() if image and crop_margin(image) % 4 != 3
            and file_mode(image) in ("RGB", "L")]
    assert len(shifted) >= 5 and min(shifted) > 10 * TOLERANCE
    assert same and max(same) <= TOLERANCE


def test_resizing_in_the_file_mode_matters(embedder, monkeypatch):
    """open_clip's transform resizes the picture in its file's mode and converts to RGB afterwards: RGBA and
    LA resize with premultiplied alpha, P with nearest neighbour. Converting first moves exactly those
    that are resized (a picture whose short side is already 64 is only cropped)."""
    monkeypatch.setattr(embedder, "file_mode", False)
    diffs = item_diffs(OPENCLIP.compare(encode_with(embedder)))
    moved = 0
    for (_, _, image), diff in diffs.items():
        if image and file_mode(image) in ("RGBA", "P", "LA") and short_side(image) != 64:
            assert diff > 10 * TOLERANCE, image
            moved += 1
        else:
            assert diff <= TOLERANCE, image
    assert moved >= 4


def test_stripping_the_image_token_breaks_parity(embedder, monkeypatch):
    """OpenCLIPCollator tokenizes `<|image_1|>` with the text."""
    from baselines.clip import open_clip_text, query_text

    monkeypatch.setattr(embedder, "text_of", lambda text: open_clip_text(query_text(text)))
    report = OPENCLIP.compare(encode_with(embedder))
    assert all(report[t]["max_abs_diff"] > 100 * TOLERANCE for t in ("ImageNet-1K", "N24News", "NIGHTS", "VOC2007"))
    assert any(report[t]["picks"] != OPENCLIP.golden()["tasks"][t]["picks"] for t in report)
