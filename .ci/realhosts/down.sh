#!/usr/bin/env bash
# Removes the namespace test hosts and everything they used, then verifies nothing is left:
# no process in their namespaces or roots, no mount under the work dir, no gfrh* link, no gfrh-*
# namespace, no work dir. Safe to run when nothing exists. Exits non-zero if anything is left.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$here/common.sh"
set +e

our_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^$GFRH_NS_PREFIX"; }
our_mounts() { findmnt -rn -o TARGET | grep -F "$GFRH_WORK/" | sort -r; }
# Processes whose root directory lies in the work dir (the hosts' init, sshd, agent, glusterd...).
rooted_pids() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        case "$r" in "$GFRH_WORK"/*) echo "${p#/proc/}" ;; esac
    done
}
ns_pids() {
    local ns
    for ns in $(our_netns); do ip netns pids "$ns" 2>/dev/null; done
}

# 1. Processes: killing each namespace's init ends its whole PID namespace; kill everything in
#    the network namespaces and roots anyway, and wait for them to be gone.
#    The chrooted processes go first so that each `unshare` parent reaps its child and exits.
for _ in $(seq 1 20); do
    pids=$(rooted_pids)
    [ -z "$pids" ] && pids=$(ns_pids | sort -u)
    [ -z "$pids" ] && break
    # shellcheck disable=SC2086 # one argument per PID
    kill -KILL $pids 2>/dev/null
    sleep 0.5
done
# Checked now: once the namespaces are gone, a process left in one could no longer be found by it.
survivors=$( (ns_pids; rooted_pids) | sort -u | tr '\n' ' ')

# 2. Mounts under the work dir (bricks binds, overlay roots), deepest first.
for m in $(our_mounts); do
    umount "$m" 2>/dev/null || umount -l "$m"
done

# 3. Namespaces (deleting the switch namespace deletes the bridge and every veth), the uplink.
for ns in $(our_netns); do ip netns delete "$ns"; done
ip link show "$GFRH_UPLINK" >/dev/null 2>&1 && ip link delete "$GFRH_UPLINK"

# 4. The work dir (keys, secret, node list, upper dirs); the rootfs cache stays.
[ -e "$GFRH_WORK" ] && rm -rf --one-file-system "$GFRH_WORK"

# 5. Verify.
left=""
p=$( (echo "$survivors"; ns_pids; rooted_pids) | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ')
[ -n "$p" ] && left="$left
  processes: $p"
m=$(our_mounts | tr '\n' ' ')
[ -n "$m" ] && left="$left
  mounts: $m"
n=$(our_netns | tr '\n' ' ')
[ -n "$n" ] && left="$left
  network namespaces: $n"
l=$(ip -o link show | awk -F': ' '{print $2}' | grep '^gfrh' | tr '\n' ' ')
[ -n "$l" ] && left="$left
  links: $l"
[ -e "$GFRH_WORK" ] && left="$left
  work dir: $GFRH_WORK"
if [ -n "$left" ]; then
    printf 'realhosts: error: failed to remove the test hosts completely; left behind:%s\n' "$left" >&2
    exit 1
fi
log "test hosts removed; nothing left behind"
