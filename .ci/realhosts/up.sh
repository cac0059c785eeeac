#!/usr/bin/env bash
# Creates the namespace test hosts (see common.sh) and writes their node list.
# On success prints the node list path on stdout; $GFRH_WORK/env holds the ssh options to use.
# On failure removes whatever it created (down.sh).
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$here/common.sh"

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces and mounts)"
for tool in mmdebstrap ip unshare chroot ssh ssh-keygen sha256sum; do
    command -v "$tool" >/dev/null ||
        die "$tool not found; hint: apt-get install mmdebstrap iproute2 util-linux openssh-client"
done
[ -c /dev/fuse ] || die "/dev/fuse is missing; hint: modprobe fuse"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
    die "overlayfs is not available; hint: modprobe overlay"

if ip netns list | grep -q "^$GFRH_NS_PREFIX" || ip link show "$GFRH_UPLINK" >/dev/null 2>&1 ||
    [ -e "$GFRH_WORK" ]; then
    die "test hosts from an earlier run exist ($GFRH_WORK, netns $GFRH_NS_PREFIX*, link $GFRH_UPLINK); hint: run $here/down.sh"
fi
clash=$(ip -4 route show match "$GFRH_NET.0/24" | grep -v '^default' || true)
if [ -n "$clash" ]; then
    die "$GFRH_NET.0/24 is already routed on this machine ($clash); hint: set GFRH_NET to a free prefix such as 10.251.0"
fi

# 1. The root filesystem: bootstrapped once per release and package list, then reused.
rootfs=$(rootfs_dir)
if [ ! -e "$rootfs/.complete" ]; then
    mkdir -p "$GFRH_CACHE"
    tmp="$rootfs.partial.$$"
    # Bootstraps interrupted earlier leave partial trees behind.
    rm -rf --one-file-system "$rootfs".partial.*
    log "bootstrapping $GFRH_RELEASE rootfs into $rootfs (once per package list)"
    started=$(date +%s)
    if ! mmdebstrap --quiet --variant=minbase --include="$GFRH_PACKAGES" "$GFRH_RELEASE" "$tmp" >&2; then
        rm -rf --one-file-system "$tmp"
        die "failed to bootstrap the $GFRH_RELEASE rootfs with mmdebstrap"
    fi
    # Every host makes its own ssh host keys and glusterd UUID at first boot.
    rm -f "$tmp"/etc/ssh/ssh_host_* "$tmp"/var/lib/glusterd/glusterd.info
    touch "$tmp/.complete"
    mv "$tmp" "$rootfs"
    log "rootfs ready in $(($(date +%s) - started)) s"
else
    log "using cached rootfs $rootfs"
fi

# From here on, anything half made is removed on failure.
cleanup_on_failure() {
    rc=$?
    if [ "$rc" != 0 ]; then
        log "setup failed (exit $rc); removing what was created"
        "$here/down.sh" >&2 || true
    fi
}
trap cleanup_on_failure EXIT

mkdir -p "$GFRH_WORK/hosts"
chmod 0700 "$GFRH_WORK"
ssh-keygen -q -t ed25519 -N '' -C gflab-realhosts -f "$GFRH_WORK/id_ed25519"
head -c 32 /dev/urandom >"$GFRH_WORK/secret"
chmod 0600 "$GFRH_WORK/secret"

# 2. The switch: a namespace with a bridge; gfrh0 on the host side carries the .1 address.
ip netns add "$GFRH_SWITCH"
ip -n "$GFRH_SWITCH" link set lo up
ip -n "$GFRH_SWITCH" link add br0 type bridge
ip -n "$GFRH_SWITCH" link set br0 up
ip link add "$GFRH_UPLINK" type veth peer name uplink netns "$GFRH_SWITCH"
ip -n "$GFRH_SWITCH" link set uplink master br0 up
ip addr add "$GFRH_NET.1/24" dev "$GFRH_UPLINK"
ip link set "$GFRH_UPLINK" up

etc_hosts="127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback"
for h in $GFRH_HOSTS; do
    IFS=: read -r name _ octet _ <<<"$h"
    etc_hosts="$etc_hosts
$GFRH_NET.$octet $name"
done

