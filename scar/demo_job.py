"""`scar demo`: the whole toolkit on the embedded demo source, offline, on a CPU.

build (demo source, offline generator) -> validate -> eval (tiny random-weight models: a smoke
test of the evaluation path, chance-level by design) -> leaderboard.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from scar.errors import ScarError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from scar.cli import positive_int

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


def _step(console: Console, title: str, argv: list[str]) -> None:
    from scar.cli import main

    console.rule(f"[bold]{title}")
    console.print("$ scar " + " ".join(argv), markup=False, highlight=False)
    rc = main(argv)
    if rc != 0:
        raise ScarError(f"demo step '{title}' failed (exit {rc}); see the message above")


def run(args: argparse.Namespace) -> int:
    console = Console()
    out: Path = args.out
    data, results, boards = out / "scar", out / "results", out / "leaderboards"
    limit = ["--limit", str(args.limit)] if args.limit else []
    _step(console, "1/4 build the demo benchmark", ["build", "--source", "demo", "--out", str(data), "--seed", str(args.seed), *limit])
    _step(console, "2/4 validate every row", ["validate", str(data)])

    if args.model:
        models = [(m, args.family) for m in args.model]
    else:
        from baselines.tiny import ensure_tiny_models

        tiny = ensure_tiny_models(out / "models")
        clip_dir = str(tiny["tiny-clip"])
        models = [(clip_dir, "clip"), (clip_dir + "+crop", "clip")]
        console.print(
            "[yellow]No --model given: evaluating a tiny random-weight CLIP (plain and +crop). "
            "It checks the evaluation path end to end; its scores are chance level (10%) by design.[/yellow]"
        )
    for model, family in models:
        family_args = ["--family", family] if family else []
        _step(
            console,
            f"3/4 evaluate {model}",
            ["eval", "--model", model, *family_args, "--tasks", "Demo", "--scar-root", str(data), "--out", str(results)],
        )
    _step(console, "4/4 leaderboard", ["leaderboard", "--results", str(results), "--out", str(boards), "--include-reported"])
    console.rule("[bold green]done")
    console.print(f"benchmark: {data}  (dataset_card.md, stats.json, <source>/<split>-NNNNN.parquet)")
    console.print(f"results:   {results}")
    console.print(f"tables:    {boards / 'scar.md'}, {boards / 'mmeb.md'}, {boards / 'scar.png'}")
    return 0
