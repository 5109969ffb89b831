"""The versioned prompt templates (package data in scar/generate/prompts/) turned into ChatRequests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from string import Template
from typing import Any, Mapping, Sequence

from scar.core.schema import CaptionParts, Entity
from scar.generate.llm.images import ImageRef
from scar.generate.llm.request import ChatRequest, Message, SamplingParams


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


@dataclass(frozen=True)
class PromptSet:
    version: str
    templates: Mapping[str, str]
    schemas: Mapping[str, dict[str, Any]]

    def _render(self, name: str, **values: str) -> str:
        return Template(self.templates[name]).substitute(values).strip()

    def _request(self, step: str, messages: tuple[Message, ...], params: SamplingParams) -> ChatRequest:
        return ChatRequest(step, f"scar_{step}", self.schemas[step], messages, self.version, params)

    def caption(self, entity: Entity, image: ImageRef, params: SamplingParams) -> ChatRequest:
        facts: dict[str, Any] = {"category": entity.category}
        if entity.texts:
            facts["dataset_texts"] = list(entity.texts)
        if entity.attributes:
            facts["attributes"] = list(entity.attributes)
        if entity.scene:
            facts["scene"] = entity.scene
        if entity.neighbours:
            facts["other_things_in_image"] = sorted({n.category for n in entity.neighbours})
        system = self._render("caption.system", mark=_mark_word(image))
        user = self._render("caption.user", facts=_dump(facts))
        return self._request("caption", (Message.text("system", system), Message("user", (user, image))), params)

    def negatives(
        self,
        gold: CaptionParts,
        caption: str,
        counts: Mapping[str, int],
        accepted: Mapping[str, Sequence[str]],
        rejected: Sequence[Mapping[str, str]],
        params: SamplingParams,
    ) -> ChatRequest:
        gold_json = {"object": gold.object, "relation": gold.relation, "scene": gold.scene, "caption": caption}
        context = ""
        if rejected:
            context = self._render(
                "negatives.context", accepted=_dump({k: list(v) for k, v in accepted.items()}), rejected=_dump(list(rejected))
            )
        user = self._render("negatives.user", gold=_dump(gold_json), counts=_dump(dict(counts)), context=context)
        system = self._render("negatives.system")
        return self._request("negatives", (Message.text("system", system), Message.text("user", user)), params)

    def verify(self, image: ImageRef, caption: str, negatives: Sequence[str], params: SamplingParams) -> ChatRequest:
        candidates = {"gold": caption, "negatives": [{"index": i, "caption": c} for i, c in enumerate(negatives)]}
        system = self._render("verify.system", mark=_mark_word(image))
        user = self._render("verify.user", candidates=_dump(candidates))
        return self._request("verify", (Message.text("system", system), Message("user", (user, image))), params)

    def repair(self, request: ChatRequest, previous_reply: str, problem: str) -> ChatRequest:
        """The same conversation plus the unusable reply and a request to answer again."""
        return request.with_turns(
            Message.text("assistant", previous_reply), Message.text("user", self._render("repair", problem=problem))
        )


def _mark_word(image: ImageRef) -> str:
    return "outline" if image.mark == "mask" else "box"


@lru_cache(maxsize=1)
def load_prompts() -> PromptSet:
    folder = resources.files("scar.generate").joinpath("prompts")
    manifest = json.loads(folder.joinpath("manifest.json").read_text(encoding="utf-8"))
    names = [
        "caption.system", "caption.user", "negatives.system", "negatives.user", "negatives.context",
        "verify.system", "verify.user", "repair",
    ]  # fmt: skip
    templates = {n: folder.joinpath(f"{n}.txt").read_text(encoding="utf-8") for n in names}
    schemas = json.loads(folder.joinpath("schemas.json").read_text(encoding="utf-8"))
    return PromptSet(version=f"{manifest['name']}-{manifest['version']}", templates=templates, schemas=schemas)
