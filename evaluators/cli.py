"""`scar eval` and `scar tasks`: argument definitions and entry functions (wired in scar/cli.py)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaluators.metrics import OFFICIAL, STRICT, TIE_WARN_RATE
from evaluators.models.protocol import PROTOCOLS
from evaluators.robustness.cli import add_arguments as add_robustness_arguments
from evaluators.tasks.catalog import ALL_TASKS
from evaluators.tasks.provenance import OFFICIAL as OFFICIAL_DATA
from evaluators.tasks.provenance import SUBSAMPLE, describe
from evaluators.tasks.scar import SCAR_PROMPTS
from scar.core.errors import ScarError

if TYPE_CHECKING:  # `scar tasks` and `scar --help` must not import torch: the model stack loads in run_eval
    from evaluators.encoding import EncodeStats
    from evaluators.scoring import TaskScore

# --------------------------------------------------------------------------- scar eval


def add_eval_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = parser
    p.add_argument("--model", required=True,
                   help="registry name (e.g. virtue-2b, clip-vit-l-14+crop), a local directory or an HF id (with --family), "
                        "or your own model's factory as package.module:Factory[+variant]")
    p.add_argument("--include", action="append", type=Path, default=[], metavar="PATH",
                   help="a .py file, or a folder of them, run first: models it registers (scar.register_embedder) "
                        "can be named by --model (repeatable)")
    p.add_argument("--family", default=None, help="model family when --model is a path or HF id (see `scar models`)")
    p.add_argument("--tasks", default="scar", help="scar | mmeb | all | mmeb-v2 | mmeb-v2-image | mmeb-v2-video | mmeb-v2-visdoc | comma-separated task "
                        "names (see `scar tasks`)")
    p.add_argument("--scar-root", type=Path, default=None, help="a `scar build` output folder or the SCaR-Eval Parquet folder")
    p.add_argument("--scar-images", type=Path, default=None, help="SCaR images root (default: stats.json images_root, else <scar-root>/images)")
    p.add_argument("--scar-prompt", choices=SCAR_PROMPTS, default="box",
                   help="which region of a SCaR query a model is given: box (default, all the official loader reads), "
                        "point or mask (extension columns of a `scar build`), or all of them")
    p.add_argument("--mmeb-root", type=Path, default=None, help="local TIGER-Lab/MMEB-eval copy (<Task>/test-*.parquet); omitted: the HF hub")
    p.add_argument("--mmeb-images", type=Path, default=None, help="where MMEB images.zip was unpacked (default: <mmeb-root>/images)")
    p.add_argument("--mmeb-v2-root", type=Path, default=None,
                   help="MMEB-V2 data folder (the TIGER-Lab/MMEB-V2 clone, archives unpacked: image-tasks/, video-tasks/frames/, "
                        "visdoc-tasks/), the official --data_basedir")
    p.add_argument("--mmeb-v2-annotations", type=Path, default=None,
                   help="MMEB-V2 annotations, one folder per hub repository <owner>/<name>/ (default: <mmeb-v2-root>/annotations)")
    p.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: results)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--device", default=None, help="cuda | cpu | cuda:N (default: cuda when available)")
    p.add_argument("--dtype", default=None, help="float32 | bfloat16 | float16 (default: the model's own)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N queries of each task (smoke tests)")
    p.add_argument("--strict-ties", action="store_true", help="count a score tie with the gold as wrong (default: official v1 rule, first index wins)")
    p.add_argument("--tie-threshold", type=float, default=TIE_WARN_RATE, metavar="FRACTION",
                   help=f"warn about and flag a task whose top score is shared in more than this share of its queries "
                        f"(default {TIE_WARN_RATE})")
    p.add_argument("--skip-bad", action="store_true", help="skip queries whose images are missing or broken (counted per reason in the result)")
    p.add_argument("--cache-dir", type=Path, default=None, help="embedding cache (default: <out>/.embed-cache)")
    p.add_argument("--overwrite", action="store_true", help="replace results of another run (other weights, code, options or data) in the same run folder; "
                        "that model's results of other tasks there are removed")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    g = p.add_argument_group("model options (passed to the model loader)")
    g.add_argument("--revision", default=None, help="model revision (default: the registry's)")
    g.add_argument("--model-path", default=None, help="load a registered model's weights from this local copy")
    g.add_argument("--image-resolution", default=None, help="e.g. high (1344x1344 as in the official eval), low, or WxH")
    g.add_argument("--protocol", choices=PROTOCOLS, default=None,
                   help="official (default): compute what the reference code computes, quirks included, so rows sit "
                        "beside published ones; fixed: what the model was meant to compute")
    g.add_argument("--virtue-compat", choices=PROTOCOLS, default=None, help=argparse.SUPPRESS)  # old name of --protocol
    g.add_argument("--sam-checkpoint", type=Path, default=None, help="VIRTUE: SAM2.1 checkpoint file")
    g.add_argument("--model-option", action="append", default=[], metavar="KEY=VALUE", help="any other loader option (repeatable; VALUE parsed as JSON when it can be)")
    add_robustness_arguments(p)
    return p


def model_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    protocol, alias = getattr(args, "protocol", None), getattr(args, "virtue_compat", None)
    if protocol is not None and alias is not None and protocol != alias:
        raise ScarError(f"--protocol {protocol} and --virtue-compat {alias} disagree; pass --protocol only")
    if protocol or alias:
        options["protocol"] = protocol or alias
    for name in ("revision", "model_path", "image_resolution", "sam_checkpoint"):
        value = getattr(args, name, None)
        if value is not None:
            options[name] = str(value) if isinstance(value, Path) else value
    for pair in getattr(args, "model_option", []) or []:
        key, eq, raw = pair.partition("=")
        if not eq or not key.strip():
            raise ScarError(f"--model-option expects KEY=VALUE, got {pair!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        options[key.strip().replace("-", "_")] = value
    return options


def run_eval(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from evaluators.task_selection import preflight

    # the data is checked before torch and the model load: an offline run without its data fails in a second
    preflight(args.tasks, args.scar_root, args.mmeb_root, args.mmeb_v2_root, args.mmeb_v2_annotations)
    import torch

    from evaluators import distributed
    from evaluators.api import run_loaded
    from evaluators.models.custom import include
    from evaluators.models.hub import check_device, quiet_hf_libraries
    from evaluators.models.registry import load_resolved, resolve
    from evaluators.task_selection import load_tasks, select_tasks

    requested = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    ctx = distributed.init_from_env(requested)
    try:
        if args.batch_size < 1:
            raise ScarError("--batch-size must be at least 1")
        if args.limit is not None and args.limit < 1:
            raise ScarError("--limit must be at least 1")
        if not 0 <= args.tie_threshold <= 1:
            raise ScarError(f"--tie-threshold is a fraction in [0, 1], got {args.tie_threshold}")
        for path in args.include:
            include(path)
        # the one lookup of the model name: a bad one fails before any task loads, and this spec is loaded below
        spec, variant = resolve(args.model, args.family)
        check_device(ctx.device_for(requested))
        progress = not args.no_progress and ctx.is_main and sys.stderr.isatty()  # no bar noise in logs and pipes
        quiet_hf_libraries(progress)
        tie_rule = STRICT if args.strict_ties else OFFICIAL
        infos = select_tasks(args.tasks, args.scar_root)
        def load(scar_prompt: str) -> list:
            return load_tasks(infos, scar_root=args.scar_root, scar_images=args.scar_images, scar_prompt=scar_prompt,
                              mmeb_root=args.mmeb_root, mmeb_images=args.mmeb_images, limit=args.limit,
                              skip_bad=args.skip_bad, progress=progress, mmeb_v2_root=args.mmeb_v2_root,
                              mmeb_v2_annotations=args.mmeb_v2_annotations)

        tasks = load(args.scar_prompt)
        robust = None
        if getattr(args, "robustness", None) is not None:
            from evaluators.robustness.cli import prepare

            spec, variant = resolve(args.model, args.family)
            robust = prepare(args, load, spec.native_regions, variant or spec.default_region, progress)
        if ctx.is_main:
            for task in tasks:
                kind = task.provenance.get("kind")
                if task.info.in_average and kind not in (OFFICIAL_DATA, SUBSAMPLE):
                    print(f"warning: {task.name}: {describe(task.provenance)}; its results are marked as such, "
                          "never shown unmarked beside published numbers", file=sys.stderr)
        loader_kwargs: dict[str, Any] = {"device": ctx.device_for(requested), **model_options(args)}
        if args.dtype is not None:
            loader_kwargs["dtype"] = args.dtype
        embedder = load_resolved(spec, variant, **loader_kwargs)
        result = run_loaded(robust.wrap(embedder) if robust else embedder, tasks, Path(args.out), tie_rule=tie_rule, limit=args.limit,
                            batch_size=args.batch_size, ctx=ctx, skip_bad=args.skip_bad, progress=progress,
                            overwrite=args.overwrite, cache_dir=args.cache_dir, started=started,
                            tie_threshold=args.tie_threshold)
        if ctx.is_main:
            assert result.run_dir is not None
            _print_scores(result.scores, result.stats, result.run_dir / "summary.json", tie_rule)
        if robust is not None:
            from evaluators.robustness.cli import report

            folder = robust.run(embedder, tasks, Path(args.out), args.cache_dir, ctx, args.limit, result.stats.encoded)
            if ctx.is_main:
                print(report(folder))
        distributed.barrier(ctx)
        return 0
    finally:
        distributed.shutdown(ctx)


def _print_scores(scores: list[TaskScore], stats: EncodeStats, summary: Path, tie_rule: str) -> None:
    print(f"{'task':<20} {'P@1':>7} {'R@5':>7} {'MRR':>7} {'ties%':>7} {'E[P@1]':>7} {'n':>7}")
    for s in scores:
        m = s.summary
        ties = m.ties
        skipped = f"  ({sum(s.skipped.values())} skipped)" if s.skipped else ""
        tie_cols = f"{100 * ties.rate_top:7.2f} {100 * ties.expected_precision_at_1:7.2f}" if ties else f"{'':>7} {'':>7}"
        print(f"{s.task.name:<20} {100 * m.precision_at_1:7.2f} {100 * m.recall_at_5:7.2f} {100 * m.mrr:7.2f} "
              f"{tie_cols} {m.num_pred:7d}{skipped}")
    print(
        f"tie rule {tie_rule} (ties%: queries whose top score is shared; E[P@1]: ties broken at random); "
        f"{stats.unique} unique items for {stats.references} references "
        f"({stats.dedup_ratio:.2f}x), {stats.cached} cached, {stats.encoded} encoded"
        + (f" ({stats.repaired} corrupt cache records encoded again)" if stats.repaired else "")
        + f"; summary: {summary}"
    )


# --------------------------------------------------------------------------- scar tasks


BOARD_CHOICES = ("scar", "mmeb", "mmeb-v1", "mmeb-v2")


def add_tasks_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--benchmark", "--board", choices=BOARD_CHOICES, default=None,
                        help="only this board (mmeb = mmeb-v1)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def run_tasks(args: argparse.Namespace) -> int:
    from evaluators.tasks.catalog import BOARDS
    from evaluators.tasks.mmeb_v2.catalog import BY_TASK

    wanted = {"mmeb-v1": "mmeb"}.get(args.benchmark, args.benchmark)
    rows = [t for t in ALL_TASKS.values() if wanted in (None, t.benchmark)]
    if getattr(args, "json", False):
        out = []
        for t in rows:
            extra = {"board": BOARDS.get(t.benchmark, t.benchmark)}
            spec = BY_TASK.get(t.name)
            if spec is not None:
                extra |= {"official_name": spec.name, "group": spec.group, "metric": spec.metric,
                          "eval_type": spec.eval_type, "parser": spec.parser, "num_frames": spec.num_frames,
                          "sample": spec.sample, "annotations": [h.__dict__ for h in spec.hubs], "media": spec.media}
            out.append(t.__dict__ | {"files": list(t.files)} | extra)
        print(json.dumps(out, indent=2))
        return 0
    for board in ("mmeb-v1", "mmeb-v2", "scar"):
        board_rows = [t for t in rows if BOARDS.get(t.benchmark, t.benchmark) == board]
        if not board_rows:
            continue
        print(f"== {board} ({sum(t.in_average for t in board_rows)} averaged)")
        if board == "mmeb-v2":
            print(f"{'task':<52} {'meta-task':<24} {'metric':<14} {'eval':<6} {'frames':>6}  averaged")
            for t in board_rows:
                spec = BY_TASK[t.name]
                frames = "" if spec.num_frames is None else str(spec.num_frames)
                print(f"{t.name:<52} {t.meta_task or '':<24} {spec.metric:<14} {spec.eval_type:<6} {frames:>6}  "
                      f"{'yes' if t.in_average else 'no'}")
            continue
        print(f"{'task':<20} {'bench':<5} {'meta-task':<15} {'split':<5} {'queries':>8} {'cands':>6}  averaged")
        for t in board_rows:
            split = "" if t.ind is None else ("IND" if t.ind else "OOD")
            n_q = "" if t.num_queries is None else str(t.num_queries)
            n_c = "" if t.num_candidates is None else str(t.num_candidates)
            print(f"{t.name:<20} {t.benchmark:<5} {t.meta_task or '':<15} {split:<5} {n_q:>8} {n_c:>6}  {'yes' if t.in_average else 'no'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m evaluators eval|tasks ...` (the same as `scar eval|tasks`)."""
    parser = argparse.ArgumentParser(prog="python -m evaluators")
    sub = parser.add_subparsers(dest="command", required=True)
    add_eval_arguments(sub.add_parser("eval", help="evaluate a model on SCaR / MMEB tasks"))
    add_tasks_arguments(sub.add_parser("tasks", help="list the tasks"))
    args = parser.parse_args(argv)
    try:
        return run_eval(args) if args.command == "eval" else run_tasks(args)
    except ScarError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


__all__ = ["add_eval_arguments", "run_eval", "add_tasks_arguments", "run_tasks", "main"]
