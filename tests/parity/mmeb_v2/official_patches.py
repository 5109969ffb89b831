"""In-memory patches the official VLM2Vec main code needs to run on a CPU with torch 2.4 (official venv).

transformers 4.52.3 checks every tensor-parallel plan entry against `ALL_PARALLEL_STYLES`, which it leaves
None below torch 2.5 (its `post_init` then fails on the Qwen2-VL config's plan): any style is accepted
here, since nothing is sharded. Import this module before any official module.
"""
import transformers.modeling_utils as modeling_utils


class _AnyStyle:
    def __contains__(self, item: object) -> bool:
        return True


if modeling_utils.ALL_PARALLEL_STYLES is None:
    modeling_utils.ALL_PARALLEL_STYLES = _AnyStyle()
