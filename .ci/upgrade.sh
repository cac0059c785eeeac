#!/usr/bin/env bash
# A rolling upgrade as an operator does it, checked end to end: the 3x2 lab on bookworm (GlusterFS
# 10.3), a replica 3 volume written by a client the whole time, `gflab upgrade 3x2 --to trixie`;
# then every node runs 11.1, the writer saw no error while it ran (its log is on the node's log
# volume, which the upgrade keeps), every file it wrote reads back with its checksum, nothing is
# pending heal or in split-brain, and `gflab down` leaves nothing.
#
# Env: CARGO_TARGET_DIR (default target), RESULTS (default results/upgrade).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
gflab="$target/debug/gflab"
lab=upgrade-ci
results=${RESULTS:-results/upgrade}
mkdir -p "$results"

"$gflab" images
"$gflab" images --release trixie
python3 .ci/leftovers.py "$lab"
down() { "$gflab" down "$lab" || true; }
trap down EXIT
"$gflab" up topologies/3x2.toml --name "$lab"
x() { "$gflab" exec --lab "$lab" "$@"; }
x server1 -- gluster --mode=script volume create v1 replica 3 \
    server1:/bricks/v1 server2:/bricks/v1 server3:/bricks/v1 force
x server1 -- gluster --mode=script volume start v1
# The writer: one file every 0.2 s, fsync'ed (what GlusterFS promises to keep), its checksum or its
# error logged on the log volume; it stops when its client is unmounted for the client's upgrade.
x client1 -- sh -c 'mkdir -p /mnt/v1 && mount -t glusterfs server1:/v1 /mnt/v1 && setsid sh -c '"'"'
    i=0; log=/var/log/glusterfs/ci-writer.log; : > $log
    while mountpoint -q /mnt/v1; do i=$((i+1))
      if dd if=/dev/urandom of=/mnt/v1/f$i bs=32k count=2 conv=fsync 2>/dev/null; then
        sha256sum /mnt/v1/f$i >> $log; else echo "ERR f$i $(date +%T)" >> $log; fi
      sleep 0.2; done'"'"' > /dev/null 2>&1 < /dev/null &'
sleep 3
start=$(date +%s)
"$gflab" upgrade "$lab" --to trixie 2>&1 | tee "$results/upgrade.txt"
echo "ci: rolling upgrade of 5 nodes took $(( $(date +%s) - start )) s"

for n in server1 server2 server3 client1 client2; do
    v=$(x "$n" -- glusterfs --version | head -n 1)
    echo "$n: $v"
    case "$v" in *" 11."*) ;; *) echo "error: $n runs $v after the upgrade" >&2; exit 1 ;; esac
done
x client1 -- cat /var/log/glusterfs/ci-writer.log > "$results/writer.log"
written=$(grep -c ' /mnt/v1/f' "$results/writer.log" || true)
errors=$(grep -c '^ERR' "$results/writer.log" || true)
echo "writer: $written files written, $errors errors while the servers were upgraded"
[ "$written" -gt 20 ] || { echo "error: the writer wrote only $written files" >&2; exit 1; }
[ "$errors" -eq 0 ] || { echo "error: the writer saw $errors errors:" >&2; grep '^ERR' "$results/writer.log" >&2; exit 1; }
# Every file the writer logged reads back with its checksum through the remounted client.
x client1 -- sh -c 'grep " /mnt/v1/f" /var/log/glusterfs/ci-writer.log | sha256sum -c --quiet -' \
    || { echo "error: files differ after the upgrade" >&2; exit 1; }
x server1 -- sh -c 'gluster volume heal v1 info summary | grep -E "Total Number of entries|split-brain" | sort | uniq -c'
pending=$(x server1 -- sh -c 'gluster volume heal v1 info | grep -c "^/" || true')
[ "$pending" -eq 0 ] || { echo "error: $pending entries pending heal" >&2; exit 1; }
trap - EXIT
"$gflab" down "$lab"
python3 .ci/leftovers.py "$lab"
