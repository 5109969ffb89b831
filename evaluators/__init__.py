"""The evaluation engine: tasks, runner, metrics, and the VIRTUE model."""
