"""Strict parsing of the three steps' replies. Anything unusable raises OutputProblem with a reason."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from scar.core.schema import NEG_TYPES, CaptionParts
from scar.generate.llm.request import Reply

# Rejection reasons (machine-groupable, as they appear in stats and Rejected.reason).
MALFORMED = "llm malformed output"
REFUSAL = "llm refusal"
WRONG_COUNT = "llm wrong candidate count"
TRUNCATED = "llm output truncated"


class OutputProblem(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Gold:
    parts: CaptionParts
    caption: str


@dataclass(frozen=True)
class NegativeDraft:
    kind: str
    replacement: str
    caption: str


@dataclass(frozen=True)
class Judgement:
    ok: bool
    reason: str


@dataclass(frozen=True)
class Verdict:
    gold: Judgement
    negatives: tuple[Judgement, ...]  # ok = false for the region AND fluent/plausible


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def reply_json(reply: Reply) -> dict[str, Any]:
    """The reply's JSON object; refusals, truncation and non-JSON are OutputProblems."""
    if reply.refusal:
        raise OutputProblem(REFUSAL, reply.refusal[:200])
    if reply.finish_reason == "content_filter":
        raise OutputProblem(REFUSAL, "content filter")
    if reply.finish_reason == "length":
        raise OutputProblem(TRUNCATED, "reply cut at max tokens")
    text = (reply.content or "").strip()
    fenced = _FENCE.match(text)  # servers without structured output often fence the JSON
    if fenced:
        text = fenced.group(1)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputProblem(MALFORMED, f"not JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(value, dict):
        raise OutputProblem(MALFORMED, f"expected a JSON object, got {type(value).__name__}")
    return value


def _text(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise OutputProblem(MALFORMED, f"{where}.{key} must be a non-empty string")
    return " ".join(value.split())


def _bool(obj: Mapping[str, Any], key: str, where: str) -> bool:
    value = obj.get(key)
    if not isinstance(value, bool):
        raise OutputProblem(MALFORMED, f"{where}.{key} must be true or false")
    return value


def parse_caption(reply: Reply) -> Gold:
    data = reply_json(reply)
    parts = CaptionParts(*(_text(data, k, "reply") for k in ("object", "relation", "scene")))
    caption = _text(data, "caption", "reply").rstrip(".")
    return Gold(parts, caption)


def parse_negatives(reply: Reply, counts: Mapping[str, int]) -> list[NegativeDraft]:
    data = reply_json(reply)
    drafts: list[NegativeDraft] = []
    for kind in NEG_TYPES:
        items = data.get(kind, [])
        if not isinstance(items, list):
            raise OutputProblem(MALFORMED, f"reply.{kind} must be a list")
        want = counts.get(kind, 0)
        if len(items) != want:
            raise OutputProblem(WRONG_COUNT, f"{kind}: expected {want}, got {len(items)}")
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise OutputProblem(MALFORMED, f"reply.{kind}[{i}] must be an object")
            where = f"reply.{kind}[{i}]"
            drafts.append(NegativeDraft(kind, _text(item, "replacement", where), _text(item, "caption", where).rstrip(".")))
    return drafts


def parse_verify(reply: Reply, num_negatives: int) -> Verdict:
    data = reply_json(reply)
    gold = data.get("gold")
    if not isinstance(gold, dict):
        raise OutputProblem(MALFORMED, "reply.gold must be an object")
    gold_ok = _bool(gold, "true", "reply.gold")
    items = data.get("negatives")
    if not isinstance(items, list):
        raise OutputProblem(MALFORMED, "reply.negatives must be a list")
    if len(items) != num_negatives:
        raise OutputProblem(WRONG_COUNT, f"verdicts: expected {num_negatives}, got {len(items)}")
    judged: list[Judgement] = []
    for i, item in enumerate(items):
        where = f"reply.negatives[{i}]"
        if not isinstance(item, dict):
            raise OutputProblem(MALFORMED, f"{where} must be an object")
        if item.get("index") != i:
            raise OutputProblem(MALFORMED, f"{where}.index must be {i}")
        is_false = _bool(item, "false_for_region", where)
        fluent = _bool(item, "fluent_and_plausible", where)
        reason = str(item.get("reason") or "").strip()
        if not is_false:
            reason = reason or "true for the region"
        elif not fluent:
            reason = reason or "not fluent or implausible"
        judged.append(Judgement(is_false and fluent, reason if not (is_false and fluent) else ""))
    return Verdict(Judgement(gold_ok, "" if gold_ok else str(gold.get("reason") or "").strip()), tuple(judged))
