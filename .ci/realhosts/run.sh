#!/usr/bin/env bash
# The real-host end-to-end check: namespace hosts running only sshd (up.sh), the agent put on them
# with `gflab hosts install` over ssh, `gflab hosts check`, then the example suite through
# `gflab test --nodes`; no container involved. Everything is removed on exit, also on failure,
# and the check fails if anything is left behind (down.sh).
#
# Env: GFLAB (gflab binary; default: built here), GFLAB_AGENT_BIN (static agent; default: built
# here), GFRH_RESULTS (where results go; default results/realhosts), GFRH_SUITE (default example),
# GFRH_KEEP=1 (leave the hosts up for a look; remove them later with down.sh), and common.sh's.
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=common.sh
. "$here/common.sh"

results=${GFRH_RESULTS:-$repo/results/realhosts}
suite=${GFRH_SUITE:-example}

t0=$(date +%s)
step() { printf '\n=== [%3d s] %s\n' "$(($(date +%s) - t0))" "$*" >&2; }
fail() {
    printf 'realhosts: FAILED: %s\n' "$*" >&2
    exit 1
}

if [ -z "${GFLAB:-}" ] || [ -z "${GFLAB_AGENT_BIN:-}" ]; then
    step "build gflab and the static agent"
    target=${CARGO_TARGET_DIR:-$repo/target}
    (cd "$repo" && cargo build -p gflab >&2)
    (cd "$repo" && RUSTFLAGS="-C target-feature=+crt-static" cargo build --release -p gflab-agent \
        --target x86_64-unknown-linux-gnu >&2)
    GFLAB=${GFLAB:-$target/debug/gflab}
    GFLAB_AGENT_BIN=${GFLAB_AGENT_BIN:-$target/x86_64-unknown-linux-gnu/release/gflab-agent}
fi
export GFLAB_AGENT_BIN
[ -x "$GFLAB" ] || fail "gflab binary $GFLAB not found"

