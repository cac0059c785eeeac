#!/usr/bin/env bash
# The main job on rootful Podman, beside Docker Engine: installs Podman from the distribution's
# packages when missing, starts its API service when nothing answers on its socket, and runs
# .ci/suite.sh against it (`gflab images`, `gflab up topologies/2x2.toml`, the example suite with
# JUnit, `gflab down`, no labeled object left, counted through Podman's own API). A service
# started here is stopped at the end; Docker is not touched.
#
# Env: GFLAB_LAB (default podman-2x2), RESULTS (default results/podman), PODMAN_SOCKET (default
# /run/podman/podman.sock).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
socket=${PODMAN_SOCKET:-/run/podman/podman.sock}
sudo=$([ "$(id -u)" = 0 ] || echo sudo)
started=$(date +%s)

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
missing=$(for p in podman catatonit; do installed "$p" || echo "$p"; done)
if [ -n "$missing" ]; then
    echo "podman: installing" $missing
    $sudo apt-get install -y -qq $missing >/dev/null
fi

answers() { curl -sf --unix-socket "$socket" http://d/_ping >/dev/null 2>&1; }
service=
if ! answers; then
    $sudo mkdir -p "$(dirname "$socket")"
    $sudo podman system service --time=0 "unix://$socket" >/dev/null 2>&1 &
    service=$!
    for _ in $(seq 50); do answers && break; sleep 0.2; done
    answers || { echo "error: Podman's API service did not answer on $socket" >&2; exit 1; }
fi
stop() { [ -z "$service" ] || $sudo kill "$service" 2>/dev/null || true; }
trap stop EXIT

export DOCKER_HOST="unix://$socket"
"$target/debug/gflab" doctor
GFLAB_LAB=${GFLAB_LAB:-podman-2x2} RESULTS=${RESULTS:-results/podman} .ci/suite.sh
echo "ci: podman took $(( $(date +%s) - started )) s"
