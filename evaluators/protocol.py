"""Old path of evaluators.models.protocol, kept only because the parity harnesses (shared/parity/*,
run with --project) import `Item` by this name. Project code imports evaluators.models.protocol."""

from evaluators.models.protocol import Item

__all__ = ["Item"]
