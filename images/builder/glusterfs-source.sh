#!/usr/bin/env bash
# Fetches the upstream GlusterFS source of a Debian release's package (its .orig.tar.gz) through
# this host's own apt configuration, checks it against the source package's checksum, and unpacks
# it into DEST (which must not exist yet):
#
#   images/builder/glusterfs-source.sh [--release bookworm|trixie] DEST
#
# A deb-src entry is derived from each deb entry of the host's apt sources (deb822 *.sources files
# and one-line *.list files), with the host's release names replaced by the requested one, in a
# private apt directory: the host's apt configuration is read, never changed, and no mirror name is
# written anywhere. Only the upstream tarball is fetched (the Debian packaging tarball is not
# needed, and may not be downloadable).
set -euo pipefail

release=bookworm
if [ "${1:-}" = "--release" ]; then release=$2; shift 2; fi
dest=${1:?usage: glusterfs-source.sh [--release bookworm|trixie] DEST}
case "$release" in bookworm|trixie) ;; *) echo "error: unknown release $release (bookworm or trixie)" >&2; exit 2 ;; esac
if [ -e "$dest" ]; then echo "error: $dest exists; give a new directory" >&2; exit 2; fi
. /etc/os-release
host=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}

work=$(mktemp -d /tmp/gflab-glusterfs-source.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/parts" "$work/lists/partial" "$work/cache/archives/partial"
: >"$work/sources.list"
# deb822 files: every stanza of Types deb becomes deb-src.
for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    sed -e 's/^Types:.*\bdeb\b.*$/Types: deb-src/' -e "/^Suites:/s/\b$host\b/$release/g" \
        "$f" >"$work/parts/$(basename "$f")"
done
# One-line files.
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    sed -n "s/^deb \(.*\)$/deb-src \1/p" "$f" | sed "s/ $host\([ -]\)/ $release\1/" >>"$work/sources.list"
done
apt=(apt-get -q -o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/parts"
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Sandbox::User=root")
echo "glusterfs-source: reading the $release source index through the host's apt sources"
"${apt[@]}" update >"$work/update.log" 2>&1 || { tail -n 20 "$work/update.log" >&2; exit 1; }
line=$("${apt[@]}" source --print-uris glusterfs 2>"$work/uris.err" | grep "\.orig\.tar\." | head -n 1) ||
    { cat "$work/uris.err" >&2; echo "error: no upstream tarball of glusterfs in $release's sources" >&2; exit 1; }
# 'URI' FILE SIZE SHA256:HEX
uri=$(echo "$line" | awk '{print $1}' | tr -d "'")
file=$(echo "$line" | awk '{print $2}')
sum=$(echo "$line" | awk '{print $4}' | sed 's/^SHA256://')
echo "glusterfs-source: fetching $file"
curl -fsS --retry 3 -o "$work/$file" "$uri"
echo "$sum  $work/$file" | sha256sum -c --quiet - || { echo "error: $file does not match its checksum" >&2; exit 1; }
mkdir -p "$dest"
tar -xf "$work/$file" -C "$dest" --strip-components=1
version=$(cat "$dest/VERSION" 2>/dev/null || echo "?")
echo "glusterfs-source: glusterfs $version in $dest"
