"""The three steps for one entity: caption -> negatives -> verify (regenerating rejected negatives)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable, Protocol, TypeVar

from scar.generate.llm.client import TransportFailure
from scar.generate.llm.images import ImageProblem, ImageRef, MarkStyle, image_ref_for
from scar.generate.llm.parsing import (
    Gold,
    NegativeDraft,
    OutputProblem,
    parse_caption,
    parse_negatives,
    parse_verify,
)
from scar.core.schema import NEG_TYPES, NEGATIVES_PER_TYPE, NUM_NEGATIVES, Entity, GeneratorInfo, Rejected, Sample
from scar.core.seeding import rng_for
from scar.generate.llm.prompts import PromptSet
from scar.generate.llm.request import ChatRequest, Reply, SamplingParams
from scar.generate.llm.taxonomy import ObjectSwapCheck, negative_problem
from scar.generate.llm.usage import Usage

T = TypeVar("T")

GOLD_NOT_CONFIRMED = "gold caption not confirmed"
NEGATIVES_FAILED = "negatives failed verification"


class Completer(Protocol):
    def __call__(self, request: ChatRequest) -> Awaitable[Reply]: ...


class Rejection(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class FlowSettings:
    info: GeneratorInfo
    params: SamplingParams
    max_retries: int  # content retries per step and regeneration rounds for rejected negatives
    mark: MarkStyle
    image_max_side: int


class EntityFlow:
    def __init__(
        self, prompts: PromptSet, complete: Completer, settings: FlowSettings, usage: Usage, object_swap_ok: ObjectSwapCheck
    ) -> None:
        self._prompts = prompts
        self._complete = complete
        self._s = settings
        self._usage = usage
        self._object_swap_ok = object_swap_ok

    async def run(self, entity: Entity, images_root: Path | None) -> Sample | Rejected:
        s = self._s
        try:
            image = await asyncio.to_thread(image_ref_for, entity, images_root, s.mark, s.image_max_side)
        except ImageProblem as p:
            return self._reject(entity, p.reason, p.detail, file=entity.image_path)
        try:
            gold = await self._ask(self._prompts.caption(entity, image, s.params), parse_caption)
            negatives = await self._negatives(gold, image)
        except (OutputProblem, TransportFailure, Rejection) as p:
            return self._reject(entity, p.reason, p.detail)
        kinds = [k for k in NEG_TYPES for _ in range(NEGATIVES_PER_TYPE)]
        sample = Sample(
            entity=entity,
            gold=gold.parts,
            negatives=tuple(negatives),
            neg_types=tuple(kinds),
            generator=s.info,
            caption=gold.caption,
            train_negative_index=int(rng_for(s.info.seed, entity.id, "train-negative").integers(NUM_NEGATIVES)),
        )
        problems = sample.check()
        if problems:
            return self._reject(entity, "invalid sample", "; ".join(problems))
        return sample

    def _reject(self, entity: Entity, reason: str, detail: str, file: str | None = None) -> Rejected:
        self._usage.reject(reason)
        return Rejected(entity.source, entity.id, reason, file=file, detail=detail[:300])

    async def _ask(self, request: ChatRequest, parse: Callable[[Reply], T]) -> T:
        """One step; an unusable reply is shown back to the model and asked again, up to --max-retries."""
        for attempt in range(self._s.max_retries + 1):
            reply = await self._complete(request)
            try:
                return parse(reply)
            except OutputProblem as problem:
                if attempt == self._s.max_retries:
                    raise
                self._usage.content_retries += 1
                previous = reply.content if reply.content is not None else (reply.refusal or "")
                request = self._prompts.repair(request, previous, problem.detail if problem.detail else problem.reason)
        raise AssertionError("unreachable")

    async def _negatives(self, gold: Gold, image: ImageRef) -> list[str]:
        accepted: dict[str, list[str]] = {k: [] for k in NEG_TYPES}
        kept_parts: dict[str, list[str]] = {k: [] for k in NEG_TYPES}  # the replacements behind `accepted`
        rejected: list[dict[str, str]] = []
        gold_checked = False
        for round_ in range(self._s.max_retries + 1):
            if round_:
                self._usage.regenerations += 1
            counts = {k: NEGATIVES_PER_TYPE - len(v) for k, v in accepted.items()}
            request = self._prompts.negatives(gold.parts, gold.caption, counts, accepted, rejected, self._s.params)
            drafts = await self._ask(request, lambda r, c=counts: parse_negatives(r, c))  # type: ignore[misc]
            fresh, bad = self._local_checks(gold, drafts, accepted, kept_parts)
            rejected.extend(bad)
            if fresh:
                verdict = await self._ask(
                    self._prompts.verify(image, gold.caption, [d.caption for d in fresh], self._s.params),
                    lambda r, n=len(fresh): parse_verify(r, n),  # type: ignore[misc]
                )
                if not gold_checked and not verdict.gold.ok:
                    raise Rejection(GOLD_NOT_CONFIRMED, verdict.gold.reason)
                gold_checked = True
                for draft, judgement in zip(fresh, verdict.negatives):
                    if judgement.ok:
                        accepted[draft.kind].append(draft.caption)
                        kept_parts[draft.kind].append(draft.replacement)
                    else:
                        rejected.append({"type": draft.kind, "caption": draft.caption, "reason": judgement.reason})
            if all(len(v) == NEGATIVES_PER_TYPE for v in accepted.values()):
                return [c for k in NEG_TYPES for c in accepted[k]]
        last = "; ".join(f"{r['type']}: {r['reason']}" for r in rejected[-3:])
        raise Rejection(NEGATIVES_FAILED, last)

    def _local_checks(
        self, gold: Gold, drafts: list[NegativeDraft], accepted: dict[str, list[str]], kept_parts: dict[str, list[str]]
    ) -> tuple[list[NegativeDraft], list[dict[str, str]]]:
        """Rules that need no judge (scar.generate.rules, shared with the offline generator): one element
        really replaced, not a synonym / hypernym / hyponym / person twin of the gold object, not a
        synonym of the gold relation, not a confusable scene, no two negatives meaning the same, all distinct."""
        seen = {gold.caption.lower()} | {c.lower() for v in accepted.values() for c in v}
        parts = {k: list(v) for k, v in kept_parts.items()}
        fresh: list[NegativeDraft] = []
        bad: list[dict[str, str]] = []
        for d in drafts:
            original = getattr(gold.parts, d.kind)
            reason = ""
            if d.replacement.lower() == original.lower():
                reason = f"replacement repeats the gold {d.kind}"
            elif d.kind == "object" and not self._object_swap_ok(gold.parts.object, d.replacement):
                reason = "object is a synonym, hypernym or hyponym of the gold object"
            elif d.caption.lower() in seen:
                reason = "duplicate caption"
            else:
                reason = negative_problem(d.kind, original, d.replacement, parts.get(d.kind, ()))
            if reason:
                bad.append({"type": d.kind, "caption": d.caption, "reason": reason})
            else:
                seen.add(d.caption.lower())
                parts.setdefault(d.kind, []).append(d.replacement)
                fresh.append(d)
        return fresh, bad
