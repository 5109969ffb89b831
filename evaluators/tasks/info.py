"""What every task is, whatever its board: the record the catalogs (`catalog`, `mmeb_v2.catalog`) are made of."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskInfo:
    name: str  # the task's name in results and leaderboards
    benchmark: str  # "scar" | "mmeb"
    meta_task: str | None = None  # MMEB meta-task; None for SCaR
    ind: bool | None = None  # MMEB: has MMEB-train data (IND) or not (OOD)
    num_queries: int | None = None  # expected query count of the official release
    num_candidates: int | None = None  # expected candidates per query
    in_average: bool = True  # CIFAR-100 is runnable but never averaged
    files: tuple[str, ...] = ()  # official file names / subset folder
    source: str | None = None  # SCaR: the `scar build` source whose eval split feeds it
    synthetic: bool = False  # generated data (the offline MMEB sample): never comparable with anything