# 3. The hosts: namespace, veth to the switch, overlay root, a real directory for bricks, boot.
for h in $GFRH_HOSTS; do
    IFS=: read -r name role octet user <<<"$h"
    ns="$GFRH_NS_PREFIX$name"
    dir="$GFRH_WORK/hosts/$name"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$GFRH_SWITCH" link add "p-$name" type veth peer name eth0 netns "$ns"
    ip -n "$GFRH_SWITCH" link set "p-$name" master br0 up
    ip -n "$ns" addr add "$GFRH_NET.$octet/24" dev eth0
    ip -n "$ns" link set eth0 up

    mkdir -p "$dir/upper" "$dir/work" "$dir/root" "$dir/bricks"
    mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$dir/upper,workdir=$dir/work" "$dir/root"
    mkdir -p "$dir/root/bricks"
    mount --bind "$dir/bricks" "$dir/root/bricks"

    root="$dir/root"
    printf '%s\n' "$etc_hosts" >"$root/etc/hosts"
    printf '%s\n' "$name" >"$root/etc/hostname"
    install -d -m 0700 "$root/root/.ssh"
    install -m 0600 "$GFRH_WORK/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
    if [ "$user" != root ]; then
        chroot "$root" useradd --create-home --shell /bin/bash "$user"
        chroot "$root" install -d -m 0700 -o "$user" -g "$user" "/home/$user/.ssh"
        chroot "$root" install -m 0600 -o "$user" -g "$user" /root/.ssh/authorized_keys \
            "/home/$user/.ssh/authorized_keys"
        printf '%s ALL=(ALL) NOPASSWD: ALL\n' "$user" >"$root/etc/sudoers.d/$user"
        chmod 0440 "$root/etc/sudoers.d/$user"
    fi
    # Servers get glusterd as an init script, started at boot (no systemd, not the agent).
    start_glusterd=
    if [ "$role" = server ]; then
        install -m 0755 "$here/glusterd.init" "$root/etc/init.d/glusterd"
        start_glusterd="/etc/init.d/glusterd start"
    fi
    # /init: what a real host's init does before the network services (on servers, the glusterd
    # init script), then sshd; the agent arrives over ssh with `gflab hosts install`. tini is PID 1
    # and reaps.
    cat >"$root/init" <<EOF
#!/bin/sh
set -e
hostname $name
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=0755,nosuid dev /dev
mknod -m 0666 /dev/null c 1 3
mknod -m 0666 /dev/zero c 1 5
mknod -m 0666 /dev/full c 1 7
mknod -m 0666 /dev/random c 1 8
mknod -m 0666 /dev/urandom c 1 9
mknod -m 0666 /dev/tty c 5 0
mknod -m 0666 /dev/fuse c 10 229
mkdir /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777 shm /dev/shm
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o mode=0755 run /run
mkdir -p /run/sshd /run/lock
mount -t tmpfs -o mode=1777 tmp /tmp
ssh-keygen -A
$start_glusterd
echo "$name ($role) booted"
exec /usr/bin/tini -- /usr/sbin/sshd -D -e
EOF
    chmod 0755 "$root/init"
    setsid ip netns exec "$ns" unshare --mount --pid --uts --fork --propagation private \
        chroot "$root" /init >"$dir/console.log" 2>&1 </dev/null &
done

# 4. Wait for every sshd, then write the node list and the ssh options.
ssh_opts="IdentityFile=$GFRH_WORK/id_ed25519 StrictHostKeyChecking=no UserKnownHostsFile=/dev/null LogLevel=ERROR IdentitiesOnly=yes"
ssh_args=()
for o in $ssh_opts; do ssh_args+=(-o "$o"); done
for h in $GFRH_HOSTS; do
    IFS=: read -r name _ octet _ <<<"$h"
    for _ in $(seq 1 60); do
        if ssh "${ssh_args[@]}" -o BatchMode=yes -o ConnectTimeout=2 "root@$GFRH_NET.$octet" true \
            2>/dev/null; then
            continue 2
        fi
        sleep 0.5
    done
    die "host $name ($GFRH_NET.$octet) did not accept ssh within 30 s; console: $(tail -5 "$GFRH_WORK/hosts/$name/console.log")"
done

nodes="$GFRH_WORK/nodes.toml"
{
    printf '# Namespace test hosts made by .ci/realhosts/up.sh.\nlab = "realhosts"\nsecret_file = "secret"\n'
    for h in $GFRH_HOSTS; do
        IFS=: read -r name role octet user <<<"$h"
        printf '\n[[node]]\nname = "%s"\nrole = "%s"\nhost = "%s"\nagent = "%s:%s"\nssh = "%s@%s"\n' \
            "$name" "$role" "$name" "$GFRH_NET.$octet" "$GFRH_AGENT_PORT" "$user" "$GFRH_NET.$octet"
        [ "$role" = server ] && printf 'brick_root = "/bricks"\n'
    done
} >"$nodes"
printf 'export GFLAB_SSH_OPTIONS=%q\n' "$ssh_opts" >"$GFRH_WORK/env"
log "$(echo "$GFRH_HOSTS" | wc -w) hosts up on $GFRH_NET.0/24; node list $nodes"
trap - EXIT
printf '%s\n' "$nodes"
