"""Tiny random-weight CLIP and SigLIP checkpoints, written with `save_pretrained` in the HF layout.

They load through exactly the code path of a real checkpoint (`AutoModel` / `AutoProcessor`
`.from_pretrained(dir)`), offline, in well under a second. Their embeddings are random: scores made
with them are chance level by design. They exist for tests and for `scar demo`, a smoke test of the
whole path. Same seed -> the same weights and files (for a given torch version).

The tokenizers are generated here, not downloaded:
  - CLIP: the byte-level BPE of CLIP (256 byte symbols, each also with the end-of-word `</w>`
    suffix) with a handful of merges, `<|startoftext|>` / `<|endoftext|>` as its specials;
  - SigLIP: a Unigram tokenizer (sentencepiece-style `▁` word starts, `</s>` appended) built with the
    `tokenizers` library and saved as `tokenizer.json`. The real SigLIP ships a sentencepiece
    `spiece.model` read by `SiglipTokenizer`, which needs the `sentencepiece` package; the tiny one
    uses the tokenizers-backed class instead, and is otherwise in the official layout.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import torch

TINY_SEED = 0
TINY_IMAGE_SIZE = 32
TINY_PATCH = 8
TINY_HIDDEN = 32
TINY_PROJECTION = 16
TINY_TEXT_POSITIONS = 64
TINY_TEXT_TOWER = {  # the text tower's shape, shared by tiny CLIP and tiny SigLIP (each adds its vocabulary)
    "hidden_size": TINY_HIDDEN,
    "intermediate_size": 2 * TINY_HIDDEN,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "max_position_embeddings": TINY_TEXT_POSITIONS,
}
TINY_VISION = {  # the vision tower both tiny CLIP and tiny SigLIP share
    "hidden_size": TINY_HIDDEN,
    "intermediate_size": 2 * TINY_HIDDEN,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "image_size": TINY_IMAGE_SIZE,
    "patch_size": TINY_PATCH,
}

# A few CLIP-style merges so that common words are more than single letters.
CLIP_MERGES = [("t", "h"), ("th", "e</w>"), ("a", "n"), ("an", "d</w>"), ("o", "n</w>"), ("i", "n"), ("e", "r</w>"), ("o", "f</w>")]


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible map from bytes to printable unicode characters."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(code) for code in codes)))


def clip_vocab() -> dict[str, int]:
    symbols = list(bytes_to_unicode().values())
    tokens = symbols + [symbol + "</w>" for symbol in symbols] + ["".join(pair) for pair in CLIP_MERGES]
    tokens += ["<|startoftext|>", "<|endoftext|>"]  # end-of-text last: CLIP's legacy pooling takes the max id
    return {token: index for index, token in enumerate(tokens)}


def _seeded_init(model_class, config, seed: int):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return model_class(config).eval()


def write_tiny_clip(directory: Path, seed: int = TINY_SEED) -> Path:
    """A tiny CLIPModel + CLIPProcessor in `directory` (created); returns the directory."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    directory = Path(directory)
    vocab = clip_vocab()
    tokenizer = CLIPTokenizer(vocab=vocab, merges=list(CLIP_MERGES))
    tokenizer.model_max_length = TINY_TEXT_POSITIONS
    config = CLIPConfig(
        text_config={
            "vocab_size": len(vocab),
            **TINY_TEXT_TOWER,
            "bos_token_id": vocab["<|startoftext|>"],
            "eos_token_id": vocab["<|endoftext|>"],
            "pad_token_id": vocab["<|endoftext|>"],
        },
        vision_config=dict(TINY_VISION),
        projection_dim=TINY_PROJECTION,
    )
    model = _seeded_init(CLIPModel, config, seed)
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": TINY_IMAGE_SIZE}, crop_size={"height": TINY_IMAGE_SIZE, "width": TINY_IMAGE_SIZE}
    )
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(directory)
    return directory


def siglip_tokenizer():
    """A tokenizers-backed Unigram tokenizer shaped like SigLIP's: `</s>` as pad and end, `▁` word starts."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "</s>", "<unk>"]
    pieces = [(token, 0.0) for token in specials]
    pieces += [("▁" + word, -2.0) for word in ("the", "a", "of", "on", "in", "and", "with")]
    pieces += [(char, -5.0) for char in string.ascii_lowercase + string.digits + string.punctuation]
    pieces += [("▁" + char, -6.0) for char in string.ascii_lowercase + string.digits] + [("▁", -8.0)]
    backend = Tokenizer(models.Unigram(pieces, unk_id=specials.index("<unk>"), byte_fallback=False))
    backend.normalizer = normalizers.Sequence([normalizers.Lowercase(), normalizers.Replace(" ", "▁")])
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    end = specials.index("</s>")
    backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", end)])
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="</s>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=TINY_TEXT_POSITIONS,
    )


def write_tiny_siglip(directory: Path, seed: int = TINY_SEED) -> Path:
    """A tiny SiglipModel + SiglipProcessor in `directory` (created); returns the directory."""
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel, SiglipProcessor

    directory = Path(directory)
    tokenizer = siglip_tokenizer()
    config = SiglipConfig(
        text_config={
            "vocab_size": len(tokenizer),
            **TINY_TEXT_TOWER,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.eos_token_id,  # SigLIP has no start token
            "eos_token_id": tokenizer.eos_token_id,
        },
        vision_config=dict(TINY_VISION),
    )
    model = _seeded_init(SiglipModel, config, seed)
    image_processor = SiglipImageProcessor(size={"height": TINY_IMAGE_SIZE, "width": TINY_IMAGE_SIZE})
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    SiglipProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(directory)
    return directory


TINY_WRITERS = {"tiny-clip": write_tiny_clip, "tiny-siglip": write_tiny_siglip}
TINY_FAMILIES = {"tiny-clip": "clip", "tiny-siglip": "siglip"}
_MARKER = "tiny_model.json"  # written last: a directory without it is incomplete and rewritten


def ensure_tiny_models(root: Path, seed: int = TINY_SEED) -> dict[str, Path]:
    """`root/tiny-clip` and `root/tiny-siglip`, written if absent or incomplete; name -> directory.

    Load one with `load_embedder(str(path), family=TINY_FAMILIES[name])`.
    """
    from evaluators.models.hub import quiet_hf_libraries

    quiet_hf_libraries(progress=False)  # the tiny configs' token ids are outside the tiny vocabulary on purpose
    root = Path(root)
    paths: dict[str, Path] = {}
    for name, writer in TINY_WRITERS.items():
        directory = root / name
        marker = directory / _MARKER
        if not (marker.is_file() and json.loads(marker.read_text()).get("seed") == seed):
            writer(directory, seed=seed)
            marker.write_text(json.dumps({"name": name, "family": TINY_FAMILIES[name], "seed": seed, "random_weights": True}))
        paths[name] = directory
    return paths
