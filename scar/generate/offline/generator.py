"""OfflineGenerator: one entity -> gold caption `<object> <relation> <scene>` and 3 + 3 + 3 hard negatives.

A pure function of (seed, entity): every choice draws from the entity's own random stream, so the
build can run it in worker processes, in any order, and get the same rows.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from scar.core import filters
from scar.core.schema import NEGATIVES_PER_TYPE, CaptionParts, Entity, GeneratorInfo, Rejected, RegionKind, Sample
from scar.generate.offline.calibration import Keyed, Tally, kind_part
from scar.generate.offline.draws import Draws
from scar.generate.offline.objects import Objects, modifiers
from scar.generate.offline.picture import PictureBuilder
from scar.generate.offline.pools import ROLE_CLASS, SwapPool
from scar.generate.offline.prior import Prior, scene_key
from scar.generate.offline.relations import Group, Relations
from scar.generate.offline.scenes import NoSceneEvidence, SceneChoice, SceneTable
from scar.generate.rules import meaning_key
from scar.generate.taxonomy import Taxonomy, default_taxonomy
from scar.generate.words import noun_phrase, norm_name

NAME, MODEL, PROMPT_VERSION = "offline", "rules-v2", "offline-2"
P_FRAME = 0.12  # use a frame relation although an anchor exists, for variety (things only)
CALIBRATION_ROUNDS = 3  # generate-and-correct passes over the split's first entities (see calibrate)
THIN_STUFF_SUFFIX = "+thin-stuff"  # the model name of --thin-stuff builds: a resume never mixes the two
MIN_PLAUSIBLE = 8  # prior categories the scene table places in the scene before others are admitted


_CALIBRATED: dict[str, dict[str, Any]] = {}  # calibration key -> calibrated prior state (see calibrate)


class Reject(Exception):
    pass


@lru_cache(maxsize=1)
def default_scenes() -> SceneTable:
    return SceneTable.load(default_taxonomy())


class OfflineGenerator:
    # A pure function of (seed, entity): the build may run it in worker processes.
    parallel_safe = True

    def __init__(
        self,
        seed: int = 0,
        region_kind: RegionKind = "box",
        taxonomy: Taxonomy | None = None,
        p_frame: float = P_FRAME,
        thin_stuff: bool = False,
    ) -> None:
        self.seed = int(seed)
        self.p_frame = p_frame
        self.region_kind: RegionKind = region_kind
        # --thin-stuff: fewer rows from stuff-heavy sources, no text-only cue from their stuff (see calibrate)
        self.thin_stuff = thin_stuff
        model = f"{MODEL}{THIN_STUFF_SUFFIX}" if thin_stuff else MODEL
        self.info = GeneratorInfo(name=NAME, model=model, prompt_version=PROMPT_VERSION, seed=self.seed)
        self.taxonomy = taxonomy or default_taxonomy()
        self._taxonomy_key = "default" if taxonomy is None else f"custom-{id(taxonomy)}"
        self.scenes = default_scenes() if taxonomy is None else SceneTable.load(self.taxonomy)
        self.pictures = PictureBuilder(self.taxonomy)
        self.relations = Relations(self.pictures)
        self.objects = Objects(self.pictures)
        self._pools: dict[tuple[str, ...], SwapPool] = {}
        self._scaled_pools: dict[tuple[int, str], tuple[SwapPool, SwapPool]] = {}
        self._scene_weights: Mapping[str, float] | None = None
        self._nouns: dict[str, tuple[str, str]] = {}
        self.prior: Prior | None = None
        self._prior_key: str | None = None
        self._scene_cache: dict[tuple[str | None, frozenset[str], tuple[str, ...]], SceneChoice | str] = {}

    def prior_from_source(self, stats: dict[str, Any] | None) -> dict[str, Any] | None:
        """A compact prior (object and scene shares) from what the source's annotations say about the
        golds to come: {"categories": {name: count}, "scenes": {label: count}, "images": [[name, ...], ...]},
        any part may be missing. Run once per split in the main process; see `use_prior`."""
        if not stats or not stats.get("categories"):
            return None
        prior = Prior.build(
            self.taxonomy, self.scenes, stats["categories"], stats.get("scenes"), stats.get("images"), stats.get("image_scenes")
        )
        return prior.to_state()

    def use_prior(self, state: dict[str, Any] | None) -> None:
        """Draw swaps from this prior (a `prior_from_source` result; None: the scene table and word
        frequencies). Called by the pipeline before generating each split, in every worker process."""
        key = (state.get("digest") or json.dumps(state, sort_keys=True)) if state else None
        if key == self._prior_key:
            return
        self._prior_key = key
        self._pools.clear()
        self._scaled_pools.clear()
        self.prior = Prior.from_state(state) if state else None
        self._scene_weights = None
        if self.prior is not None:
            factors = self.prior.factors
            scenes = self.prior.scenes
            self._scene_weights = {s: w * factors.of("scene", s) for s, w in sorted(scenes.items())} if factors else scenes
        self._scene_cache.clear()

    # ------------------------------------------------------------ protocol

    def generate(self, entities: Sequence[Entity], images_root: Path | None) -> list[Sample | Rejected]:
        return [self.generate_one(e) for e in entities]

    def stats(self) -> dict[str, Any]:
        return {}  # no usage to report: the pipeline counts samples and rejections itself

    def close(self) -> None:
        pass

    def generate_one(self, entity: Entity) -> Sample | Rejected:
        try:
            return self._build(entity)
        except Reject as why:
            reason, _, detail = str(why).partition(": ")
            return Rejected(entity.source, entity.id, reason, detail=detail)

    # ------------------------------------------------------------ one entity

    def _noun(self, category: str) -> tuple[str, str]:
        """(noun, determiner): the taxonomy's wording for a known category, else the category's own words."""
        found = self._nouns.get(category)
        if found is None:
            key = self.taxonomy.resolve(category)
            c = self.taxonomy.concepts[key] if key else None
            found = self._nouns[category] = (c.display, c.det) if c else (norm_name(category), "a")
        return found

    def _absent_pool(self, scene: SceneChoice, with_parts: bool) -> SwapPool:
        """Concepts plausible in the scene (or in the scenes the picture may show), with weights by how
        common they are as golds there. Parts (an eye, a hand, glasses) only when the gold is a part
        itself: a swapped-in part beside whole-object golds is a text-only cue."""
        names = (scene.name,) if scene.name in self.scenes.scenes else tuple(sorted(scene.possible))
        pool_key = (*names, "\x00parts" if with_parts else "")
        pool = self._pools.get(pool_key)
        if pool is None:
            plausible = {k for n in names if n in self.scenes.scenes for k in self.scenes.scenes[n].objects}
            if with_parts:  # a part is plausible wherever what it belongs to is (hands wherever people are)
                plausible |= {k for k, c in self.taxonomy.concepts.items() if c.whole and self.taxonomy.wholes(k) & plausible}
            by_scene = self.prior.objects_by_scene.get(scene_key(scene) or "") if self.prior is not None else None
            if self.prior is not None:
                if by_scene:  # what golds show in pictures of this very scene
                    weights_of = dict(by_scene)
                else:
                    # the build's own gold distribution, restricted to what the scene table places there;
                    # when it places too few of them, the rest count a tenth
                    shares = self.prior.objects
                    inside = sum(1 for k in shares if k in plausible)
                    off = 0.0 if inside >= MIN_PLAUSIBLE else 0.1
                    weights_of = {k: v * (1.0 if k in plausible else off) for k, v in shares.items()}
                # the scene table's other things come last, a hundredth of the rarest gold (a small
                # vocabulary still leaves room for three swaps)
                last = 0.01 * min((v for v in weights_of.values() if v > 0), default=1.0)
                for k in sorted(plausible):
                    weights_of.setdefault(k, last)
                keys = sorted(weights_of)
                weights = [weights_of[k] for k in keys]
            else:
                keys = sorted(plausible)
                weights = [(1.0 + self.taxonomy.concepts[k].freq) ** 0.5 for k in keys]
            concepts = self.taxonomy.concepts
            # a whole-object gold gets whole objects; a part gold parts first (pools.ROLE_CLASS), then things
            kept = [
                (concepts[k], w) for k, w in zip(keys, weights)
                if k in concepts and not concepts[k].abstract and (with_parts or not concepts[k].whole)
            ]  # fmt: skip
            pool = self._pools[pool_key] = SwapPool([c for c, _ in kept], [w for _, w in kept])
        return pool

    def _scene(self, label: str | None, present: frozenset[str], context: tuple[str, ...] = ()) -> SceneChoice:
        """The scene choice for a picture, from its label, the keys of its things (`present`) and the names
        of what the source knows it shows without a region (`context`: stuff); cached, for the entities
        of one image share it. The choice's `method` says how it was made (stats.json)."""
        key = (label, present, context)
        found = self._scene_cache.get(key)
        if found is None:
            if len(self._scene_cache) > 4096:
                self._scene_cache.clear()
            try:
                extra = frozenset(self.pictures.key(name) for name in context)
                found = self.scenes.choose(label, present, self.prior.sides if self.prior else None, extra)
            except NoSceneEvidence as why:
                found = f"no scene evidence: {why}"
            self._scene_cache[key] = found
        if isinstance(found, str):
            raise Reject(found)
        return found

    def calibrate(self, entities: Sequence[Entity], rounds: int = CALIBRATION_ROUNDS) -> dict[str, Any] | None:
        """The prior in use, corrected so that swaps are as common as golds: generate `entities` (the
        split's first ones, the same in every process), compare how often each thing, anchor and
        scene is a gold's and a swap's, scale its swap weight by the ratio, `rounds` times (see
        calibration.py). None without a prior. Run by the pipeline in the main process; the state
        reaches the workers like any prior."""
        if self.prior is None:
            return None
        state = self.prior.to_state()
        # builds of the same entities in one process (tests, the demo) calibrate once; the key holds
        # everything the result depends on, the entities' whole content included
        key = hashlib.sha256(
            repr((state["digest"], self.seed, self.p_frame, self.region_kind, self._taxonomy_key, self.thin_stuff, rounds,
                  entities)).encode()
        ).hexdigest()
        found = _CALIBRATED.get(key)
        if found is not None:
            self.use_prior(found)
            return found
        for _ in range(rounds):
            tally = Tally()
            for entity in entities:
                try:
                    self._compose(entity, tally)
                except Reject:
                    continue
            assert self.prior is not None
            before = self.prior.factors
            # the golds' own shares are learnt once, before any is thinned
            shares = before.object_shares if before is not None else tally.object_shares()
            # --thin-stuff: stuff is thinned from the second round on, only what the factors could not fix
            residual = tally.residual_keep(before.residual, self._is_stuff) if before is not None and self.thin_stuff else None
            state = self.prior.with_factors(tally.factors(before.by_part if before else None), shares, residual).to_state()
            self.use_prior(state)
        if len(_CALIBRATED) >= 16:
            _CALIBRATED.pop(next(iter(_CALIBRATED)))
        _CALIBRATED[key] = state
        return state

    def _is_stuff(self, key: str) -> bool:
        """Ground, overhead and backdrop concepts (the floor, the sky, the wall), which nearly every picture
        of their scenes shows: the only kinds of thing calibration thins for being seldom a swap."""
        c = self.taxonomy.concepts.get(key)
        return c is not None and ROLE_CLASS.get(c.role, "thing") not in ("thing", "part")

    def _scaled(self, pool: SwapPool, part: str) -> SwapPool:
        """`pool` with the calibrated factors of one part (object or anchor), cached."""
        factors = self.prior.factors if self.prior is not None else None
        if factors is None or not factors.by_part.get(part):
            return pool
        found = self._scaled_pools.get((id(pool), part))
        if found is not None and found[0] is pool:
            return found[1]
        if len(self._scaled_pools) > 4096:
            self._scaled_pools.clear()
        scaled = pool.scaled(lambda key: factors.of(part, key))
        self._scaled_pools[(id(pool), part)] = (pool, scaled)
        return scaled

    def _part(self, part: str, kind: str) -> str:
        """The factors object or anchor swaps beside a relation of this kind are drawn with: the kind's own, if any."""
        factors = self.prior.factors if self.prior is not None else None
        return kind_part(part, kind) if factors is not None and kind_part(part, kind) in factors.by_part else part

    def _build(self, entity: Entity) -> Sample:
        return self._compose(entity)

    def _compose(self, entity: Entity, tally: Tally | None = None) -> Sample:
        d = Draws(self.seed, entity.id)
        pic = self.pictures.build(entity)
        noun, det = self._noun(entity.category)
        if not noun:
            raise Reject(f"empty category: {entity.category!r}")
        mods = modifiers(entity, noun, pic.concept, d)
        obj = noun_phrase(noun, det, mods)
        scene = self._scene(entity.scene, pic.present, entity.context)
        scene_prep, scene_np = self.scenes.phrase(scene.name, scene.indoor)
        absent = self._absent_pool(scene, with_parts=bool(pic.concept and pic.concept.whole))

        gold = choice = None
        rel_texts: list[str] = []
        obj_texts: list[str] = []
        failure = "too few relation swaps: no true relation with 3 false ones"
        rel_keys: list[str | None] = []
        obj_keys: list[str | None] = []
        factors = self.prior.factors if self.prior is not None else None
        object_key = pic.concept.key if pic.concept else None
        thin = d.next() if factors is not None else 0.0  # one draw per entity: a thinned gold skips every such relation

        def anchor_pool(kind: str) -> SwapPool:
            return self._scaled(absent, self._part("anchor", kind))

        for option in self.relations.options(pic, noun, anchor_pool, self.p_frame, d, stuff_frames=not self.thin_stuff):
            if factors is not None:
                named = factors.keep_chance(option.kind, object_key)
                if thin >= named:
                    failure = "relation names its object: thinned"
                    continue
                if factors.residual:  # --thin-stuff
                    anchor = self.pictures.info(option.anchor.category).key if option.anchor is not None else None
                    if thin >= named * factors.stuff_keep_chance(option.kind, object_key, anchor):
                        failure = "names stuff no swap can be as often: thinned"
                        continue
            candidate = CaptionParts(obj, option.text, scene_np if option.framed else f"{scene_prep} {scene_np}")
            try:
                rel_texts = self._take(candidate, "relation", option.swaps, "relation swaps", rel_keys)
            except Reject:
                continue
            relation = option.kind if option.framed else (option.kind, option.anchor)
            swaps = self.objects.swaps(pic, relation, mods, self._scaled(absent, self._part("object", option.kind)), d)
            try:
                obj_texts = self._take(candidate, "object", swaps, f"object swaps for {entity.category!r}", obj_keys)
            except Reject as why:
                failure = str(why)  # another relation may leave room for object swaps
                continue
            gold, choice = candidate, option
            break
        if gold is None or choice is None:
            raise Reject(failure)
        object_key = pic.concept.key if pic.concept else None
        scene_phrases = (Keyed(np_ if choice.framed else f"{prep} {np_}", key) for prep, np_, key in self.scenes.swaps(
            scene, object_key, d, self._scene_weights))
        scene_keys: list[str | None] = []
        scene_texts = self._take(gold, "scene", scene_phrases, "scene swaps", scene_keys)
        negatives = tuple(obj_texts + rel_texts + scene_texts)
        problems = filters.candidate_problems(gold.text, negatives)
        if problems:
            raise Reject(f"unfair candidates: {problems[0]}")
        if tally is not None:
            anchor = self.pictures.info(choice.anchor.category).key if choice.anchor is not None else None
            for part, gold_key, keys in (("object", object_key, obj_keys), ("anchor", anchor, rel_keys)):
                tally.add(part, gold_key, keys)
                tally.add(kind_part(part, choice.kind), gold_key, keys)
            tally.add("scene", scene_key(scene), scene_keys)
        return Sample(
            entity=entity,
            gold=gold,
            negatives=negatives,
            neg_types=("object",) * 3 + ("relation",) * 3 + ("scene",) * 3,
            generator=self.info,
            region_kind=self.region_kind,
            train_negative_index=min(int(d.next() * len(negatives)), len(negatives) - 1),
            scene_method=scene.method,
        )

    def _take(
        self, gold: CaptionParts, part: str, values: Iterable[str | Group], what: str, keys: list[str | None] | None = None
    ) -> list[str]:
        """The first 3 values that make a distinct negative of fair length, as full caption texts; the
        keys of what they name (calibration.Keyed values) go to `keys`, replacing what it held.

        A value may be a tuple of alternative wordings of one meaning: at most one of them is used.
        Only `part` changes, so distinctness and length are decided on the part alone.
        """
        if keys is not None:
            keys.clear()
        gold_value = getattr(gold, part)
        gold_len = len(gold_value)
        tolerance = max(filters.LENGTH_ABS_TOL, filters.LENGTH_REL_TOL * len(gold.text))
        prefix = {"object": "", "relation": f"{gold.object} ", "scene": f"{gold.object} {gold.relation} "}[part]
        suffix = {"object": f" {gold.relation} {gold.scene}", "relation": f" {gold.scene}", "scene": ""}[part]
        taken = {gold_value.lower()}
        meanings: set[str] = set()  # "a blue glass" and "a blue wine glass" are one negative, not two
        texts: list[str] = []
        for group in values:
            for value in (group,) if isinstance(group, str) else group:
                low = value.lower()
                if low in taken or abs(len(value) - gold_len) > tolerance:
                    continue
                meaning = meaning_key(part, value, self.taxonomy)
                if meaning in meanings:
                    continue
                meanings.add(meaning)
                taken.add(low)
                texts.append(prefix + value + suffix)
                if keys is not None:
                    keys.append(getattr(value, "key", None))
                break
            if len(texts) == NEGATIVES_PER_TYPE:
                return texts
        raise Reject(f"too few {what}: {len(texts)}")
