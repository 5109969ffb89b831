"""README and CLI agree: every `scar ...` command the README shows names a real subcommand and only
options that subcommand takes, and `scar <command> --help` works for each."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from scar.cli import build_parser, main

README = Path(__file__).resolve().parents[1] / "README.md"
PREFIXES = (re.compile(r"^(?:\.venv/bin/|uv run )?scar\s"), re.compile(r"^torchrun\b.*?-m scar\s"),
            re.compile(r"^python3 dev\.py\s(?=demo\b)"))


def readme_commands() -> list[list[str]]:
    """`scar` command lines of the README's bash blocks, continuation lines joined, comments dropped."""
    commands, block, lines = [], False, README.read_text(encoding="utf-8").splitlines()
    joined: list[str] = []
    for line in lines:
        if line.startswith("```"):
            block = line.strip() in ("```bash", "```sh", "```console")
            continue
        if block:
            if joined and joined[-1].endswith("\\"):
                joined[-1] = joined[-1][:-1] + " " + line.strip()
            else:
                joined.append(line.strip())
    for line in joined:
        line = line.split(" #", 1)[0].strip()
        for prefix in PREFIXES:
            match = prefix.match(line)
            if match:
                commands.append(shlex.split(line[match.end():]))
    return commands


def option_strings(command: str) -> set[str]:
    parser = build_parser(command)
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return {opt for action in sub._actions for opt in action.option_strings}


def test_the_readme_shows_commands():
    assert len(readme_commands()) >= 8


@pytest.mark.parametrize("argv", readme_commands(), ids=lambda a: " ".join(a)[:60])
def test_readme_command_uses_real_options(argv):
    command = argv[0]
    known = option_strings(command)
    used = {token.split("=", 1)[0] for token in argv[1:] if token.startswith("--")}
    assert used <= known, f"`scar {command}` has no {sorted(used - known)}"
    assert main([command, "--help"]) == 0
