"""Print the parity figures: max abs difference to the official code per case, picks agreeing.

    .venv/bin/python -m tests.parity.report          (project venv, from the repository root)

The tests assert these; this prints them, for both protocols, so a change shows up as numbers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from evaluators.models.registry import load_embedder
from tests.parity import cases, test_parity_clip as clip, test_parity_virtue as virtue, test_parity_vlm2vec as vlm2vec


def main() -> None:
    for protocol in ("official", "fixed"):
        emb = load_embedder(str(virtue.CKPT), family="virtue", protocol=protocol)
        for case in cases.VIRTUE_CASES:
            print(f"virtue   {protocol:8s} {case:16s} max|d| {virtue.diff_to_official(emb, case):.2e} (later call)")
        emb = load_embedder(str(vlm2vec.CKPT), family="vlm2vec", protocol=protocol)
        for case in cases.VLM2VEC_CASES:
            diffs = vlm2vec.diffs_to_official(emb, case)
            print(f"vlm2vec  {protocol:8s} {case:16s} max|d| {diffs['first']:.2e} (first call) "
                  f"{diffs['later']:.2e} (later calls)")
        with tempfile.TemporaryDirectory() as tmp:
            report, _ = clip.run_scar_eval(Path(tmp), "--protocol", protocol)
        for task, got in report.items():
            expected = clip.golden()["tasks"][task]
            same = sum(a == b for a, b in zip(got["picks"], expected["picks"]))
            print(f"clip     {protocol:8s} {task:16s} max|d| {got['max_abs_diff']:.2e}  picks {same}/{len(got['picks'])}"
                  f"  num_correct {got['num_correct']} (official {expected['num_correct']})")


if __name__ == "__main__":
    main()
