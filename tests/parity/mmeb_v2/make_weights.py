"""Tiny random Qwen2-VL in the official VLM2Vec main (transformers 4.52.3) layout, for the MMEB-V2 parity
harness: merged weights saved through the official vendored class (its key names), a tiny byte-level BPE
tokenizer (fixed corpus) and a processor (the vendored classes: videos go through its image processor) with the eval's pixel limits
(3136 .. 1003520). Official venv.

usage: make_weights.py OFFICIAL_TREE OUT_DIR       (same seeds -> identical weights)
torch 2.4 + transformers 4.52.3 cannot `save_pretrained` the model (DTensor import): the config is saved
with `config.save_pretrained`, the weights with `safetensors.torch.save_file`.
"""
import os
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, str(Path(__file__).parent))
import official_patches  # noqa: E402,F401
OUT = Path(sys.argv[2])
OUT.mkdir(parents=True, exist_ok=True)
from src.model.vlm_backbone.qwen2_vl.configuration_qwen2_vl import Qwen2VLConfig  # noqa: E402
from src.model.vlm_backbone.qwen2_vl.modeling_qwen2_vl import Qwen2VLForConditionalGeneration  # noqa: E402
from src.model.vlm_backbone.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor  # noqa: E402
from src.model.vlm_backbone.qwen2_vl.processing_qwen2_vl import Qwen2VLProcessor  # noqa: E402
from src.model.vlm_backbone.qwen2_vl.tokenization_qwen2_fast import Qwen2TokenizerFast  # noqa: E402

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
           "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
CORPUS = ["Find a document image that matches the given query:", "Understand the content of the provided video.",
          "Represent the given image for classification", "Given a video and a question, select the most accurate",
          "red blue small large dog cat car tree house river chart page table person ball kitchen street"]
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.train_from_iterator(CORPUS, trainer=trainers.BpeTrainer(vocab_size=300, special_tokens=SPECIAL,
                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
tokenizer = Qwen2TokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                               unk_token=None, bos_token=None, padding_side="left")
ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL}
config = Qwen2VLConfig(
    vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
    num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096, rms_norm_eps=1e-6,
    rope_theta=10000.0, rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
    tie_word_embeddings=False, bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|endoftext|>"],
    pad_token_id=ids["<|endoftext|>"],
    image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
    vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    vision_config=dict(depth=1, embed_dim=16, num_heads=2, mlp_ratio=2, patch_size=14, spatial_merge_size=2,
                       temporal_patch_size=2, hidden_size=32, in_channels=3, initializer_range=0.02),
)
config.architectures = ["Qwen2VLForConditionalGeneration"]
torch.manual_seed(0)
model = Qwen2VLForConditionalGeneration(config).eval()
with torch.no_grad():  # large random weights so that positions and attention matter numerically
    g = torch.Generator().manual_seed(1)
    for n, p in model.named_parameters():
        if n.endswith("norm.weight") or ".norm" in n and n.endswith("weight") or "ln_q" in n and n.endswith("weight"):
            p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
        elif p.ndim >= 2:
            p.copy_(torch.randn(p.shape, generator=g) * (1.0 / p.shape[-1] ** 0.5) * 1.5)
        else:
            p.copy_(0.1 * torch.randn(p.shape, generator=g))
config.save_pretrained(OUT)
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, OUT / "model.safetensors", metadata={"format": "pt"})
ip = Qwen2VLImageProcessor(min_pixels=3136, max_pixels=1003520)
Qwen2VLProcessor(image_processor=ip, tokenizer=tokenizer).save_pretrained(OUT)
print("wrote", OUT, sorted(os.listdir(OUT)))
