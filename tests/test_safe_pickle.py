"""The restricted unpickler admits plain data and numpy arrays, refuses (never runs) anything else."""

from __future__ import annotations

import builtins
import os
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from scar.core.errors import InputFileError
from scar.sources.safe_pickle import PickleBomb, PickleLimits, UnsafePickleError, load_pickle
from tests.fixtures_sources import write_py2_pickle


def test_plain_data_and_numpy_round_trip(tmp_path: Path) -> None:
    data = {
        "names": ["wall", "chair"], "n": 3, "x": 1.5, "t": (1, 2), "s": {1, 2}, "f": frozenset({"a"}),
        "b": b"raw", "o": OrderedDict(a=1), "arr": np.arange(6, dtype=np.int16).reshape(2, 3),
        "objs": np.array(["a", "b"], dtype=object), "scalar": np.float32(2.5),
    }
    for protocol in (2, 4, 5):
        path = tmp_path / f"p{protocol}.pkl"
        path.write_bytes(pickle.dumps(data, protocol=protocol))
        out = load_pickle(path)
        assert out["names"] == ["wall", "chair"] and out["s"] == {1, 2} and out["o"] == {"a": 1}
        assert out["arr"].dtype == np.int16 and out["arr"].tolist() == [[0, 1, 2], [3, 4, 5]]
        assert out["objs"].tolist() == ["a", "b"] and out["scalar"] == np.float32(2.5)


def test_python2_strings(tmp_path: Path) -> None:
    path = write_py2_pickle(tmp_path / "refs.p", [{"sent": "café"}])
    assert load_pickle(path, encoding="bytes") == [{b"sent": "café".encode()}]
    assert load_pickle(path) == [{"sent": "café".encode().decode("latin1")}]


class _Call:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


@pytest.mark.parametrize("func", [os.system, builtins.eval, builtins.exec])
def test_dangerous_globals_refused_not_executed(tmp_path: Path, func) -> None:
    marker = tmp_path / "ran"
    obj = _Call(func, f"touch {marker}" if func is os.system else f"open({str(marker)!r}, 'w')")
    path = tmp_path / "evil.p"
    path.write_bytes(pickle.dumps({"refs": [obj]}, protocol=2))
    with pytest.raises(UnsafePickleError, match=r"evil\.p: refused to load pickle: it asks for"):
        load_pickle(path)
    assert not marker.exists()


def test_codecs_encode_only_spells_latin1_bytes(tmp_path: Path) -> None:
    import codecs

    path = tmp_path / "codec.p"
    path.write_bytes(pickle.dumps(_Call(codecs.encode, "x", "rot13"), protocol=2))
    with pytest.raises(InputFileError, match="not a readable pickle"):
        load_pickle(path)


def test_object_array_cannot_smuggle_globals(tmp_path: Path) -> None:
    arr = np.empty(1, dtype=object)
    arr[0] = _Call(os.system, "true")
    path = tmp_path / "arr.p"
    path.write_bytes(pickle.dumps(arr))
    with pytest.raises(UnsafePickleError):
        load_pickle(path)


def test_truncated_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "cut.p"
    path.write_bytes(pickle.dumps(list(range(1000)), protocol=2)[:50])
    with pytest.raises(InputFileError, match=r"cut\.p: not a readable pickle"):
        load_pickle(path)
    with pytest.raises(InputFileError, match="file not found"):
        load_pickle(tmp_path / "none.p")


# ---------------------------------------------------------------- bombs: plain data, unbounded work


def _shared_levels(levels: int) -> bytes:
    x: list = []
    for _ in range(levels):
        x = [x, x]  # a few hundred bytes; a tree walk visits 2**levels lists
    return pickle.dumps(x, protocol=2)


def _nested(depth: int) -> bytes:
    """`depth` lists, each inside the previous one, spelled with opcodes (pickle.dumps would recurse)."""
    return b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."


def _cycle() -> bytes:
    x: list = [1]
    x.append(x)
    return pickle.dumps(x, protocol=2)


@pytest.mark.parametrize(
    "data, why",
    [(_shared_levels(40), "pickle bomb"), (_nested(100_000), "levels deep"), (_cycle(), "reference cycle"),
     (pickle.dumps(_Call(bytearray, 10**12), protocol=2), "bytearray")],
    ids=["shared-40-levels", "nested-100k", "cycle", "bytearray-terabyte"],
)  # fmt: skip
def test_bombs_are_refused_quickly_with_one_line(tmp_path: Path, data: bytes, why: str) -> None:
    import time

    path = tmp_path / "bomb.p"
    path.write_bytes(data)
    started = time.perf_counter()
    with pytest.raises(InputFileError if why == "bytearray" else PickleBomb, match=why) as info:
        load_pickle(path)
    assert time.perf_counter() - started < 1.0
    assert "\n" not in str(info.value) and "bomb.p" in str(info.value)


def test_bounds_are_settable_and_sharing_within_them_is_fine(tmp_path: Path) -> None:
    shared = ["a", "b"]
    path = tmp_path / "ok.p"
    path.write_bytes(pickle.dumps({"x": [shared, shared, (shared,)], "y": {"z": [[1], [2]]}}, protocol=2))
    assert load_pickle(path)["x"][2] == (["a", "b"],)
    with pytest.raises(PickleBomb, match="shared references"):
        load_pickle(path, limits=PickleLimits(max_shared_refs=1))
    with pytest.raises(PickleBomb, match="levels deep"):
        load_pickle(path, limits=PickleLimits(max_depth=2))
    with pytest.raises(PickleBomb, match="bytes"):
        load_pickle(path, limits=PickleLimits(max_bytes=10))
    with pytest.raises(PickleBomb, match="objects"):
        load_pickle(path, limits=PickleLimits(max_objects=5))


def test_refcoco_build_refuses_a_refs_bomb_in_time(tmp_path: Path) -> None:
    """It used to hang (killed at 30 s): the loader walked the shared lists as a tree."""
    import subprocess
    import sys

    from tests.fixtures_sources import write_refer

    root, images = write_refer(tmp_path / "data", "refcoco", "unc")
    (root / "refcoco" / "refs(unc).p").write_bytes(_shared_levels(40))
    repo = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "scar", "build", "--source", "refcoco", "--root", str(root), "--images", str(images),
           "--out", str(tmp_path / "out"), "--no-progress", "--workers", "1"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "refused to load pickle" in proc.stderr and "pickle bomb" in proc.stderr
