"""`scar` command line: build, validate, info, audit, browse, export, demo, eval, tasks, models, leaderboard, sources.

Every user mistake ends as one line on stderr and a non-zero exit code, never a traceback
(set SCAR_DEBUG=1 to see one for an unexpected failure).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import Callable, NoReturn, Sequence

from scar.core.errors import ScarError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUDGET = 3


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line: `scar build: error: ...`."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def ensure_writable_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ScarError(f"cannot write to output directory {path}: {exc.strerror or exc}") from None


# ---------------------------------------------------------------- build / validate / info


def _add_build(sub: argparse._SubParsersAction) -> None:
    from scar.core.argtypes import non_negative_int, positive_int
    from scar.generate import add_generator_arguments
    from scar.sources import add_source_arguments

    p = sub.add_parser("build", help="build SCaR shards from a raw dataset")
    p.add_argument("--source", help="source name (see `scar sources`); required unless --finalize")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--split", choices=("train", "eval", "all"), default="all", help="which SCaR split(s) to build")
    p.add_argument("--limit", type=positive_int, help="at most N entities per split")
    p.add_argument("--seed", type=int, default=0, help="global seed (default 0)")
    p.add_argument("--num-shards", type=positive_int, default=1, help="number of parallel workers (default 1)")
    p.add_argument("--shard-index", type=non_negative_int, default=0, help="this worker's index in [0, num-shards)")
    p.add_argument(
        "--shard-size", type=positive_int, default=None, help="source records per shard file (default 50,000)"
    )
    p.add_argument(
        "--region-kind",
        choices=("box", "point", "mask"),
        default="box",
        help="how the query refers to the entity (sets the instruction in qry_text; default box)",
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="processes on this machine: the main one loads, the others generate (default: all cores; "
        "only for generators that allow it, e.g. offline)",
    )
    p.add_argument(
        "--exclude",
        type=Path,
        metavar="REVIEW.json",
        help="a review file exported by `scar browse`: rows it rejects are left out (counted as \"rejected by review\")",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--finalize",
        action="store_true",
        help="only recompute stats.json and the dataset card of --out from all finished shards "
        "(any worker may run it, e.g. after the last of several --num-shards workers)",
    )
    p.add_argument("--no-audit", action="store_true", help="skip the blind-baseline audit written into stats.json and the card")
    p.add_argument(
        "--audit-rows", type=positive_int, default=5000, metavar="N",
        help="rows per source and split the build's audit scores (a fixed sample; default 5,000)",
    )  # fmt: skip
    add_source_arguments(p)
    add_generator_arguments(p)
    p.set_defaults(func=_run_build)


def _run_build(args: argparse.Namespace) -> int:
    from rich.console import Console

    from scar.build.config import DEFAULT_SHARD_SIZE, BuildConfig
    from scar.build.pipeline import build
    from scar.generate import make_generator
    from scar.sources import options_from_args, resolve_source

    if args.finalize:
        return _finalize(args)
    if not args.source:
        raise ScarError("scar build needs --source (see `scar sources`), or --finalize")
    source = resolve_source(args.source)  # the one lookup of the name: the build is given the resolved source
    if args.shard_index >= args.num_shards:
        raise ScarError(f"--shard-index must be in [0, {args.num_shards}), got {args.shard_index}")
    source.check_options(options_from_args(args))
    review_rejects: dict[str, str] = {}
    if args.exclude is not None:
        from scar.browse.review import read_review, rejected_ids

        review_rejects = rejected_ids(read_review(args.exclude))
        mine = sum(i.startswith(f"{args.source}:") for i in review_rejects)
        print(
            f"scar build: {args.exclude} rejects {mine:,} rows of source {args.source}"
            + (f" ({len(review_rejects) - mine:,} of other sources ignored)" if mine < len(review_rejects) else ""),
            file=sys.stderr,
        )
    ensure_writable_dir(args.out)
    generator = make_generator(args)
    config = BuildConfig(
        source=source,
        out=args.out,
        source_options=options_from_args(args),
        splits=("train", "eval") if args.split == "all" else (args.split,),
        seed=args.seed,
        limit=args.limit,
        num_shards=args.num_shards,
        shard_index=args.shard_index,
        shard_size=args.shard_size or DEFAULT_SHARD_SIZE,
        progress=not args.no_progress and sys.stderr.isatty(),
        workers=args.workers or min(os.cpu_count() or 1, 8),
        review_rejects=review_rejects,
        audit=not args.no_audit,
        audit_rows=args.audit_rows,
    )
    try:
        result = build(config, generator)
    finally:
        generator.close()
    console = Console(stderr=True)
    rate = result.samples / result.seconds if result.seconds else 0.0
    console.print(
        f"built {result.samples:,} samples in {result.written} new shards ({result.skipped} already done), "
        f"{result.rejected:,} records rejected, {result.seconds:.1f}s ({rate:,.0f} samples/s) -> {args.out}",
        soft_wrap=True,
    )
    report = _audit_of(args.out)
    if report:
        from scar.audit.cli import verdict

        console.print(verdict(report), markup=False, highlight=False)
    if result.stopped_by_budget:
        console.print(f"stopped: {result.stopped_by_budget}; rerun the same command to continue")
        return EXIT_BUDGET
    problem = result.empty_build_problem()
    if problem:
        print(f"scar: error: {problem}; see {args.out / 'stats.json'}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _finalize(args: argparse.Namespace) -> int:
    from scar.build.manifests import MANIFEST_NAME
    from scar.build.stats import write_stats_and_card

    if not any(args.out.glob(f"*/{MANIFEST_NAME}")):
        raise ScarError(f"{args.out}: no scar build found (no <source>/{MANIFEST_NAME})")
    stats = write_stats_and_card(args.out, args.images, audit_rows=0 if args.no_audit else args.audit_rows)
    splits = [agg for src in stats["sources"].values() for agg in src["splits"].values()]
    print(
        f"recomputed stats.json and the dataset card from {sum(a['shards'] for a in splits)} shards "
        f"({sum(a['samples'] for a in splits):,} samples) -> {args.out}",
        file=sys.stderr,
    )
    return EXIT_OK


def _audit_of(out: Path) -> dict | None:
    import json

    try:
        report = json.loads((out / "stats.json").read_text("utf-8")).get("audit")
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and "sources" in report else None


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check every row of a built directory (or one Parquet file)")
    p.add_argument("path", type=Path, help="a `scar build` output directory or a Parquet file")
    p.add_argument("--images", type=Path, help="images root (default: from stats.json, else DIR/images)")
    p.add_argument("--decode", action="store_true", help="also decode every image in full (slow; headers are always read)")
    p.set_defaults(func=_run_validate)


def _run_validate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from scar.check.validate import print_report, validate

    report = validate(args.path, args.images, decode=args.decode)
    print_report(report, Console())
    return EXIT_OK if report.ok else EXIT_FAILED


def _add_info(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="summarise a built directory")
    p.add_argument("path", type=Path)
    p.set_defaults(func=lambda args: (importlib.import_module("scar.check.info").print_summary(args.path), EXIT_OK)[1])


def _add_sources(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sources", help="list the source loaders")

    def run(_: argparse.Namespace) -> int:
        from scar.sources import available

        for name, summary in available().items():
            print(f"{name:<12} {summary}")
        return EXIT_OK

    p.set_defaults(func=run)


# ---------------------------------------------------------------- commands owned by other modules


def _delegate(
    sub: argparse._SubParsersAction, name: str, help_text: str, module: str, add: str, run: str, wanted: str | None
) -> None:
    """A subcommand whose options and behaviour live in `module`.

    The module is imported only when its command runs, so `scar build` never pays for importing
    the model stack.
    """
    p = sub.add_parser(name, help=help_text)
    if wanted != name:
        return
    from scar.core.optional import optional_module

    mod = optional_module(module)
    if mod is None:
        missing = f"`scar {name}` is not available in this installation ({module} is missing)"
        p.set_defaults(func=lambda _args: (_ for _ in ()).throw(ScarError(missing)))
        return
    getattr(mod, add)(p)
    run_fn: Callable[[argparse.Namespace], int] = getattr(mod, run)
    p.set_defaults(func=run_fn)


def build_parser(wanted: str | None = None) -> argparse.ArgumentParser:
    parser = OneLineParser(prog="scar", description="SCaR: build the benchmark, evaluate models, publish leaderboards.")
    parser.add_argument("--version", action="version", version=f"scar-bench {importlib.import_module('scar.core.version').__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    _add_build(sub)
    _add_validate(sub)
    _add_info(sub)
    _add_sources(sub)
    _delegate(sub, "demo", "build, evaluate and tabulate the embedded demo end to end", "scar.demo_job", "add_arguments", "run", wanted)
    _delegate(sub, "eval", "evaluate a model on SCaR and/or MMEB tasks", "evaluators.cli", "add_eval_arguments", "run_eval", wanted)
    _delegate(sub, "tasks", "list the evaluation tasks", "evaluators.cli", "add_tasks_arguments", "run_tasks", wanted)
    _delegate(sub, "models", "list the registered models", "evaluators.models.listing", "add_models_arguments", "run_models", wanted)
    _delegate(sub, "browse", "a static HTML site to look at and review samples", "scar.browse.cli", "add_arguments", "run", wanted)
    _delegate(sub, "audit", "blind baselines: can a text-only model pass this benchmark?", "scar.audit.cli", "add_arguments", "run", wanted)
    _delegate(sub, "export", "a build in the official file layout, or as a hub dataset folder", "scar.export.cli", "add_arguments", "run", wanted)
    _delegate(sub, "leaderboard", "render results to Markdown tables and a plot", "evaluators.leaderboard", "add_arguments", "run", wanted)
    _delegate(sub, "report", "error analysis of results: what beat the gold, confidence intervals", "evaluators.report", "add_arguments", "run", wanted)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        wanted = next((a for a in argv if not a.startswith("-")), None)
        parser = build_parser(wanted)
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except SystemExit as exc:  # argparse's --help / usage errors
        return int(exc.code) if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    except ScarError as exc:
        print(f"scar: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("scar: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"scar: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a bare traceback
        if os.environ.get("SCAR_DEBUG"):
            traceback.print_exc()
        message = str(exc).splitlines()[0] if str(exc) else ""
        print(f"scar: internal error: {type(exc).__name__}: {message} (set SCAR_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_FAILED


def run_cli() -> None:
    """The `scar` executable: `main`, then exit with its status.

    torch imports triton for its compiler stack (transformers pulls in torch._dynamo); triton's nanobind
    extension prints hundreds of "leaked" lines at interpreter shutdown, burying the command's last line.
    Once everything is written and flushed, a process that loaded it ends without that teardown.
    """
    code = main()
    if "triton._C" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run_cli()
