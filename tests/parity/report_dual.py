"""Print the SigLIP / OpenCLIP parity figures: max abs difference to the official embeddings, picks and
num_correct per task, for both protocols (the figures test_parity_siglip.py / test_parity_openclip.py assert).

    .venv/bin/python -m tests.parity.report_dual          (project venv, from the repository root)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.parity.test_parity_openclip import OPENCLIP
from tests.parity.test_parity_siglip import SIGLIP


def main() -> None:
    for family in (SIGLIP, OPENCLIP):
        for protocol in ("official", "fixed"):
            with tempfile.TemporaryDirectory() as tmp:
                report, _ = family.run_scar_eval(Path(tmp), "--protocol", protocol)
            for task, got in report.items():
                expected = family.golden()["tasks"][task]
                same = sum(a == b for a, b in zip(got["picks"], expected["picks"]))
                print(f"{family.family:9s}{protocol:9s}{task:12s} max|d| {got['max_abs_diff']:.2e}  picks "
                      f"{same}/{len(got['picks'])}  num_correct {got['num_correct']} (official {expected['num_correct']})")
    for task, record in SIGLIP.golden()["batch16"].items():
        print(f"siglip   official batch 16 vs batch 1 {task:12s} max|d| {record['max_abs_diff_to_batch_size_1']:.2e}  "
              f"num_correct {record['num_correct']} (batch 1: {SIGLIP.golden()['tasks'][task]['num_correct']})")


if __name__ == "__main__":
    main()
