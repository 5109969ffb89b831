"""Your own model from the shell: `scar eval --model module:Factory`, `--include FILE` for a model the
file registers, options passed through (one named `variant` included), and one-line errors for bad specs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from evaluators.models import registry
from evaluators.models.protocol import Item
from evaluators.models.regions import prepare
from scar.cli import main as scar_main
from tests.eval_fixtures import scar_fixture, write_image

USER_MODEL = '''
import numpy as np
import torch

from evaluators.models.regions import prepare


class HistBow:
    """Words hashed into buckets, plus a grey-level histogram of what the region variant shows."""

    name = "hist-bow"

    def __init__(self, variant="words", region_variant=None, bins=8):
        self.variant, self.region_variant, self.bins = variant, region_variant, bins

    def encode(self, items, batch_size):
        rows = []
        for item in items:
            v = np.zeros(32 + self.bins)
            for word in item.text.split():
                v[sum(map(ord, word)) % 32] += 1
            if item.image:
                image, _ = prepare(item, self.region_variant)
                v[32:] = np.histogram(np.asarray(image.convert("L")), bins=self.bins, range=(0, 255))[0]
            v[0] += 1e-3
            rows.append(v / np.linalg.norm(v))
        return torch.tensor(np.stack(rows), dtype=torch.float32)


NOT_CALLABLE = 3


def not_an_embedder(**options):
    return {"encode": None}
'''

REGISTERS = '''
import scar
from {module} import HistBow

scar.register_embedder("{name}", HistBow)
'''


def _scar_command() -> list[str]:
    script = Path(sys.executable).with_name("scar")  # the console script: its sys.path lacks the folder it runs in
    return [str(script)] if script.exists() else [sys.executable, "-m", "scar"]


def _run(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_scar_command(), *argv], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    scar_fixture(tmp_path / "scar")
    (tmp_path / "myemb.py").write_text(USER_MODEL)
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "register_hist.py").write_text(REGISTERS.format(module="myemb", name="hist-bow"))
    return tmp_path


def _result(out: Path, model: str) -> dict:
    (path,) = sorted((out / model).glob("*/RefCOCO+.json"))
    return json.loads(path.read_text())


def test_module_factory_and_include_from_the_shell(workdir):
    common = ["--tasks", "RefCOCO+", "--scar-root", "scar", "--out", "res", "--device", "cpu", "--no-progress"]
    run = _run(workdir, "eval", "--model", "myemb:HistBow+crop", "--model-option", "variant=shapes", *common)
    assert run.returncode == 0, run.stderr
    record = _result(workdir / "res", "hist-bow+crop")
    assert record["family"] == "custom" and record["model_id"] == "myemb:HistBow"
    assert record["model_options"] == {"variant": "shapes", "region_variant": "crop"}
    assert record["fingerprint_from"] == "source hash" and record["run_id"].startswith("src-")

    run = _run(workdir, "eval", "--include", "plugins", "--model", "hist-bow+circle", "--model-option", "bins=4",
               *common)
    assert run.returncode == 0, run.stderr
    assert _result(workdir / "res", "hist-bow+circle")["model_options"] == {"bins": 4, "region_variant": "circle"}


@pytest.fixture
def in_process(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield workdir
    for name in ("myemb", "register_hist"):
        sys.modules.pop(name, None)
    registry.unregister("hist-bow")


@pytest.mark.parametrize(
    ("model", "extra", "expected"),
    [
        ("nosuchmodule:Factory", [], "no module named 'nosuchmodule'"),
        ("myemb:HistBoww", [], "has no attribute 'HistBoww'; did you mean HistBow?"),
        ("myemb:NOT_CALLABLE", [], "NOT_CALLABLE is not callable (int)"),
        ("myemb:not_an_embedder", [], "returned a dict, not an embedder"),
        ("myemb:HistBow", ["--model-option", "colour=red"], "takes no option 'colour' (its options: bins, variant)"),
        ("hist-bow", [], "your own model: --model package.module:Factory, or --include FILE.py"),
        ("hist-bow", ["--family", "custom"], "unknown model 'hist-bow'"),
        ("hist-bow", ["--include", "missing.py"], "--include missing.py: no such file or folder"),
    ],
)
def test_bad_specs_are_one_line(in_process, capsys, model, extra, expected):
    argv = ["eval", "--model", model, *extra, "--tasks", "RefCOCO+", "--scar-root", "scar", "--out", "res",
            "--device", "cpu", "--no-progress"]
    assert scar_main(argv) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("scar: error: ") and expected in lines[0], lines


def test_a_broken_user_file_is_one_line(in_process, capsys):
    (in_process / "broken.py").write_text("raise RuntimeError('half written')\n")
    assert scar_main(["eval", "--include", "broken.py", "--model", "x", "--tasks", "RefCOCO+", "--scar-root", "scar",
                      "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "scar: error: --include broken.py: RuntimeError: half written"


def test_scar_models_lists_an_included_model(in_process, capsys):
    assert scar_main(["models", "--include", "plugins/register_hist.py", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert any(row["name"] == "hist-bow" and row["family"] == "custom" for row in rows)


def test_a_loader_option_named_variant_reaches_the_factory(in_process):
    import scar

    out = scar.evaluate("myemb:HistBow", tasks="RefCOCO+", scar_root="scar", out="res", progress=False, device="cpu",
                        variant="shapes")
    assert out.records["RefCOCO+"]["model_options"] == {"variant": "shapes"}


def test_a_builtin_loader_refuses_a_variant_option_in_one_line():
    from evaluators.models.registry import load_embedder
    from scar.core.errors import ScarError

    with pytest.raises(ScarError, match="option 'variant' clashes with the loader's own 'variant' argument"):
        load_embedder("clip-vit-l-14", device="cpu", variant="crop")


def test_region_variants_take_either_spelling(tmp_path):
    image = write_image(tmp_path / "pic.png", size=(20, 10))
    item = Item(text="q", image=str(image), box_xyxy=(2.0, 2.0, 8.0, 6.0))
    plain, plus = prepare(item, "crop"), prepare(item, "+crop")
    assert plain[0].size == plus[0].size == (6, 4)
    assert prepare(item, "+boxtext")[1] == prepare(item, "boxtext")[1]
