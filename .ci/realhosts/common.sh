# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings are used by the scripts that source this file
# Shared settings for the namespace test hosts (sourced by up.sh, down.sh and run.sh).
#
# The "hosts" are network namespaces on this machine, each with its own address, its own root
# filesystem (an overlay of one cached Debian rootfs) and its own PID, mount and UTS namespaces,
# booted by /init which starts sshd and nothing else. A separate "switch" namespace holds the
# bridge, so the host's firewall (which may drop bridged traffic) is never involved and never
# changed. The host reaches the hosts through the veth gfrh0, which carries the .1 address.

set -euo pipefail

# First three octets of the hosts' /24 (the host side gets .1).
GFRH_NET=${GFRH_NET:-10.250.0}
# Where hosts' roots, keys, the secret and the node list live while the hosts exist.
GFRH_WORK=${GFRH_WORK:-/tmp/gflab-realhosts}
# Debian release of the hosts (bookworm -> GlusterFS 10.3).
GFRH_RELEASE=${GFRH_RELEASE:-bookworm}
# Cache of bootstrapped root filesystems, keyed by release and package list.
GFRH_CACHE=${GFRH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gflab/realhosts}
# Port the agents listen on inside the hosts.
GFRH_AGENT_PORT=${GFRH_AGENT_PORT:-7070}

# Packages of the hosts' root filesystem (the hash of this list and the release keys the cache).
GFRH_PACKAGES="glusterfs-server,glusterfs-client,openssh-server,iproute2,procps,attr,psmisc,tini,iputils-ping,sudo,iptables"

# name:role:last-octet:ssh-user of every host. A user other than root gets password-less sudo, the
# way many real hosts are reached.
GFRH_HOSTS="server1:server:11:root server2:server:12:root server3:server:13:root client1:client:21:root client2:client:22:gflab"

# Names on the host: the switch namespace, the host-side link, the per-host namespace prefix.
GFRH_SWITCH=gfrh-sw
GFRH_UPLINK=gfrh0
GFRH_NS_PREFIX=gfrh-

log() { printf 'realhosts: %s\n' "$*" >&2; }
die() {
    printf 'realhosts: error: %s\n' "$*" >&2
    exit 1
}

# Prints the cached rootfs directory for the current release and package list.
rootfs_dir() {
    local key
    key=$(printf '%s\n%s\n' "$GFRH_RELEASE" "$GFRH_PACKAGES" | sha256sum | cut -c1-16)
    printf '%s/rootfs-%s-%s' "$GFRH_CACHE" "$GFRH_RELEASE" "$key"
}
