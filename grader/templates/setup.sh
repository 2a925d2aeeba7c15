#!/usr/bin/env bash
# Installs what grading needs on a Debian/Ubuntu machine, as root:
# bubblewrap, a Python >= 3.11 venv with torch==2.13.0, and the grader.
#
# Gradescope runs it once at image build (the zip is in /autograder/source);
# the Dockerfile runs it for both images. Settings (environment):
#   GRADER_SOURCE    the folder holding pyproject.toml and grader/ (default: this script's)
#   VENV             where the venv goes (default /opt/venv)
#   TORCH_INDEX_URL  the wheel index for torch (default CPU wheels; a CUDA one for GPUs,
#                    e.g. https://download.pytorch.org/whl/cu128)
set -euo pipefail
SOURCE="${GRADER_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
VENV="${VENV:-/opt/venv}"
TORCH_VERSION=2.13.0
TORCH_INDEX_URL="${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"
export DEBIAN_FRONTEND=noninteractive

python_ok() { "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && python_ok "$(command -v "$candidate")"; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

apt-get update -qq
apt-get install -y -qq --no-install-recommends bubblewrap ca-certificates >/dev/null
PYTHON="$(find_python)" || {
  # Ubuntu 22.04's python3 is 3.10: add 3.11 next to it.
  apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
  PYTHON="$(find_python)" || {
    apt-get install -y -qq --no-install-recommends python3.11 python3.11-venv >/dev/null
    PYTHON="$(find_python)"
  }
}
echo "setup.sh: using $PYTHON ($("$PYTHON" --version))"

"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check --no-cache-dir \
  "torch==$TORCH_VERSION" --index-url "$TORCH_INDEX_URL" --extra-index-url https://pypi.org/simple
"$VENV/bin/pip" install -q --disable-pip-version-check --no-cache-dir "$SOURCE"
# The sandboxed worker runs as an unprivileged uid and must read the venv.
chmod -R a+rX "$VENV"
"$VENV/bin/python" -c "import torch, numpy, grader; print('setup.sh: torch', torch.__version__)"
