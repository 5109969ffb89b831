#!/usr/bin/env bash
# MMEB-V2 parity check, end to end: the project's loaders, scoring and Qwen2-VL embedder vs the official
# TIGER-AI-Lab/VLM2Vec main eval.py (6e1e1d4, vendored Qwen2-VL, transformers 4.52.3) on the fixture of
# evaluators/tasks/mmeb_v2/fixture.py (10 tasks: image, video frames, pages; local and global) with the
# same tiny random Qwen2-VL weights, float32 on a CPU.
#
# usage: run.sh --official DIR [--project DIR] [--work DIR] [--tol 1e-4] [--update-golden]
#   --official       exported VLM2Vec tree at 6e1e1d42d4cba85ae4db4d3f7a25cba2465d1e16; copied, never modified
#   --project        project checkout (default: this one); its python is DIR/.venv/bin/python (PROJECT_PY)
#   --work           scratch folder (default: mktemp -d): weights, fixture, official outputs, logs
#   --update-golden  copy the official outputs to tests/parity/data/mmeb_v2/golden_eval.json and the tiny
#                    weights to tests/parity/data/mmeb_v2/ckpt/ (CI's golden data)
#   env PARITY_VENV_DIR (default ~/.cache/scar-parity): the official venv vlm2vec-v2-official (requirements.txt)
# exit: 0 project matches (pipeline identical, model within tol), 1 mismatch, 2 setup/harness failure
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT="$(cd "$HERE/../../.." && pwd)" OFFICIAL="" WORK="" TOL="1e-4" UPDATE=0
die() { echo "SETUP FAILURE: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --official) OFFICIAL="$2"; shift 2 ;;
    --project) PROJECT="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --tol) TOL="$2"; shift 2 ;;
    --update-golden) UPDATE=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$OFFICIAL" ] && [ -f "$OFFICIAL/eval.py" ] && [ -f "$OFFICIAL/src/utils/eval_utils/metrics.py" ] ||
  die "--official DIR: a VLM2Vec main tree (git --git-dir=<mirror> archive 6e1e1d4 | tar -x -C DIR)"
OFFICIAL="$(cd "$OFFICIAL" && pwd)"
PROJECT_PY="${PROJECT_PY:-$PROJECT/.venv/bin/python}"
[ -x "$PROJECT_PY" ] || die "project python $PROJECT_PY not found (python3 dev.py sync, or set PROJECT_PY)"
WORK="${WORK:-$(mktemp -d -t mmeb-v2-parity.XXXXXX)}"
mkdir -p "$WORK/logs" && WORK="$(cd "$WORK" && pwd)" || die "cannot create $WORK"
VENV="${PARITY_VENV_DIR:-$HOME/.cache/scar-parity}/vlm2vec-v2-official"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" TOKENIZERS_PARALLELISM=false PYTHONHASHSEED=0 \
  HF_HOME="$WORK/hf" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PARITY_PROJECT="$PROJECT"
step() {  # step NAME LOG CMD...
  local name="$1" log="$2"; shift 2; local t0=$SECONDS
  echo "[step] $name ..."
  "$@" >"$log" 2>&1 || { tail -20 "$log" >&2; die "$name failed (log: $log)"; }
  echo "[step] $name done ($((SECONDS - t0)) s)"
}
if ! { [ -x "$VENV/bin/python" ] && cmp -s "$VENV/.parity-pins" "$HERE/requirements.txt"; }; then
  command -v uv >/dev/null || die "uv not on PATH"
  [ -x "$VENV/bin/python" ] || uv venv -q -p 3.11 "$VENV" || die "uv venv failed"
  uv pip sync -q --python "$VENV/bin/python" "$HERE/requirements.txt" && cp "$HERE/requirements.txt" "$VENV/.parity-pins" ||
    die "uv pip sync failed"
fi
TASKS="$("$PROJECT_PY" -c 'from evaluators.tasks.mmeb_v2.fixture import PARITY_TASKS; print(",".join(PARITY_TASKS))')" ||
  die "project import failed"
step "tiny weights (official venv)" "$WORK/logs/weights.log" "$VENV/bin/python" "$HERE/make_weights.py" "$OFFICIAL" "$WORK/ckpt"
step "fixture (project)" "$WORK/logs/fixture.log" "$PROJECT_PY" -c \
  "import sys; from pathlib import Path; from evaluators.tasks.mmeb_v2.fixture import write_fixture; write_fixture(Path(sys.argv[1]))" "$WORK/fixture"
rm -rf "$WORK/out"
step "official eval.py" "$WORK/logs/official.log" "$VENV/bin/python" "$HERE/run_official.py" "$OFFICIAL" "$WORK/official" \
  "$WORK/fixture" "$WORK/ckpt" "$WORK/out" "$TASKS"
step "export golden" "$WORK/logs/export.log" "$VENV/bin/python" "$HERE/export_golden.py" "$WORK/out" "$WORK/fixture" "$TASKS" "$WORK/golden_eval.json" "$WORK/ckpt"
if [ "$UPDATE" = 1 ]; then
  DATA="$PROJECT/tests/parity/data/mmeb_v2"
  cp "$WORK/golden_eval.json" "$DATA/golden_eval.json" && rm -rf "$DATA/ckpt" && cp -r "$WORK/ckpt" "$DATA/ckpt" &&
    chmod 644 "$DATA/ckpt"/* && echo "[golden] updated" || die "cannot update $DATA"
fi
(cd "$PROJECT" && "$PROJECT_PY" "$HERE/compare.py" "$WORK/golden_eval.json" "$WORK/fixture" "$WORK/ckpt" --tol "$TOL" 2>"$WORK/logs/compare.err")
code=$?
[ $code -le 1 ] || { tail -20 "$WORK/logs/compare.err" >&2; die "compare failed"; }
exit $code
