"""The restricted unpickler admits plain data and numpy arrays, refuses (never runs) anything else."""

from __future__ import annotations

import builtins
import os
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from scar.errors import InputFileError
from scar.sources.safe_pickle import UnsafePickleError, load_pickle
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
