"""Old path of evaluators.models.registry, kept only because the parity harnesses (shared/parity/*,
run with --project) import `load_embedder` by this name. Project code imports evaluators.models.registry."""

from evaluators.models.registry import load_embedder

__all__ = ["load_embedder"]
