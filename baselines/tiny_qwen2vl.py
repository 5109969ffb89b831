"""Old path of baselines.tiny.qwen2vl, kept only because the VIRTUE parity harness
(shared/parity/virtue/make_weights_a.py) imports these names by it. Project code imports baselines.tiny.qwen2vl."""

from baselines.tiny.qwen2vl import TINY_TEXT, connector_state, tiny_sam2_config, write_tiny_qwen2vl

__all__ = ["TINY_TEXT", "connector_state", "tiny_sam2_config", "write_tiny_qwen2vl"]
