"""`scar demo`: the whole toolkit on the embedded demo source, offline, on a CPU.

build (demo source, offline generator) -> validate -> eval (tiny random-weight models: a smoke
test of the evaluation path, chance-level by design; the +crop one also with `--robustness`) -> leaderboard.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from scar.core.errors import ScarError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from scar.core.argtypes import positive_int

    parser.add_argument("--out", type=Path, default=Path("demo-out"), help="output directory (default demo-out)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=positive_int, default=None, help="at most N entities per split")
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        help="model to evaluate (repeatable; default: tiny random-weight CLIP, plain and +crop)",
    )
    parser.add_argument("--family", help="model family when --model is a local directory or HF id")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _step(console: Console, title: str, argv: list[str]) -> None:
    from scar.cli import main

    console.rule(f"[bold]{title}")
    console.print("$ scar " + " ".join(argv), markup=False, highlight=False, soft_wrap=True)  # copy-pastable
    rc = main(argv)
    if rc != 0:
        raise ScarError(f"demo step '{title}' failed (exit {rc}); see the message above")


def run(args: argparse.Namespace) -> int:
    console = Console()
    out: Path = args.out
    data, results, boards = out / "scar", out / "results", out / "leaderboards"
    limit = ["--limit", str(args.limit)] if args.limit else []
    quiet = ["--no-progress"] if args.no_progress else []
    if args.model:
        models = [(m, args.family) for m in args.model]
        note = None
    else:
        from baselines.tiny import ensure_tiny_models

        tiny = ensure_tiny_models(out / "models")
        clip_dir = str(tiny["tiny-clip"])
        models = [(clip_dir, "clip"), (clip_dir + "+crop", "clip")]
        note = ("No --model given: evaluating a tiny random-weight CLIP (plain and +crop; +crop also under the "
                "robustness suite of perturbed boxes, points and masks). It checks the evaluation path end to end; "
                "its scores are chance level (10%) by design, perturbed or not.")
    total = 3 + len(models)
    _step(console, f"1/{total} build the demo benchmark",
          ["build", "--source", "demo", "--out", str(data), "--seed", str(args.seed), *limit, *quiet])
    _step(console, f"2/{total} validate every row", ["validate", str(data)])
    if note:
        console.print(note, style="yellow", soft_wrap=True)
    for number, (model, family) in enumerate(models, start=3):
        family_args = ["--family", family] if family else []
        robustness = ["--robustness"] if note and model.endswith("+crop") else []  # the suite on the tiny region model
        _step(console, f"{number}/{total} evaluate {model}",
              ["eval", "--model", model, *family_args, "--tasks", "Demo", "--scar-root", str(data), "--out", str(results),
               *robustness, *quiet])
    _step(console, f"{total}/{total} leaderboard",
          ["leaderboard", "--results", str(results), "--out", str(boards), "--include-reported"])
    console.rule("[bold green]done")
    console.print(f"benchmark: {data}  (dataset_card.md, stats.json, <source>/<split>-NNNNN.parquet)", soft_wrap=True)
    console.print(f"results:   {results}", soft_wrap=True)
    console.print(f"tables:    {boards / 'scar.md'}, {boards / 'mmeb.md'}, {boards / 'mmeb_v2.md'}, {boards / 'scar.png'}",
                  soft_wrap=True)
    if (boards / "robustness.md").is_file():
        console.print(f"robustness: {boards / 'robustness.md'}, {boards / 'robustness.png'}", soft_wrap=True)
    return 0
