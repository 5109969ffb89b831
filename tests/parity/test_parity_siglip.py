"""SigLIP on MMEB: `scar eval --family siglip` reproduces VLM2Vec v1's `evaluation/eval_siglip.py` (golden data).

End to end through the CLI on the committed fixture (`data/dual/mmeb`, four tasks) and tiny SigLIP
(`data/siglip/model`, google/siglip layout): per task the same num_correct, per query the same top-1
pick, every item's embedding within TOLERANCE of the official one. The reference is the official run at
batch size 1 (each text pooled at its own length, which is what the project computes at any batch
size); the official batch-16 run pools shorter texts on batch-dependent padding (recorded, see
test_official_batches_move_siglip_texts). `fixed`, or one official quirk switched off, must break it.
"""

from __future__ import annotations

import pytest

from evaluators.models.registry import load_embedder
from tests.parity.dual_support import check_embeddings, check_fixed_protocol_differs, check_picks_and_counts, PINNED_COMMIT, Family, encode_with
from tests.parity.support import DATA, TOLERANCE

SIGLIP = Family("siglip", DATA / "siglip" / "model")
TASKS = ["ImageNet-1K", "N24News", "MSCOCO_t2i", "NIGHTS"]


def test_golden_data_is_from_the_pinned_official_code():
    data = SIGLIP.golden()
    assert data["official"]["repo"] == "TIGER-AI-Lab/VLM2Vec" and data["official"]["commit"] == PINNED_COMMIT
    assert "evaluation/eval_siglip.py" in data["official"]["files_sha256_16"]
    assert data["hub_id"] == "google/siglip-so400m-patch14-384" and "--per_device_eval_batch_size 1" in data["run"]
    assert list(data["tasks"]) == TASKS
    assert data["inputs"]["items"] == SIGLIP.recorded_inputs()
    assert sum(task["ties_at_top"] for task in data["tasks"].values()) > 0  # the tie rule is exercised


@pytest.fixture(scope="module")
def official_run(tmp_path_factory):
    return SIGLIP.run_scar_eval(tmp_path_factory.mktemp("siglip-official"))


@pytest.mark.parametrize("task", TASKS)
def test_scar_eval_gives_eval_siglip_picks_and_counts(official_run, task):
    check_picks_and_counts(SIGLIP, official_run, task)


@pytest.mark.parametrize("task", TASKS)
def test_scar_eval_embeddings_match_eval_siglip(official_run, task):
    check_embeddings(official_run, task, TOLERANCE)


def test_fixed_protocol_does_not(tmp_path):
    check_fixed_protocol_differs(SIGLIP, tmp_path, TOLERANCE)


def test_official_batches_move_siglip_texts():
    """Why the reference is batch size 1: at batch size 16 eval_siglip.py pools a text shorter than its
    batch's longest on a padding position, and its embedding moves (picks too); a task whose texts are
    all one string (NIGHTS) does not move."""
    batch16 = SIGLIP.golden()["batch16"]
    assert batch16["NIGHTS"]["max_abs_diff_to_batch_size_1"] <= 1e-6
    assert all(batch16[t]["max_abs_diff_to_batch_size_1"] > 1e-2 for t in ("ImageNet-1K", "N24News", "MSCOCO_t2i"))
    assert any(batch16[t]["picks"] != SIGLIP.golden()["tasks"][t]["picks"] for t in batch16)


# ---- one quirk off at a time, on the embedder itself -------------------------------------------------

@pytest.fixture
def embedder():
    return load_embedder(str(SIGLIP.model), family="siglip")  # the default protocol: official


def test_embedder_matches_at_any_batch_size(embedder):
    for batch_size in (1, 5):
        report = SIGLIP.compare(encode_with(embedder, batch_size))
        for task, expected in SIGLIP.golden()["tasks"].items():
            assert report[task]["picks"] == expected["picks"] and report[task]["max_abs_diff"] <= TOLERANCE, task


def test_stripping_the_image_token_breaks_parity(embedder, monkeypatch):
    """The collator tokenizes `<|image_1|>` with the text (SigLIP's canonicalisation makes it `image1`)."""
    from baselines.clip import query_text

    monkeypatch.setattr(embedder, "text_of", query_text)
    report = SIGLIP.compare(encode_with(embedder))
    assert all(report[t]["max_abs_diff"] > 100 * TOLERANCE for t in ("ImageNet-1K", "N24News", "NIGHTS"))
    assert any(report[t]["picks"] != SIGLIP.golden()["tasks"][t]["picks"] for t in report)


def test_attending_to_end_of_text_breaks_parity(embedder, monkeypatch):
    """The official mask is `input_ids != pad_id`, which hides the end-of-text token SigLIP pools (pad = eos)."""
    monkeypatch.setattr(embedder, "official", False)  # only the mask and the pooling read it after loading
    report = SIGLIP.compare(encode_with(embedder))
    assert all(report[t]["max_abs_diff"] > 10 * TOLERANCE for t in report)
    assert report["MSCOCO_t2i"]["max_abs_diff"] > 100 * TOLERANCE  # text-only queries


def test_pooling_on_batch_padding_breaks_parity(embedder, monkeypatch):
    """Texts of one batch padded together and pooled at the last position (SigLIP's pooling), as the
    official batches do, instead of each at its own length."""
    from baselines.clip import pooled

    def padded(tokens):
        return pooled(embedder.model.get_text_features(input_ids=tokens["input_ids"],
                                                       attention_mask=tokens["attention_mask"])).float()

    monkeypatch.setattr(embedder, "_text_features_unpadded", padded)
    report = SIGLIP.compare(encode_with(embedder))
    assert report["ImageNet-1K"]["max_abs_diff"] > 100 * TOLERANCE  # class names of many lengths
    assert report["MSCOCO_t2i"]["max_abs_diff"] > 100 * TOLERANCE  # captions of many lengths
