"""One chat request, independent of how it is sent (online or batch) and of the image bytes.

Images stay references until the request body is built, so a batch of 50k requests does not hold
50k encoded images; the cache key uses the image's fingerprint in place of its bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Union

from scar.generate.llm.images import ImageRef

Part = Union[str, ImageRef]


@dataclass(frozen=True)
class Message:
    role: str  # system | user | assistant
    parts: tuple[Part, ...]

    @staticmethod
    def text(role: str, text: str) -> "Message":
        return Message(role, (text,))


@dataclass(frozen=True)
class SamplingParams:
    model: str
    temperature: float
    seed: int | None
    max_tokens: int
    top_p: float | None = None

    def as_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.seed is not None:
            body["seed"] = self.seed
        if self.top_p is not None:
            body["top_p"] = self.top_p
        return body


@dataclass(frozen=True)
class ChatRequest:
    step: str  # caption | negatives | verify
    schema_name: str
    schema: dict[str, Any] = field(compare=False, hash=False)
    messages: tuple[Message, ...]
    prompt_version: str
    params: SamplingParams

    def with_turns(self, *extra: Message) -> "ChatRequest":
        return ChatRequest(self.step, self.schema_name, self.schema, self.messages + extra, self.prompt_version, self.params)

    def cache_key(self) -> str:
        """Hash of everything that decides the answer; the API key and transport options are not in it."""
        payload = {
            "prompt_version": self.prompt_version,
            "schema": self.schema_name,
            "params": self.params.as_body(),
            "messages": [
                {"role": m.role, "parts": [p if isinstance(p, str) else p.fingerprint for p in m.parts]}
                for m in self.messages
            ],
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def openai_messages(self, image_url: Callable[[ImageRef], str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for m in self.messages:
            if len(m.parts) == 1 and isinstance(m.parts[0], str):
                out.append({"role": m.role, "content": m.parts[0]})
                continue
            content = [
                {"type": "text", "text": p} if isinstance(p, str) else {"type": "image_url", "image_url": {"url": image_url(p)}}
                for p in m.parts
            ]
            out.append({"role": m.role, "content": content})
        return out

    def body(self, image_url: Callable[[ImageRef], str], response_format: str) -> dict[str, Any]:
        """The chat-completions request body; response_format is json_schema | json_object | none."""
        body = self.params.as_body()
        body["messages"] = self.openai_messages(image_url)
        if response_format == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": self.schema_name, "schema": self.schema, "strict": True},
            }
        elif response_format == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body


@dataclass(frozen=True)
class Reply:
    """What came back for one request, as stored in the cache."""

    content: str | None
    refusal: str | None
    finish_reason: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True, ensure_ascii=False)

    @staticmethod
    def from_json(text: str) -> "Reply":
        return Reply(**json.loads(text))

    @staticmethod
    def from_completion(completion: dict[str, Any]) -> "Reply":
        """From a chat.completion object as JSON (online reply or a batch output line's body)."""
        choices = completion.get("choices") or []
        if not choices:
            return Reply(content=None, refusal=None, finish_reason="no_choices")
        choice = choices[0] or {}
        message = choice.get("message") or {}
        usage = completion.get("usage") or {}
        return Reply(
            content=message.get("content"),
            refusal=message.get("refusal"),
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
        )
