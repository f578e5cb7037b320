#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (CUDA 12) and CuPy: the on-device tests and the GPU benchmark
# (200 captures x 1M samples, the GPU strategy against the process pool, throughput beside the
# host-to-device bandwidth), then one summary table. About 2-4 minutes, installs included.
#
#   benchmarks/gpu_check.sh                 # uses .venv (created if missing) or $PYTHON
#   PYTHON=python3 benchmarks/gpu_check.sh  # the current interpreter, no venv
#   GPU_CHECK_CAPTURES=50 GPU_CHECK_SAMPLES=100000 benchmarks/gpu_check.sh   # smaller batch
#
# Installs the project with its gpu and dev extras (cupy-cuda12x, pytest, ...) only where
# CuPy or the project is missing. Exits non-zero if a test fails, the device cannot be used,
# or the GPU fell back to the CPU.
set -euo pipefail

cd "$(dirname "$0")/.."
captures=${GPU_CHECK_CAPTURES:-200}
samples=${GPU_CHECK_SAMPLES:-1000000}
started=$SECONDS

step() { printf '\n==> %s\n' "$*"; }

if [[ -n ${PYTHON:-} ]]; then
    python=$PYTHON
elif [[ -x .venv/bin/python ]]; then
    python=.venv/bin/python
else
    step "creating .venv"
    python3 -m venv .venv
    python=.venv/bin/python
fi
step "interpreter: $python ($("$python" --version 2>&1))"

if ! "$python" -c "import cupy, pytest_oscura, xdist, pytest" 2>/dev/null; then
    step "installing pytest-oscura[gpu,dev] (CuPy for CUDA 12, pytest, ...)"
    "$python" -m pip install --quiet --disable-pip-version-check --editable ".[gpu,dev]"
fi

step "device"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
"$python" - <<'EOF'
import sys
from pytest_oscura.strategies import probe_gpu
cupy, why = probe_gpu()
print(why)
sys.exit(0 if cupy is not None else "no usable CUDA device: " + why)
EOF

step "on-device tests: pytest -m gpu tests/gpu (full default set vs the CPU)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# -W default: a CuPy notice (no CUDA_PATH, a performance hint) is shown, not a failure; the
# tests themselves fail on any fallback to the CPU.
"$python" -m pytest -p no:xdist -p no:cacheprovider -W default -m gpu tests/gpu -q -rs 2>&1 |
    tee "$log"
tests_status=${PIPESTATUS[0]}
set -e
tests_line=$(grep -E '(passed|failed|skipped|error)' "$log" | tail -n 1 | sed -e 's/=//g' -e 's/^ *//' -e 's/ *$//')
if [[ $tests_status -ne 0 ]] || grep -q skipped <<<"$tests_line"; then
    tests_line="FAILED or skipped: $tests_line"
fi

step "GPU benchmark: $captures captures x $samples samples, gpu strategy vs process pool"
"$python" -m benchmarks.gpu_bench --captures "$captures" --samples "$samples" --rounds 2 \
    --tests "$tests_line"

step "done in $((SECONDS - started)) s"
exit "$tests_status"
