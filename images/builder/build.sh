#!/bin/bash
# Runs in the builder container (`gflab build`). /w is the build volume: /w/src holds the source
# tree as gflab copied it in (modification times kept, so make recompiles only what changed) and
# its objects; /w/ccache is the compiler cache. Installs into /w/out/root with the packaged
# build's paths and packs it as /w/out/install.tar.gz (fast gzip: it is copied to every node on a
# reload); /w/out/version is the version string.
set -euo pipefail
cd /w/src
export CCACHE_DIR=/w/ccache CCACHE_MAXSIZE=2G PATH=/usr/lib/ccache:$PATH
jobs=${JOBS:-$(nproc)}
step() { echo "gflab-build: $*"; }

# Debian's layout (glusterfs-server 10.3 and 11.1): binaries in /usr/sbin, libraries, xlators and
# helpers under /usr/lib/x86_64-linux-gnu, mount helper in /sbin, state in /var/lib/glusterd.
flags=(
    --prefix=/usr --sysconfdir=/etc --localstatedir=/var
    --libdir=/usr/lib/x86_64-linux-gnu --libexecdir=/usr/lib/x86_64-linux-gnu
    --with-mountutildir=/sbin
    # Not in the builder (liburing, gperftools) or not used in labs (events, geo-replication).
    --disable-linux-io_uring --without-tcmalloc --disable-events --disable-georeplication
    --disable-fusermount
    # Faster links for the edit-rebuild loop.
    --disable-lto
)
# Release tarballs ship config.guess and config.sub stubs that refuse to run: use automake's.
for f in config.guess config.sub; do
    if grep -q "It is not expected to execute this script" "$f" 2>/dev/null; then
        cp /usr/share/automake-*/"$f" "$f"
    fi
done
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
    step "autogen.sh (no configure script, or configure.ac changed)"
    ./autogen.sh >/w/autogen.log 2>&1 || { tail -n 40 /w/autogen.log; exit 1; }
fi
if [ ! -f config.status ] || [ configure -nt config.status ] ||
    [ "$(cat /w/configure.flags 2>/dev/null)" != "${flags[*]}" ]; then
    step "configure"
    ./configure "${flags[@]}" >/w/configure.log 2>&1 || { tail -n 40 /w/configure.log; exit 1; }
    echo "${flags[*]}" >/w/configure.flags
fi
# One pass over the tree: make install builds what changed first. Shown: what is compiled and
# linked, every warning and error, and the directories make enters (gflab names an error's file by
# its path in the tree); the whole output is in /w/make.log.
step "make -j$jobs install"
rm -rf /w/out
mkdir -p /w/out/root
set +e
make -j"$jobs" install DESTDIR=/w/out/root V=0 2>&1 | tee /w/make.log |
    grep --line-buffered -E "^ +(CC|CCLD) |error:|warning:|\*\*\*|undefined reference|Entering directory '/w/src/" |
    grep --line-buffered -v '^libtool: '
made=${PIPESTATUS[0]}
set -e
[ "$made" = 0 ] || exit 1
sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' config.h >/w/out/version
tar -C /w/out/root -cf - . | gzip -1 >/w/out/install.tar.gz
step "built glusterfs $(cat /w/out/version) ($(du -sh /w/out/root | cut -f1) installed)"
