"""The streaming JSON array reader: the same values as json.loads, one at a time, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scar.core.errors import InputFileError
from scar.sources.jsonstream import TruncatedJson, iter_json_array


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "objects.json"
    path.write_bytes(data)
    return path


def test_small_chunks_give_the_values_json_loads_gives(tmp_path: Path) -> None:
    values = [{"image_id": i, "objects": [{"x": i * 1.5, "names": ["man"]}], "n": 10**20 + i} for i in range(50)]
    path = _write(tmp_path, json.dumps(values, indent=1).encode())
    assert list(iter_json_array(path, chunk_chars=7)) == values  # numbers and strings cut at every chunk edge
    assert list(iter_json_array(_write(tmp_path, b" [ ] "))) == []


def test_cut_off_file_yields_complete_elements_then_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, b'[{"a": 1}, {"b": 2}, {"c": [3')
    seen = []
    with pytest.raises(TruncatedJson, match=r"objects\.json: JSON ends or breaks after character 21"):
        for value in iter_json_array(path, chunk_chars=4):
            seen.append(value)
    assert seen == [{"a": 1}, {"b": 2}]


def test_invalid_utf8_survives_as_a_lone_surrogate(tmp_path: Path) -> None:
    assert list(iter_json_array(_write(tmp_path, b'["hor\xffse", "ok"]'))) == ["hor\udcffse", "ok"]


@pytest.mark.parametrize(
    ("data", "message"),
    [(b'{"a": 1}', "expected a JSON array"), (b"", "expected a JSON array"), (b"[" * 100_000, "nested too deeply")],
)
def test_unusable_file_is_a_one_line_error_naming_it(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(InputFileError, match=rf"objects\.json.*{message}"):
        list(iter_json_array(_write(tmp_path, data)))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="file not found"):
        list(iter_json_array(tmp_path / "absent.json"))
