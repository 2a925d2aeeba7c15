#!/usr/bin/env bash
# A local Debian bookworm base image, for machines that reach Debian's package
# mirror but no image registry:
#
#   docker/build-base.sh [NAME]      # default ml-autograder-base:bookworm
#   docker build --build-arg BASE=ml-autograder-base:bookworm ...
#
# debootstrap --variant=minbase plus python3, python3-venv (3.11) and make, then
# `tar | docker import`. It stands in for python:3.11-slim-bookworm, and, in
# the Gradescope test, for Gradescope's Ubuntu base (a Python, no bubblewrap).
# The image is labelled with a hash of this script; a matching image is kept.
# Needs root (debootstrap), and DOCKER_HOST pointing at the engine if not the default.
set -euo pipefail
NAME="${1:-ml-autograder-base:bookworm}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
PACKAGES=python3,python3-venv,ca-certificates,make
KEY="$(sha256sum "$0" | cut -c1-16)"

if [ "$(docker image inspect -f '{{ index .Config.Labels "ml-autograder.base" }}' "$NAME" 2>/dev/null)" = "$KEY" ]; then
  echo "build-base.sh: $NAME is up to date"; exit 0
fi
if ! command -v debootstrap >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "build-base.sh: debootstrap is missing (apt-get install debootstrap)" >&2; exit 2; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
fi
ROOTFS="$(mktemp -d /var/tmp/ml-autograder-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT
started=$SECONDS
debootstrap --variant=minbase --include="$PACKAGES" bookworm "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 \
  || { tail -20 "$ROOTFS.log" >&2; rm -f "$ROOTFS.log"; exit 1; }
rm -f "$ROOTFS.log"
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
tar -C "$ROOTFS" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change "LABEL ml-autograder.base=$KEY" \
  --change 'CMD ["bash"]' - "$NAME" >/dev/null
echo "build-base.sh: built $NAME in $((SECONDS - started)) s"
