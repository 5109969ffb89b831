"""Old path of evaluators.models.virtue, kept only because the VIRTUE parity harness's stage bisection
(shared/parity/virtue/bisect_stages.py) imports `unpatchify` by this name. Project code imports evaluators.models.virtue."""

from evaluators.models.virtue import unpatchify

__all__ = ["unpatchify"]