finish() {
    rc=$?
    if [ "${GFRH_KEEP:-0}" = 1 ]; then
        log "GFRH_KEEP=1: hosts left up; node list $GFRH_WORK/nodes.toml; remove with $here/down.sh"
        exit "$rc"
    fi
    step "tear down"
    if ! "$here/down.sh"; then
        rc=1
    fi
    if [ "$rc" = 0 ]; then
        printf '\nrealhosts: PASSED (results in %s)\n' "$results" >&2
    else
        printf '\nrealhosts: FAILED (exit %s; results in %s)\n' "$rc" "$results" >&2
    fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

# How many hosts every per-host check expects.
nhosts=$(echo "$GFRH_HOSTS" | wc -w)

step "create the namespace hosts"
started=$(date +%s)
nodes=$("$here/up.sh")
# shellcheck disable=SC1091
. "$GFRH_WORK/env"
log "hosts up in $(($(date +%s) - started)) s"
rm -rf "$results"
mkdir -p "$results"
cp "$nodes" "$results/nodes.toml"

step "gflab hosts install (first time)"
"$GFLAB" hosts install "$nodes" |
    tee "$results/install-1.txt" || fail "gflab hosts install failed"
grep -c 'installed (new).*detached daemon' "$results/install-1.txt" | grep -qx "$nhosts" ||
    fail "expected $nhosts fresh installs as detached daemons"

step "gflab hosts install (again: nothing changes)"
"$GFLAB" hosts install "$nodes" |
    tee "$results/install-2.txt" || fail "second gflab hosts install failed"
grep -c 'already installed, same version' "$results/install-2.txt" | grep -qx "$nhosts" ||
    fail "the second install was not a no-op on every host"

step "gflab hosts install --force (uploads again; nothing changed, so no restart)"
"$GFLAB" hosts install "$nodes" --force |
    tee "$results/install-forced.txt" || fail "forced gflab hosts install failed"
grep -c 'reinstalled (forced); nothing had changed, the agent kept running' \
    "$results/install-forced.txt" | grep -qx "$nhosts" || fail "a forced reinstall restarted an unchanged agent"

step "gflab hosts install after the agent on client1 died: started again, nothing uploaded"
ssh_args=()
for o in $GFLAB_SSH_OPTIONS; do ssh_args+=(-o "$o"); done
ssh "${ssh_args[@]}" -o BatchMode=yes "root@$GFRH_NET.21" 'kill -9 $(cat /run/gflab-agent.pid)' ||
    fail "failed to kill the agent on client1"
"$GFLAB" hosts install "$nodes" |
    tee "$results/install-3.txt" || fail "third gflab hosts install failed"
grep -q '^client1 .*agent was not running: started' "$results/install-3.txt" ||
    fail "the dead agent on client1 was not reported as started"
grep -c 'already installed, same version' "$results/install-3.txt" | grep -qx "$((nhosts - 1))" ||
    fail "the other hosts were not left alone"

step "gflab hosts check"
"$GFLAB" hosts check "$nodes" | tee "$results/check.txt" || fail "gflab hosts check failed"

step "glusterd runs under its init script, not under the agent (no systemd on the hosts)"
for octet in 11 12 13; do
    # shellcheck disable=SC2016 # expanded on the host
    out=$(ssh "${ssh_args[@]}" -o BatchMode=yes "root@$GFRH_NET.$octet" '
        [ ! -d /run/systemd/system ] || { echo "systemd runs"; exit 1; }
        pid=$(cat /var/run/glusterd.pid) && agent=$(cat /run/gflab-agent.pid) &&
        ppid=$(ps -o ppid= -p "$pid" | tr -d " ") &&
        [ "$ppid" != "$agent" ] && /etc/init.d/glusterd status &&
        echo "glusterd pid $pid, parent $ppid ($(cat /proc/$ppid/comm)), agent pid $agent"') ||
        fail "glusterd on $GFRH_NET.$octet is not an init-script daemon: $out"
    log "$GFRH_NET.$octet: $out"
done

step "gflab hosts check names the cause: wrong secret, refused, timed out"
bad="$GFRH_WORK/bad"
mkdir -p "$bad"
head -c 32 /dev/urandom >"$bad/secret"
chmod 0600 "$bad/secret"
cp "$nodes" "$bad/wrong-secret.toml"
sed "s/:$GFRH_AGENT_PORT\"/:$((GFRH_AGENT_PORT + 1))\"/" "$nodes" >"$bad/refused.toml"
cp "$GFRH_WORK/secret" "$bad/refused-secret"
sed -i 's/^secret_file = .*/secret_file = "refused-secret"/' "$bad/refused.toml"
for case in wrong-secret:"wrong secret" refused:refused; do
    file=${case%%:*}
    words=${case#*:}
    if "$GFLAB" hosts check --timeout 2 "$bad/$file.toml" >"$results/check-$file.txt" 2>&1; then
        fail "gflab hosts check passed with $file.toml"
    fi
    n=$(grep -c "^[a-z0-9]* *[a-z]* *$GFRH_NET\.[0-9]*:[0-9]* *$words" "$results/check-$file.txt" || true)
    [ "$n" = "$nhosts" ] || fail "gflab hosts check did not report '$words' for all $nhosts hosts: $(cat "$results/check-$file.txt")"
    log "$file: all $nhosts hosts reported as '$words'"
done
# A stopped agent: the kernel still accepts the connection, nobody answers the handshake.
ssh "${ssh_args[@]}" -o BatchMode=yes "root@$GFRH_NET.22" 'kill -STOP $(cat /run/gflab-agent.pid)' ||
    fail "failed to stop the agent on client2"
if "$GFLAB" hosts check --timeout 2 "$nodes" >"$results/check-stopped.txt" 2>&1; then
    fail "gflab hosts check passed with the agent on client2 stopped"
fi
ssh "${ssh_args[@]}" -o BatchMode=yes "root@$GFRH_NET.22" 'kill -CONT $(cat /run/gflab-agent.pid)' ||
    fail "failed to continue the agent on client2"
grep -q "^client2 .*timed out" "$results/check-stopped.txt" ||
    fail "client2 with a stopped agent was not reported as timed out: $(cat "$results/check-stopped.txt")"
[ "$(grep -c ' ok ' "$results/check-stopped.txt")" = "$((nhosts - 1))" ] ||
    fail "the other hosts should pass: $(cat "$results/check-stopped.txt")"
log "stopped agent: client2 reported as 'timed out', the others ok"
"$GFLAB" hosts check "$nodes" >/dev/null 2>&1 || fail "client2 did not recover after SIGCONT"

step "gflab test --nodes $nodes -d $suite"
set +e
"$GFLAB" test --nodes "$nodes" -d "$suite" --results "$results/run" --junit "$results/junit.xml" 2>&1 |
    tee "$results/test.txt"
test_rc=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$results/test.txt" | tail -1)
[ -n "$summary" ] || fail "no summary line from gflab test"
log "summary: $summary"
[ "$test_rc" = 0 ] || fail "gflab test exited $test_rc ($summary)"
case "$summary" in
"0 passed"*) fail "no test passed ($summary)" ;;
*" 0 failed"*) ;;
*) fail "failures: $summary" ;;
esac
log "real-host suite took $(($(date +%s) - started)) s including setup"

