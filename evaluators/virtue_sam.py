"""Old path of evaluators.models.virtue_sam, kept only because the VIRTUE parity harness's stage bisection
(shared/parity/virtue/bisect_stages.py) imports `SamPrompt` by this name. Project code imports evaluators.models.virtue_sam."""

from evaluators.models.virtue_sam import SamPrompt

__all__ = ["SamPrompt"]
