#!/usr/bin/env bash
# A lab on a GlusterFS built from source, as CI checks it: Debian's 10.3 upstream source (fetched
# through the host's apt sources) with a one-line patch that changes the message every GlusterFS
# daemon logs when it starts, built with `gflab build`, a lab of topologies/own-build.toml on it,
# the patched message in every server's glusterd log and the build in `gflab status`, the example
# suite (JUnit read back), `gflab down`, no labeled object left.
#
# With --loop it goes on with the edit-rebuild-test loop and its failure paths, timed:
#   - one translator's .c file edited: `gflab reload` (rebuild + reload), then test 105 again;
#   - a .c file that does not compile: `gflab build` stops with the compiler's error (file:line)
#     and leaves no image of that tree;
#   - a build whose glusterd does not start: `gflab reload` rolls the servers back and says so,
#     and glusterd answers again on the previous build.
#
# Env: CARGO_TARGET_DIR (default target), GLUSTERFS_SRC (default build/glusterfs-src, fetched when
# missing; topologies/own-build.toml names that path).
set -euo pipefail
cd "$(dirname "$0")/.."
loop=false
[ "${1:-}" = "--loop" ] && loop=true
target=${CARGO_TARGET_DIR:-target}
gflab="$target/debug/gflab"
src=build/glusterfs-src
lab=own-build
results=results/ownbuild
rm -rf "$results"
mkdir -p "$results" build
log() { echo "ownbuild: $*"; }
fail() {
    echo "ownbuild: FAILED: $*" >&2
    exit 1
}
secs() { echo $(($(date +%s) - $1)); }
# The tags of images made from source trees, asked of the engine's API directly.
build_images() {
    python3 -c 'import sys, json, urllib.parse; sys.path.insert(0, ".ci"); import leftovers
f = urllib.parse.quote(json.dumps({"label": ["io.gflab.image=build"]}))
print(" ".join(sorted(t for i in leftovers.get("/images/json?filters=" + f) for t in i.get("RepoTags") or [])))'
}
start=$(date +%s)

if [ ! -e "$src" ]; then
    images/builder/glusterfs-source.sh "$src"
fi
log "the one-line patch: the start message of every daemon says gflab-patched"
msg=glusterfsd/src/glusterfsd-messages.h
if ! grep -q 'gflab-patched' "$src/$msg"; then
    sed -i 's/"Started running version"/"Started running gflab-patched version"/' "$src/$msg"
fi
[ "$(grep -c 'Started running gflab-patched version' "$src/$msg")" = 1 ] || fail "the patch did not apply to $msg"

t=$(date +%s)
"$gflab" build --glusterfs-src "$src" | tee "$results/build.txt"
log "build and images of the patched tree: $(secs "$t") s (nothing to do when images of the same content exist)"
t=$(date +%s)
"$gflab" build --glusterfs-src "$src" 2>&1 | tee "$results/build-again.txt"
grep -q "is up to date" "$results/build-again.txt" || fail "a second build of the same tree built again"
log "second build of the unchanged tree: $(secs "$t") s (nothing built)"

python3 .ci/leftovers.py "$lab"
down() { "$gflab" down "$lab" >/dev/null 2>&1 || true; }
trap down EXIT
"$gflab" up topologies/own-build.toml
"$gflab" status "$lab" | tee "$results/status.txt"
hash=$(awk '/^server1 / {print $NF}' "$results/status.txt")
[ -n "$hash" ] && grep -q "source $hash" "$results/status.txt" || fail "gflab status does not show the build"
for s in server1 server2; do
    "$gflab" exec --lab "$lab" "$s" -- grep -c 'Started running gflab-patched version' \
        /var/log/glusterfs/glusterd.log >/dev/null || fail "$s's glusterd did not log the patched message"
done
log "every server runs the patched build (source $hash)"

set +e
"$gflab" test --lab "$lab" -d example --results "$results/example" --junit "$results/junit.xml" 2>&1 |
    tee "$results/example.txt"
rc=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$results/example.txt" | tail -n 1)
python3 tests_d/tools/junit_summary.py "$results/junit.xml" "$summary"
[ "$rc" = 0 ] || fail "the example suite on the patched build: $summary"
log "example suite on the patched build: $summary"

if $loop; then
    c=xlators/debug/trace/src/trace.c
    cp "$src/$c" "$results/trace.c.orig"
    restore() { cp "$results/trace.c.orig" "$src/$c"; down; }
    trap restore EXIT
    log "the loop: $c edited, gflab reload, test 105 again"
    echo "/* gflab loop $(date +%s) */" >>"$src/$c"
    t=$(date +%s)
    "$gflab" reload "$lab" 2>&1 | grep -v '^ *C[CL]' | tee "$results/reload.txt"
    log "rebuild + reload after one .c file: $(secs "$t") s"
    t=$(date +%s)
    "$gflab" test --lab "$lab" -t 105 --results "$results/rerun" | tail -n 1
    log "test 105 again: $(secs "$t") s"

    log "a .c file that does not compile"
    before=$(build_images)
    echo "int gflab_broken = ;" >>"$src/$c"
    set +e
    "$gflab" build --glusterfs-src "$src" >"$results/broken.txt" 2>&1
    rc=$?
    set -e
    [ "$rc" != 0 ] || fail "a build that does not compile succeeded"
    grep -E "trace\.c:[0-9]+:[0-9]+: error:" "$results/broken.txt" || fail "no compiler error with file:line: $(tail -n 5 "$results/broken.txt")"
    [ "$(build_images)" = "$before" ] || fail "the broken build left an image: $(build_images)"
    log "the broken build stopped with the compiler's error and left no image"
    cp "$results/trace.c.orig" "$src/$c"

    log "a build whose glusterd does not start: reload rolls the servers back"
    main=glusterfsd/src/glusterfsd.c
    cp "$src/$main" "$results/glusterfsd.c.orig"
    restore() { cp "$results/trace.c.orig" "$src/$c"; cp "$results/glusterfsd.c.orig" "$src/$main"; down; }
    sed -i '/^    gf_check_and_set_mem_acct(argc, argv);$/a\    if (strstr(argv[0], "glusterd")) return 1;' "$src/$main"
    [ "$(grep -c 'strstr(argv\[0\], "glusterd")) return 1;' "$src/$main")" = 1 ] || fail "the no-start patch did not apply"
    set +e
    "$gflab" reload "$lab" 2>&1 | grep -v '^ *C[CL]' >"$results/reload-broken.txt"
    rc=${PIPESTATUS[0]}
    set -e
    cat "$results/reload-broken.txt"
    [ "$rc" = 1 ] || fail "gflab reload of a build that does not start exited $rc"
    [ "$(grep -c 'ROLLED BACK' "$results/reload-broken.txt")" = 2 ] || fail "not both servers were rolled back"
    "$gflab" exec --lab "$lab" server1 -- gluster --mode=script peer status >/dev/null ||
        fail "glusterd does not answer after the rollback"
    "$gflab" status "$lab" | tee "$results/status-after-rollback.txt"
    cp "$results/glusterfsd.c.orig" "$src/$main"
fi

trap - EXIT
"$gflab" down "$lab"
python3 .ci/leftovers.py "$lab"
log "passed in $(secs "$start") s"
