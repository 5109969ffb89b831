"""MMEB-V2 (78 tasks: image 36, video 18, visual documents 24), computed as the official V2 code computes it.

catalog   the tasks as data (names, groups, meta-tasks, metric, eval type, frames, instructions, hub sources)
metrics   hit, NDCG (linear and exponential gain), precision, recall, F1, MAP, MRR at 1/5/10
aggregate per task, meta-task, group and overall, as report_score_v2.py and the paper average them
layout    where the official release keeps each task's files; loaders read them (loaders, frames)
scoring   local and global ranking (global in blocks of queries, memory flat), per-query predictions
"""

# The project catalog lists these tasks (evaluators.tasks.catalog imports .catalog at its end); importing it
# first keeps either import order working.
import evaluators.tasks.catalog  # noqa: E402,F401
