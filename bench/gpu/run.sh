#!/usr/bin/env bash
# The one device run (docs/deployment.md, "GPU runners"): on a machine with the NVIDIA
# driver, Python 3.12 and a CUDA torch (a lent device has torch 2.11), from the repository root:
#
#     bench/gpu/run.sh            # carried: the repository and .whl/ (make gpu-wheels)
#
# 1. A virtual environment over the machine's own Python and packages
#    (--system-site-packages: its torch, numpy, pytest stay), holding only the wheels of
#    .whl/ whose project that Python lacks (the grader's nbformat, libcst, ipython...).
#    No network is needed; without .whl/ the Python is used as it is.
# 2. bubblewrap from .whl/bubblewrap_*.deb when the machine has none (extracted, not installed).
# 3. bench/gpu/check.py: CUDA checked, every GPU-marked test with the reference, the
#    GPU-specific corpus bugs, a class on CUDA and on the CPU; writes bench/results/gpu-<date>.md.
#    Without CUDA it says so, skips what needs it, and still writes the file.
#
# Settings: PYTHON (default python3), GPU_TARGET (the environment's folder, default
# /tmp/ml-autograder-gpu), GPU_RESULTS (default bench/results), GPU_WHEELS (default .whl).
# Exit status: check.py's.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
TARGET=${GPU_TARGET:-/tmp/ml-autograder-gpu}
RESULTS=${GPU_RESULTS:-bench/results}
WHEELS=${GPU_WHEELS:-.whl}

say() { echo "run.sh: $*" >&2; }

if compgen -G "$WHEELS/*.whl" >/dev/null; then
    "$PYTHON" -m venv --without-pip --system-site-packages "$TARGET/venv"
    site=$("$TARGET/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    # Only what this Python lacks: its own numpy, torch, pytest... stay as they are.
    missing=$("$TARGET/venv/bin/python" - "$WHEELS" <<'EOF'
import sys
from importlib import metadata
from pathlib import Path
for wheel in sorted(Path(sys.argv[1]).glob("*.whl")):
    project = wheel.name.split("-")[0]
    try:
        metadata.version(project)
    except metadata.PackageNotFoundError:
        print(wheel)
EOF
)
    if [ -n "$missing" ]; then
        say "installing $(echo "$missing" | wc -l) wheel(s) into $TARGET/venv"
        if "$PYTHON" -m pip --version >/dev/null 2>&1; then
            # shellcheck disable=SC2086
            "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-index --no-deps \
                --target "$site" $missing
        else   # no pip here: a wheel is a zip of what goes into site-packages
            for wheel in $missing; do "$PYTHON" -m zipfile -e "$wheel" "$site"; done
        fi
    fi
    PYTHON="$TARGET/venv/bin/python"
    chmod -R a+rX "$TARGET"   # the sandboxed worker runs as another uid
else
    say "no wheels in $WHEELS (make gpu-wheels): using $PYTHON as it is"
fi

if ! command -v bwrap >/dev/null && compgen -G "$WHEELS/bubblewrap_*.deb" >/dev/null \
        && command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$(compgen -G "$WHEELS/bubblewrap_*.deb" | head -1)" "$TARGET/bwrap"
    export PATH="$TARGET/bwrap/usr/bin:$PATH"
    say "bubblewrap from $WHEELS: $(bwrap --version 2>&1 || true)"
fi

nvidia-smi -L 2>/dev/null || say "nvidia-smi: absent or it found no GPU"
exec "$PYTHON" bench/gpu/check.py --results "$RESULTS" --scratch "$TARGET/scratch"
