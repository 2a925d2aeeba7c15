#!/usr/bin/env bash
# A private Docker Engine for tests and image builds, stopped by its pid.
#
#   docker/dockerd.sh start STATE   # prints the engine's address: unix://STATE/docker.sock
#   docker/dockerd.sh stop STATE
#
# Everything lives under STATE: --data-root (images, containers), --exec-root,
# the pidfile, the socket and the log, so it never touches a system engine's
# /var/lib/docker or /run/docker.sock. No bridge, no iptables rules, no NAT:
# containers get --network none or --network host only. Installs docker.io
# with apt-get when dockerd is missing and we are root.
set -euo pipefail
action="${1:?usage: dockerd.sh start|stop STATE}"
STATE="$(mkdir -p "${2:?usage: dockerd.sh start|stop STATE}" && cd "$2" && pwd)"
PIDFILE="$STATE/dockerd.pid"
SOCKET="$STATE/docker.sock"

running() { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
# dockerd leaves mounts under STATE when it stops (exec/netns/default: the host's network
# namespace, bound for --network host); unmount them, deepest first.
unmount_leftovers() {
  awk -v top="$STATE/" 'index($5, top) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r mount; do umount "$mount" 2>/dev/null || umount -l "$mount" || true; done
}

# docker.io's packages, installed without starting or enabling the system's own engine
# (on a systemd host their installation would start docker.service and containerd.service):
# a policy-rc.d refuses every service start during the install (deb-systemd-invoke and
# invoke-rc.d honour it), and the units it enabled are disabled again. Only dockerd's
# binaries are used, by the private engine below.
install_binaries_only() {
  echo "dockerd.sh: installing docker.io (binaries only; the system's Docker service is not started)" >&2
  export DEBIAN_FRONTEND=noninteractive
  local policy=/usr/sbin/policy-rc.d ours=
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && ours=1; fi
  apt-get install -y -qq docker.io >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq docker.io >/dev/null; } || { [ -z "$ours" ] || rm -f "$policy"; exit 1; }
  [ -z "$ours" ] || rm -f "$policy"
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl disable --now docker.service docker.socket containerd.service >/dev/null 2>&1 || true
  fi
}

case "$action" in
start)
  if running && [ -S "$SOCKET" ]; then echo "unix://$SOCKET"; exit 0; fi
  if ! command -v dockerd >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      install_binaries_only
    else
      echo "dockerd.sh: dockerd is missing (apt-get install docker.io, as root)" >&2; exit 2
    fi
  fi
  [ "$(id -u)" = 0 ] || { echo "dockerd.sh: dockerd needs root" >&2; exit 2; }
  rm -f "$SOCKET" "$PIDFILE"
  mkdir -p "$STATE/data" "$STATE/exec"
  # setsid: the engine outlives this script; `stop` ends it by its pid.
  setsid dockerd --data-root "$STATE/data" --exec-root "$STATE/exec" --pidfile "$PIDFILE" \
    -H "unix://$SOCKET" --bridge none --iptables=false --ip-masq=false --ip-forward=false \
    --userland-proxy=false --log-level warn \
    </dev/null >>"$STATE/dockerd.log" 2>&1 &
  for _ in $(seq 300); do  # up to 30 s
    if [ -S "$SOCKET" ] && DOCKER_HOST="unix://$SOCKET" docker version >/dev/null 2>&1; then
      echo "unix://$SOCKET"; exit 0
    fi
    kill -0 $! 2>/dev/null || break
    sleep 0.1
  done
  echo "dockerd.sh: dockerd did not answer on $SOCKET; its log:" >&2
  tail -20 "$STATE/dockerd.log" >&2
  exit 1
  ;;
stop)
  if running; then
    pid="$(cat "$PIDFILE")"
    # Workers carry this label; none should be left, but never leave them running.
    ids="$(DOCKER_HOST="unix://$SOCKET" docker ps -aq --filter label=ml-autograder.worker 2>/dev/null || true)"
    [ -z "$ids" ] || DOCKER_HOST="unix://$SOCKET" docker rm -f $ids >/dev/null 2>&1 || true
    kill -TERM "$pid"
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "dockerd.sh: dockerd $pid did not stop in 30 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  unmount_leftovers
  ;;
*) echo "usage: dockerd.sh start|stop STATE" >&2; exit 2 ;;
esac
