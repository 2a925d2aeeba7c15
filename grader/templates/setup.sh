#!/usr/bin/env bash
# Installs what grading needs on a Debian/Ubuntu machine, as root:
# bubblewrap, a Python >= 3.10 venv with torch==2.13.0, and the grader.
#
# Gradescope runs it once at image build (the zip is in /autograder/source);
# the Dockerfile runs it for both images. Settings (environment):
#   GRADER_SOURCE    the folder holding pyproject.toml and grader/ (default: this script's)
#   VENV             where the venv goes (default /opt/venv)
#   WHEELS           a folder of wheels: when it holds any, pip installs from it alone
#   EXTRAS           the grader's optional extras to install too, e.g. "docker" (the docker SDK)
#   TORCH_INDEX_URL  the wheel index for torch otherwise (default CPU wheels; a CUDA one
#                    for GPUs, e.g. https://download.pytorch.org/whl/cu128)
# apt-get runs only for what is missing (bubblewrap, a Python with venv).
set -euo pipefail
SOURCE="${GRADER_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
VENV="${VENV:-/opt/venv}"
TORCH_VERSION=2.13.0
TORCH_INDEX_URL="${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"
export DEBIAN_FRONTEND=noninteractive

# The grader runs on Python 3.10 (Gradescope's Ubuntu 22.04) to 3.13; torch 2.13 has wheels for these.
python_ok() {
  "$1" -c 'import sys, venv, ensurepip; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null
}

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3.10 python3; do
    if command -v "$candidate" >/dev/null && python_ok "$(command -v "$candidate")"; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

apt_install() {
  [ -n "${APT_UPDATED:-}" ] || { apt-get update -qq; APT_UPDATED=1; }
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v bwrap >/dev/null || apt_install bubblewrap ca-certificates
PYTHON="$(find_python)" || {
  # A python3 without venv/ensurepip (Debian and Ubuntu split them off).
  version="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
  apt_install python3 python3-venv ${version:+"python$version-venv"} || true
  PYTHON="$(find_python)"
} || {
  echo "setup.sh: no Python 3.10-3.13 with venv here ($(python3 --version 2>&1 || echo 'no python3'));" \
       "install one (e.g. python3.11 python3.11-venv) and run setup.sh again" >&2
  exit 1
}
echo "setup.sh: using $PYTHON ($("$PYTHON" --version))"

if compgen -G "${WHEELS:-/nonexistent}/*.whl" >/dev/null; then
  echo "setup.sh: installing from the wheels in $WHEELS only"
  PIP_SOURCE=(--no-index --find-links "$WHEELS")
  TORCH_SOURCE=("${PIP_SOURCE[@]}")
else
  PIP_SOURCE=()
  TORCH_SOURCE=(--index-url "$TORCH_INDEX_URL" --extra-index-url https://pypi.org/simple)
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check --no-cache-dir "${TORCH_SOURCE[@]}" "torch==$TORCH_VERSION"
"$VENV/bin/pip" install -q --disable-pip-version-check --no-cache-dir "${PIP_SOURCE[@]}" "$SOURCE${EXTRAS:+[$EXTRAS]}"
# The sandboxed worker runs as an unprivileged uid and must read the venv.
chmod -R a+rX "$VENV"
"$VENV/bin/python" -c "import torch, numpy, grader; print('setup.sh: torch', torch.__version__)"
