"""What MMEB-V2's parsers build: one raw query (`Raw`), the task being read (`Context`: its spec, root,
skips, corpus) and the shared text and video helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluators.models.protocol import IMAGE_TOKEN, Item
from evaluators.tasks.mmeb_v2.catalog import V2Spec
from evaluators.tasks.mmeb_v2.frames import list_frames, middle, sample_uniform
from evaluators.tasks.mmeb_v2.layout import MissingMedia, inside, release_of

IMG = IMAGE_TOKEN

@dataclass
class Raw:
    """One query as a parser builds it."""

    item: Item
    candidates: list[tuple[str, Item]]
    labels: list[str]
    rel_scores: list[float] | None = None
    qid: str = ""


@dataclass
class Context:
    spec: V2Spec
    root: Path
    annotations: Path
    skip_bad: bool
    corpus: list[tuple[str, Item]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    @property
    def media(self) -> Path:
        return self.root / self.spec.media

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def image(self, relative: str, file: Path, record: str) -> str:
        path = inside(self.media, relative, file, record)
        if not path.is_file():
            raise MissingMedia(file, f"image not found: {path} (the official release keeps it in "
                                     f"{release_of(self.spec)})", record=record)
        return str(path)

    def frames(self, folder: str, file: Path, record: str, sample: bool = True) -> tuple[str, ...]:
        path = inside(self.media, folder, file, record)
        frames = list_frames(path)
        if not frames:
            raise MissingMedia(file, f"no frames in {path} (the official release keeps them in "
                                     f"{release_of(self.spec)}; this loader does not decode videos)", record=record)
        return tuple(sample_uniform(frames, self.spec.num_frames) if sample else frames)


def video(text: str, frames: tuple[str, ...]) -> Item:
    return Item(text=text, image=middle(frames), frames=frames)


def prompt(instruction: str, text: Any = None, visual: bool = False) -> str:
    """`process_input_text`: the instruction, a space and the text when there is one, the token first."""
    prompt = instruction + (" " + str(text) if text else "")
    return f"{IMG} {prompt}" if visual else prompt
