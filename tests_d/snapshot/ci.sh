#!/bin/bash
# The snapshot suite end to end, as CI runs it: the snapshot lab (kernel-VM servers with thin-LVM
# bricks where the host kernel has no dm-thin), every scenario, then `down` and a check that
# nothing is left (containers, networks, volumes, QEMU processes, loop and dm devices).
#
# Needs: docker (engine running), mmdebstrap, the Rust toolchain. Takes ≈ 7 min on 2 cores under
# software emulation once images exist (first run: + the base images and ≈ 1-3 min for the VM image).
# Env: CARGO_TARGET_DIR (default target), GFLAB_LAB (default snapshot-ci), RESULTS (default
# results/snapshot).
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-target}
lab=${GFLAB_LAB:-snapshot-ci}
results=${RESULTS:-results/snapshot}

RUSTFLAGS="-C target-feature=+crt-static" cargo build --release -p gflab-agent \
    --target x86_64-unknown-linux-gnu
cargo build -p gflab
gflab="$target/debug/gflab"
export GFLAB_AGENT_BIN="$target/x86_64-unknown-linux-gnu/release/gflab-agent"

traces() {
    # QEMU processes, attached loop devices, device-mapper devices on the host.
    { pgrep -f '^qemu-system' || true; } | sort
    for l in /sys/block/loop*; do [ -e "$l/loop/backing_file" ] && echo "${l##*/}"; done
    ls /dev/mapper 2>/dev/null | grep -vx control || true
}
before=$(traces)

"$gflab" doctor || true
down() { "$gflab" down "$lab" || true; }
trap down EXIT
start=$(date +%s)
"$gflab" up topologies/snapshot.toml --name "$lab"
up_done=$(date +%s)
status=0
"$gflab" test --lab "$lab" -d snapshot --results "$results" --junit "$results/junit.xml" || status=$?
test_done=$(date +%s)
# A kernel-VM server rebooted keeps its volumes and their data (glusterd's state on the VM's disk).
"$gflab" test --lab "$lab" -t 330 --results "$results/reboot" --junit "$results/reboot-junit.xml" ||
    status=$?
reboot_done=$(date +%s)
trap - EXIT
"$gflab" down "$lab"
echo "snapshot suite: up $((up_done - start)) s, tests $((test_done - up_done)) s, VM reboot scenario $((reboot_done - test_done)) s"

# `gflab ls` lists every lab that still owns a labeled container, network or volume.
if "$gflab" ls | grep -qw -- "$lab"; then
    echo "error: objects of lab $lab left after down:" >&2
    "$gflab" ls >&2
    status=1
fi
after=$(traces)
if [ "$before" != "$after" ]; then
    echo "error: host traces differ after down:" >&2
    diff <(echo "$before") <(echo "$after") >&2 || true
    status=1
fi
exit "$status"
