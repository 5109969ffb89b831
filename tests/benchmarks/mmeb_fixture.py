"""The MMEB-eval-shaped fixture of `bench_vs_official.py`: the generator now ships in the package
(`evaluators/tasks/mmeb_synth.py`, also the source of the offline MMEB sample, `--tasks mmeb-sample`);
this script writes one of its profiles.

    .venv/bin/python tests/benchmarks/mmeb_fixture.py OUT [--profile clip|qwen2vl|sample]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from evaluators.tasks.mmeb_synth import PROFILES, Profile, build, write  # noqa: E402

__all__ = ["PROFILES", "Profile", "build", "write"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="clip")
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    stats = build(args.out, PROFILES[args.profile])
    for name, s in stats.items():
        print(f"{name:15s} {s}")


if __name__ == "__main__":
    main()
