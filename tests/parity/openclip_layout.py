"""open_clip's state-dict names -> transformers' CLIPModel names (ViT image tower, default text tower).

Plain data and one function; imported by golden_openclip.py (official venv) to write the transformers
copy of the tiny model, and by test_parity_openclip.py (project venv) to check that the committed
transformers weights are the committed open_clip weights. What it does is what the LAION hub
repositories' transformers copies are: the packed attention `in_proj` split into q / k / v, the
projection matrices (`x @ proj` in open_clip) stored transposed as Linear weights.
"""

from __future__ import annotations

BLOCK = {"ln_1": "layer_norm1", "ln_2": "layer_norm2", "attn.out_proj": "self_attn.out_proj",
         "mlp.c_fc": "mlp.fc1", "mlp.c_proj": "mlp.fc2"}
PLAIN = {"logit_scale": "logit_scale",
         "token_embedding.weight": "text_model.embeddings.token_embedding.weight",
         "positional_embedding": "text_model.embeddings.position_embedding.weight",
         "ln_final.weight": "text_model.final_layer_norm.weight",
         "ln_final.bias": "text_model.final_layer_norm.bias",
         "visual.class_embedding": "vision_model.embeddings.class_embedding",
         "visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
         "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
         "visual.ln_pre.weight": "vision_model.pre_layrnorm.weight",
         "visual.ln_pre.bias": "vision_model.pre_layrnorm.bias",
         "visual.ln_post.weight": "vision_model.post_layernorm.weight",
         "visual.ln_post.bias": "vision_model.post_layernorm.bias"}
TRANSPOSED = {"text_projection": "text_projection.weight", "visual.proj": "visual_projection.weight"}
TOWERS = (("transformer", "text_model"), ("visual.transformer", "vision_model"))


def to_transformers(state: dict) -> dict:
    """An open_clip CLIP state dict (tensors) under transformers' CLIPModel names."""
    out = {new: state[old] for old, new in PLAIN.items()}
    out.update({new: state[old].T.contiguous() for old, new in TRANSPOSED.items()})
    for source, target in TOWERS:
        layers = sorted({int(k[len(source) + 11:].split(".")[0]) for k in state if k.startswith(source + ".resblocks.")})
        for layer in layers:
            a, b = f"{source}.resblocks.{layer}.", f"{target}.encoder.layers.{layer}."
            for old, new in BLOCK.items():
                for kind in ("weight", "bias"):
                    out[f"{b}{new}.{kind}"] = state[f"{a}{old}.{kind}"]
            for kind in ("weight", "bias"):
                for name, part in zip("qkv", state[f"{a}attn.in_proj_{kind}"].chunk(3)):
                    out[f"{b}self_attn.{name}_proj.{kind}"] = part.contiguous()
    return out
