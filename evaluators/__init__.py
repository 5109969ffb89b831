"""The evaluation: the engine (tasks, runner, scoring, results), the models side (`evaluators.models`),
the leaderboard and the error report, and the front doors (`api`, `cli`)."""
