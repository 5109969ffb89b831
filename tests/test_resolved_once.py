"""A `--source` name is looked up once per build, a `--model` name once per run: the command resolves
it and hands the resolved object down (scar.sources.SourceSpec; a ModelSpec and its region variant)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

import evaluators.models.registry as registry
import scar.sources
import scar.sources.registry as source_registry
from evaluators.cli import run_eval
from scar.cli import main
from tests.eval_fixtures import TEST_MODEL, eval_args, scar_fixture


def _counting(monkeypatch: pytest.MonkeyPatch, owners: tuple[Any, ...], name: str) -> list[tuple]:
    calls: list[tuple] = []
    real: Callable[..., Any] = getattr(owners[0], name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    for owner in owners:
        monkeypatch.setattr(owner, name, counted)
    return calls


def test_a_build_resolves_its_source_name_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch, (source_registry, scar.sources), "resolve_source")
    made = _counting(monkeypatch, (source_registry, scar.sources), "make_source")
    out = tmp_path / "out"
    rc = main(["build", "--source", "demo", "--out", str(out), "--limit", "20", "--workers", "1", "--no-audit",
               "--no-progress"])
    assert rc == 0 and list((out / "demo").glob("*.parquet"))
    assert calls == [("demo",)] and made == []


def test_an_unknown_source_is_refused_by_the_one_lookup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--source", "nope", "--out", str(tmp_path / "out")]) != 0
    assert "unknown source 'nope'; available: ade20k, coco, cocostuff, demo" in capsys.readouterr().err


@pytest.mark.usefixtures("test_model_registered")
def test_an_eval_run_resolves_its_model_name_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scar_fixture(tmp_path / "scar")
    calls = _counting(monkeypatch, (registry,), "resolve")
    loads = _counting(monkeypatch, (registry,), "load_embedder")
    argv = ["--model", TEST_MODEL, "--tasks", "RefCOCO+", "--scar-root", str(tmp_path / "scar"),
            "--out", str(tmp_path / "results"), "--device", "cpu", "--no-progress"]
    assert run_eval(eval_args(argv)) == 0
    assert calls == [(TEST_MODEL, None)] and loads == []
    assert list((tmp_path / "results").rglob("RefCOCO+.json"))
