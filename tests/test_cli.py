import os

import pytest

from scar.cli import main


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip()
    assert err and "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


def test_unknown_source(tmp_path, capsys):
    assert main(["build", "--source", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown source 'nope'" in _one_line_error(capsys)


def test_limit_zero(tmp_path, capsys):
    assert main(["build", "--source", "demo", "--out", str(tmp_path), "--limit", "0"]) == 2
    assert "--limit" in _one_line_error(capsys)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; covered by the next test")
def test_unwritable_out_dir_permissions(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert main(["build", "--source", "demo", "--out", str(locked / "out")]) == 2
    assert "cannot write" in _one_line_error(capsys)


def test_unwritable_out_dir(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["build", "--source", "demo", "--out", str(blocker / "out")]) == 2
    assert "cannot write to output directory" in _one_line_error(capsys)


def test_shard_index_out_of_range(tmp_path, capsys):
    assert main(["build", "--source", "demo", "--out", str(tmp_path), "--num-shards", "2", "--shard-index", "2"]) == 2
    assert "--shard-index" in _one_line_error(capsys)


def test_validate_missing_dir(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing")]) == 2
    assert "no such file" in _one_line_error(capsys)


def test_unknown_command(capsys):
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in _one_line_error(capsys)


def test_listing_commands_import_no_model_stack():
    """`scar --help`, `scar tasks` and `scar models` start in well under a second: no torch, no transformers."""
    import subprocess
    import sys

    code = (
        "import sys; from scar.cli import main\n"
        "for argv in (['tasks'], ['tasks', '--json'], ['models'], ['models', '--json']):\n"
        "    assert main(argv) == 0, argv\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'sam2', 'datasets') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stderr, out.stderr.splitlines()[-1]
    assert "vlm2vec-qwen2vl-2b" in out.stdout and "virtue-7b" in out.stdout and "ImageNet-1K" in out.stdout


def test_demo_output_is_quiet_numbered_and_copy_pastable(tmp_path):
    """The Quickstart's main job as a subprocess (a pipe, as in CI logs): no library warnings or progress
    noise, each step numbered once, every shown command on one line and runnable as shown."""
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-m", "scar", "demo", "--limit", "40", "--out", str(tmp_path / "d")],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "COLUMNS": "60"})
    assert done.returncode == 0, done.stderr[-2000:]
    text = done.stdout + done.stderr
    assert "[transformers]" not in text and "Warning" not in text and "leaked" not in text and "it/s]" not in text
    steps = [line.split()[1] for line in text.splitlines() if line.startswith("─") and "/" in line]
    assert steps == ["1/5", "2/5", "3/5", "4/5", "5/5"], steps
    commands = [line[2:] for line in text.splitlines() if line.startswith("$ scar ")]
    assert len(commands) == 5 and all("--out" in c for c in commands if not c.startswith("scar validate"))
    assert any(c.startswith("scar eval") and c.endswith(f"--out {tmp_path / 'd' / 'results'}") for c in commands)


def test_options_a_source_does_not_use_are_refused(tmp_path, capsys):
    argv = ["build", "--out", str(tmp_path / "o"), "--no-progress"]
    assert main([*argv, "--source", "demo", "--annotations", str(tmp_path / "x.json")]) == 2
    assert main([*argv, "--source", "coco", "--root", str(tmp_path), "--split-by", "unc"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["scar: error: --source demo does not use --annotations (it takes --images)",
                   "scar: error: --source coco does not use --root, --split-by (it takes --images, --annotations, --stuff)"]
    assert not (tmp_path / "o").exists()
