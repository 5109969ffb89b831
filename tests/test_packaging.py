"""What a wheel install needs ships in the wheel, and commands never write into the checkout unasked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _uv() -> str | None:
    found = shutil.which("uv")
    local = ROOT / ".tools" / "bin" / "uv"
    return found or (str(local) if local.exists() else None)


def test_wheel_carries_package_data_and_the_leaderboard_runs_from_it(tmp_path):
    uv = _uv()
    if uv is None:
        pytest.skip("uv is not available to build the wheel")
    leftover = not (ROOT / "build").exists()  # setuptools stages the wheel in <checkout>/build/
    try:
        subprocess.run([uv, "build", "--wheel", "-q", "-o", str(tmp_path / "dist"), str(ROOT)], check=True, timeout=300)
    finally:
        if leftover:
            shutil.rmtree(ROOT / "build", ignore_errors=True)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"evaluators/leaderboard/reported.json", "scar/data/taxonomy.json", "scar/generate/prompts/manifest.json",
            "scar/browse/assets/app.js", "scar/browse/assets/index.html"} <= names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-m", "scar", "leaderboard", "--include-reported"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (work / "leaderboards-out" / "scar.md").is_file()  # the default --out, never the checkout's tables
    assert "VIRTUE-2B" in (work / "leaderboards-out" / "scar.md").read_text()
