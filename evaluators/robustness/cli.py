"""`scar eval --robustness [SUITE]`: the hook `evaluators.cli.run_eval` calls.

`scar eval` runs as always (its result files are the clean box level); then every level of the suite
is scored on the same model and tasks, and its files are written into the run's folder
(`evaluators.robustness.results`). A flag of `scar eval` rather than a command of its own: the suite
needs every option of `scar eval` (model, its options, tasks, data roots, cache, ties), and its clean
level is, by construction, that run.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from typing import TYPE_CHECKING

from evaluators.robustness.suite import SUITES, suite
from scar.core.errors import ScarError

if TYPE_CHECKING:  # `scar --help` loads this module: the engine (torch) only when a suite runs
    from evaluators.distributed import DistContext
    from evaluators.models.protocol import Embedder
    from evaluators.robustness.runner import SuiteSettings
    from evaluators.tasks.base import LoadedTask


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("robustness of region prompts (SCaR tasks)")
    g.add_argument("--robustness", nargs="?", const="default", default=None, metavar="SUITE",
                   help=f"after the evaluation, score the SCaR tasks again under perturbed boxes, points and masks "
                        f"(suite: {', '.join(SUITES)}; default when the flag has no value); files under "
                        "<run>/robustness/")
    g.add_argument("--robustness-seed", type=int, default=0, metavar="N",
                   help="seed of the perturbations (each drawn from seed, sample id, kind and level; default 0)")


@dataclass
class Robustness:
    settings: SuiteSettings
    full: list[LoadedTask]
    native: tuple[str, ...]
    variant: str | None
    model: str
    started: float = 0.0

    def wrap(self, embedder: Embedder) -> Embedder:
        """The embedder for the clean run: kept open for the suite; starts the clean run's clock."""
        from evaluators.robustness.runner import KeptOpen

        self.started = time.perf_counter()
        return KeptOpen(embedder)  # type: ignore[return-value]

    def run(self, embedder: Embedder, tasks: Sequence[LoadedTask], out: Path, cache_dir: Path | None,
            ctx: DistContext, limit: int | None, clean_encoded: int | None) -> Path | None:
        from evaluators.identity import run_id
        from evaluators.robustness.routing import routes
        from evaluators.robustness.runner import run_suite

        clean_seconds = time.perf_counter() - self.started
        info = embedder.info
        native = self.native or tuple(getattr(embedder, "native_regions", ()) or ())
        self.settings.routes = routes(native, self.variant, info.family, info.protocol, self.model)
        run = run_id(info, self.settings.tie_rule, limit)
        try:
            return run_suite(embedder, tasks, self.full, self.settings, out, run, cache_dir or out / ".embed-cache",
                             ctx, clean_seconds=clean_seconds, clean_encoded=clean_encoded)
        finally:
            close = getattr(embedder, "close", None)
            if callable(close):
                close()


def prepare(args: argparse.Namespace, load: Callable[[str], list[LoadedTask]], native: Sequence[str],
            variant: str | None, progress: bool) -> Robustness | None:
    """Check the flags and load the tasks again with every prompt (the perturbations' source);
    `load(prompt)` loads the tasks as `scar eval` does, with that `--scar-prompt`."""
    name = getattr(args, "robustness", None)
    if name is None:
        return None
    from evaluators.metrics import OFFICIAL, STRICT
    from evaluators.robustness.runner import SuiteSettings

    levels = suite(name)
    if args.scar_prompt != "box":
        raise ScarError("--robustness measures every prompt against the box of plain `scar eval`: drop --scar-prompt")
    settings = SuiteSettings(name=name, levels=levels, seed=int(args.robustness_seed), routes={},
                             tie_rule=STRICT if args.strict_ties else OFFICIAL, tie_threshold=args.tie_threshold,
                             batch_size=args.batch_size, skip_bad=args.skip_bad, progress=progress)
    return Robustness(settings, load("all"), tuple(native), variant, args.model)


def report(folder: Path | None) -> str:
    """One line for the console: the score and where the files are."""
    if folder is None:
        return ""
    import json

    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    score, drop = summary.get("robustness"), summary.get("mean_drop")
    skipped = [k for k, v in summary["kinds"].items() if not v["takes"]]
    cost = summary["cost"]
    return (f"robustness ({summary['suite']}, seed {summary['seed']}): score "
            f"{'n/a' if score is None else f'{score:.1f}'}, mean drop "
            f"{'n/a' if drop is None else f'{drop:.1f}'} points over {cost['levels']} levels"
            + (f" (skipped kinds: {', '.join(skipped)})" if skipped else "")
            + f"; suite {cost['suite_seconds']:.1f}s"
            + (f" = {cost['suite_over_clean']:.2f}x the clean run" if cost.get("suite_over_clean") else "")
            + f"; files: {folder}")
