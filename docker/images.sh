#!/usr/bin/env bash
# Build the base (when missing or stale), the worker and the grader images in
# the engine DOCKER_HOST names, from local wheels when docker/wheels holds them.
#   docker/images.sh            # ml-autograder-base:bookworm, ml-autograder-worker, ml-autograder
# Layers are cached by the engine: a rebuild with unchanged inputs takes seconds.
# `--network host`: setup.sh installs bubblewrap with apt-get during the build
# (the engine of docker/dockerd.sh has no bridge network); pip reads only the wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_IMAGE="${BASE_IMAGE:-ml-autograder-base:bookworm}"
WORKER_IMAGE="${WORKER_IMAGE:-ml-autograder-worker:latest}"
GRADER_IMAGE="${GRADER_IMAGE:-ml-autograder:latest}"
# The Dockerfile bind-mounts the wheels (BuildKit). A docker CLI from 23.0 on needs
# the buildx plugin for that; Debian's docker.io CLI (20.10) has BuildKit built in.
DOCKER=docker
if ! docker buildx version >/dev/null 2>&1 && [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; fi
export DOCKER_BUILDKIT=1

timed() { local started=$SECONDS; "$@"; echo "images.sh: $* took $((SECONDS - started)) s" >&2; }
timed docker/build-base.sh "$BASE_IMAGE"
build() { "$DOCKER" build -q --network host --build-arg BASE="$BASE_IMAGE" "$@" . >/dev/null; }
timed build --target worker -t "$WORKER_IMAGE"
timed build -t "$GRADER_IMAGE"
