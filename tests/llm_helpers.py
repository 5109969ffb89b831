"""Fixtures shared by the LLM generator tests: tiny images, entities and a generator on the fake server."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from scar.core.schema import Entity, Neighbour, Region
from scar.generate.llm import LLMConfig, LLMGenerator

SECRET = "sk-test-SECRETVALUE-0123456789abcdef"


def make_images(root: Path, names: list[str]) -> None:
    for i, name in enumerate(names):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 48), (10 * i % 255, 120, 200)).save(path)


def entity(n: int, category: str = "cat", image: str | None = None, scene: str | None = "kitchen") -> Entity:
    return Entity(
        source="demo",
        split="eval",
        image_id=f"img{n}",
        entity_id=f"e{n}",
        image_path=image or f"images/img{n}.png",
        image_width=64,
        image_height=48,
        category=category,
        region=Region(box_xywh=(4.0, 5.0, 20.0, 10.0)),
        texts=(f"the {category} on the left",),
        scene=scene,
        neighbours=(Neighbour("dog", (30.0, 5.0, 10.0, 10.0)),),
    )


def generator(base_url: str, out: Path, **overrides: object) -> LLMGenerator:
    settings: dict[str, object] = dict(
        model="fake-model", seed=7, out=out, base_url=base_url, api_key_env="SCAR_TEST_KEY",
        concurrency=8, backoff_base_s=0.01, backoff_max_s=0.05, request_timeout_s=5.0,
    )  # fmt: skip
    settings.update(overrides)
    return LLMGenerator(LLMConfig(**settings))  # type: ignore[arg-type]


# Fixtures shared by the LLM test files (imported there by name, which is how pytest finds them).
@pytest.fixture()
def server():
    from tests.llm_fake_server import FakeOpenAIServer

    with FakeOpenAIServer() as s:
        yield s


@pytest.fixture()
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SCAR_TEST_KEY", SECRET)
    make_images(tmp_path / "data", [f"images/img{i}.png" for i in range(12)])
    return tmp_path / "data"