# Runs `gflab test -t "$1"` in the background into $results/$2; sets $runner.
background_run() {
    "$GFLAB" test --nodes "$nodes" -t "$1" --results "$results/$2" >"$results/$2.txt" 2>&1 &
    runner=$!
}
# Waits for the background run and fails unless it passed.
background_passed() {
    local rc=0
    wait "$runner" || rc=$?
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$results/$1.txt" | tail -1)
    [ "$rc" = 0 ] || fail "the run connected during $2 failed ($summary): $(tail -5 "$results/$1.txt")"
    log "the run connected during $2: $summary"
}

step "gflab hosts rotate-secret while a runner stays connected"
started=$(date +%s)
cp "$GFRH_WORK/secret" "$GFRH_WORK/secret.before"
background_run "106 107" rotate-run
sleep 5
"$GFLAB" hosts rotate-secret "$nodes" | tee "$results/rotate.txt" || fail "gflab hosts rotate-secret failed"
[ "$(grep -c ' rotated$' "$results/rotate.txt")" = "$nhosts" ] || fail "not every host was rotated"
background_passed rotate-run "the rotation"
! cmp -s "$GFRH_WORK/secret" "$GFRH_WORK/secret.before" || fail "the node list's secret was not replaced"
[ "$(stat -c %a "$GFRH_WORK/secret")" = 600 ] || fail "the new secret file is not mode 0600"
"$GFLAB" hosts check "$nodes" >"$results/check-rotated.txt" 2>&1 || fail "hosts do not answer to the new secret"
sed 's/^secret_file = .*/secret_file = "secret.before"/' "$nodes" >"$GFRH_WORK/old-secret.toml"
if "$GFLAB" hosts check --timeout 2 "$GFRH_WORK/old-secret.toml" >"$results/check-old-secret.txt" 2>&1; then
    fail "the old secret still works after the rotation"
fi
[ "$(grep -c 'wrong secret' "$results/check-old-secret.txt")" -ge "$nhosts" ] ||
    fail "the old secret was not refused by every host: $(cat "$results/check-old-secret.txt")"
log "rotated on $nhosts hosts in $(($(date +%s) - started)) s; the old secret is refused everywhere"

step "gflab hosts upgrade while a runner stays connected"
started=$(date +%s)
# Another build of the same version: a different binary (trailing bytes an ELF loader ignores).
cp "$GFLAB_AGENT_BIN" "$GFRH_WORK/gflab-agent.next"
printf 'gflab realhosts upgrade %s\n' "$started" >>"$GFRH_WORK/gflab-agent.next"
background_run "101 107 108" upgrade-run
sleep 5
"$GFLAB" hosts upgrade "$nodes" --agent-bin "$GFRH_WORK/gflab-agent.next" | tee "$results/upgrade.txt" ||
    fail "gflab hosts upgrade failed"
[ "$(grep -c 'installed (binary changed, restarted)' "$results/upgrade.txt")" = "$nhosts" ] ||
    fail "the agent was not replaced on every host"
background_passed upgrade-run "the upgrade"
log "upgraded $nhosts hosts in $(($(date +%s) - started)) s including the run"

step "gflab test --nodes $nodes -d faults (partitions and pauses through the agents)"
set +e
"$GFLAB" test --nodes "$nodes" -d faults --results "$results/faults" \
    --junit "$results/faults-junit.xml" 2>&1 | tee "$results/faults.txt"
faults_rc=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$results/faults.txt" | tail -1)
[ -n "$summary" ] || fail "no summary line from the fault suite"
log "fault suite: $summary"
[ "$faults_rc" = 0 ] || fail "the fault suite exited $faults_rc ($summary)"
case "$summary" in
"0 passed"*) fail "no fault scenario passed ($summary)" ;;
*" 0 failed"*) ;;
*) fail "fault scenario failures: $summary" ;;
esac
# What the suite must have exercised on these hosts, read from the transcripts.
grep -rqs -- '-/->' "$results/faults" || fail "no partition was made on the real hosts"
grep -rqs 'pause the GlusterFS processes' "$results/faults" || fail "no pause was made on the real hosts"
# Reboots of hand-listed hosts are skipped unless the node list offers the capability; small bricks
# where a host has no loop devices; slow links where the kernel has no netem.
skips=$(grep -E '^\[[0-9]+/[0-9]+\] .* skipped \(' "$results/faults.txt" || true)
if [ -n "$skips" ] && echo "$skips" | grep -vq 'capability reboot\|netem\|loop devices\|needs [0-9]* server'; then
    fail "a fault scenario was skipped for another reason: $skips"
fi
log "real-host fault suite took $(($(date +%s) - started)) s including everything before"
