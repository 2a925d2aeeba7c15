#!/usr/bin/env bash
# `make test-docker`: the container path for real, on Docker Engine.
#  1. a private dockerd (docker/dockerd.sh) whose state persists in DOCKER_STATE
#     (default /var/tmp/ml-autograder-docker), so images are cached between runs;
#  2. the base, worker and grader images (docker/images.sh; cached layers are reused);
#  3. the docker-backend suite on Docker Engine with the built worker image, the
#     images, the grader image grading a class, Gradescope's flow, the red-team
#     attacks in --sandbox docker and the student-laptop checks;
#  4. fails if any container is left, and stops the engine if this script started it.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE="${DOCKER_STATE:-/var/tmp/ml-autograder-docker}"
PY=.venv/bin/python
started_here=
if ! { [ -s "$STATE/dockerd.pid" ] && kill -0 "$(cat "$STATE/dockerd.pid")" 2>/dev/null; }; then started_here=1; fi
stop() { if [ -n "$started_here" ]; then docker/dockerd.sh stop "$STATE"; fi; }
trap stop EXIT
began=$SECONDS
step() { echo; echo "test-docker: [$1/4] $2 ($((SECONDS - began)) s so far)"; }
step 1 "starting a private Docker Engine, state in $STATE (installs docker.io's binaries when missing)"
URL="$(docker/dockerd.sh start "$STATE")"
export DOCKER_HOST="$URL"
echo "test-docker: engine at $URL"

step 2 "building the images: base (debootstrap, about a minute from an empty state), worker, grader"
docker/images.sh
docker image prune -f >/dev/null  # the layers replaced by this build
echo "test-docker: images ready"

SUITES=(tests/test_docker_backend.py tests/test_docker_images.py tests/test_docker_redteam.py
        tests/test_docker_student.py tests/test_parity.py)
step 3 "running the container suites, one line per test: ${SUITES[*]}"
status=0
GRADER_TEST_DOCKER_URL="$URL" GRADER_TEST_WORKER_IMAGE=ml-autograder-worker:latest \
GRADER_TEST_GRADER_IMAGE=ml-autograder:latest GRADER_TEST_BASE_IMAGE=ml-autograder-base:bookworm \
  "$PY" -m pytest -v -p no:cacheprovider --durations=15 -k "not podman" "${SUITES[@]}" </dev/null || status=$?

step 4 "checking that no container is left, then stopping the engine"
# Every container the suites made must be gone (workers, graders, Gradescope runs, laptops).
left="$(docker ps -aq)"
if [ -n "$left" ]; then
  echo "test-docker: containers left behind:" >&2
  docker ps -a --format '  {{.ID}} {{.Image}} {{.Status}} {{.Names}}' >&2
  docker rm -f $left >/dev/null
  [ "$status" != 0 ] || status=1
fi
echo "test-docker: done in $((SECONDS - began)) s (exit $status)"
exit "$status"
