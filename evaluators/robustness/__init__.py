"""Robustness of region prompts (`scar eval --robustness [SUITE]`): how far a model's SCaR score falls
when the box, point or mask it is given is imperfect.

One job per module:
  geometry   boxes and masks: IoU, clipping, COCO RLE in and out (pycocotools)
  suite      the suites: kinds and levels (`default`)
  perturb    one query's perturbed prompt per level, drawn from (seed, sample id, kind, level)
  routing    which prompt kinds a model takes, and how (native, region variant), or why not
  levels     the perturbed copies of loaded SCaR tasks, one per level
  runner     the suite's run on one model: encode what the cache lacks once, score every level
  score      the robustness score and the per-level rows
  results    the files under `<out>/<model>/<run>/robustness/<suite>-seed<N>/`
  board      `scar leaderboard`'s robustness table and plot
  figure     the picture of the perturbations in docs/ (README)
  cli        the `scar eval --robustness` hook
"""
