"""Streaming a large Visual Genome-shaped objects.json: the project's parser against ijson (yajl2_c).

    .venv/bin/python tests/benchmarks/bench_json_stream.py [MB] [ROUNDS]

Writes a JSON array of per-image dicts (image_id, image_url, ~35 objects with names, synsets,
attributes and merged ids, like objects.json of Visual Genome 1.4) of about MB megabytes (default
200) to a temporary folder, then parses it ROUNDS times (default 3) with each parser in turn,
alternating, and prints MB/s per run, the median of each and the ratio. Both must yield the same
records (image and object counts and an id checksum are compared). ijson is not a dependency:
install it into the environment to compare (`uv pip install ijson`); without it only the
project's parser runs.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scar.sources.jsonstream import iter_json_array  # noqa: E402

NAMES = ("man", "tree", "window", "shirt", "building", "sign", "car", "table", "wall", "person", "grass", "sky")
ATTRIBUTES = ("white", "black", "large", "wooden", "green", "blue", "standing", "red", "tall", "small")


def write_objects_json(path: Path, megabytes: float, seed: int = 0) -> int:
    """An objects.json of about `megabytes` MB, written one image at a time; returns its size."""
    rng = np.random.default_rng(seed)
    target = int(megabytes * 1_000_000)
    written, image_id, object_id = 0, 0, 1_000_000
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        while written < target:
            image_id += 1
            objects = []
            for _ in range(int(rng.integers(10, 60))):
                object_id += 1
                name = NAMES[int(rng.integers(len(NAMES)))]
                obj: dict[str, Any] = {
                    "synsets": [f"{name}.n.01"],
                    "h": int(rng.integers(5, 500)),
                    "object_id": object_id,
                    "merged_object_ids": [object_id + 7_000_000] if rng.random() < 0.1 else [],
                    "names": [name],
                    "w": int(rng.integers(5, 800)),
                    "y": int(rng.integers(0, 500)),
                    "x": int(rng.integers(0, 800)),
                }
                if rng.random() < 0.4:
                    obj["attributes"] = [ATTRIBUTES[int(rng.integers(len(ATTRIBUTES)))]]
                objects.append(obj)
            entry = {"image_id": image_id, "objects": objects,
                     "image_url": f"https://cs.stanford.edu/people/rak248/VG_100K/{image_id}.jpg"}
            chunk = ("" if image_id == 1 else ", ") + json.dumps(entry)
            out.write(chunk)
            written += len(chunk)
        out.write("]")
    return path.stat().st_size


def project_parser(path: Path) -> Iterator[Any]:
    return iter_json_array(path)


def ijson_parser(path: Path) -> Iterator[Any]:
    import ijson

    with path.open("rb") as handle:
        yield from ijson.items(handle, "item", use_float=True)


def summary(records: Iterable[Any]) -> tuple[int, int, int]:
    images = objects = checksum = 0
    for entry in records:
        images += 1
        for obj in entry["objects"]:
            objects += 1
            checksum = (checksum * 31 + obj["object_id"] + obj["x"] + len(obj["names"][0])) % (1 << 61)
    return images, objects, checksum


def main() -> None:
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 200.0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    parsers: dict[str, Callable[[Path], Iterator[Any]]] = {"scar.sources.jsonstream": project_parser}
    try:
        import ijson

        parsers[f"ijson {ijson.__version__} ({ijson.backend})"] = ijson_parser
    except ImportError:
        print("ijson is not installed: only the project's parser runs")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "objects.json"
        size = write_objects_json(path, megabytes)
        print(f"{path.name}: {size / 1e6:.1f} MB")
        speeds: dict[str, list[float]] = {name: [] for name in parsers}
        results: dict[str, tuple[int, int, int]] = {}
        for round_no in range(rounds):
            for name, parse in parsers.items():
                start = time.perf_counter()
                results[name] = summary(parse(path))
                seconds = time.perf_counter() - start
                speeds[name].append(size / 1e6 / seconds)
                print(f"round {round_no + 1} {name:32} {seconds:6.2f} s {speeds[name][-1]:7.1f} MB/s  {results[name]}")
        if len(set(results.values())) != 1:
            raise SystemExit(f"parsers disagree: {results}")
        medians = {name: statistics.median(v) for name, v in speeds.items()}
        for name, mbs in medians.items():
            print(f"median {name:32} {mbs:7.1f} MB/s")
        names = list(medians)
        if len(names) == 2:
            print(f"ratio {names[1]} / {names[0]}: {medians[names[1]] / medians[names[0]]:.2f}x")


if __name__ == "__main__":
    main()
