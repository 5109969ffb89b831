#!/usr/bin/env python3
"""Bootstrap and run the project on a machine that has only Python >= 3.10 and pip.

    python3 dev.py demo   # build the embedded demo, evaluate on it, write the leaderboard
    python3 dev.py test   # run the test suite (fast tests; pass pytest options after --)

uv is used when on PATH; otherwise it is installed into ./.tools with pip. uv then creates .venv
from pyproject.toml + uv.lock and runs the command inside it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"


def _uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    bindir = TOOLS / ("Scripts" if os.name == "nt" else "bin")
    uv = bindir / ("uv.exe" if os.name == "nt" else "uv")
    if not uv.exists():
        print("dev.py: installing uv into .tools/ ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(TOOLS)
        subprocess.run([str(bindir / "python"), "-m", "pip", "install", "--quiet", "uv"], check=True)
    return str(uv)


def _run(cmd: list[str]) -> int:
    env = dict(os.environ)
    # Without cached bytecode every process recompiles torch and transformers (seconds per start).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "sync"):
        print(__doc__.strip())
        return 2
    uv = _uv()
    rc = _run([uv, "sync", "--quiet"])
    if rc != 0:
        return rc
    command, rest = argv[0], argv[1:]
    if command == "sync":
        return 0
    if command == "demo":
        return _run([uv, "run", "--no-sync", "scar", "demo", *rest])
    return _run([uv, "run", "--no-sync", "python", "-m", "pytest", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
