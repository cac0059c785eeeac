#!/usr/bin/env bash
# One suite as CI checks it, with a JUnit report read back by an independent parser that must agree
# with the run's summary line, and no Docker object of the run's labs left (asked of the engine
# directly). With no settings it is the main job: images, `gflab up` of the 2x2 lab, the example
# suite, `gflab down`. With GFLAB_JOBS=N the suite runs on a pool of N labs that `gflab test
# --topology` makes and removes itself (disruptive cases alone on a lab).
#
# Env: CARGO_TARGET_DIR (default target), GFLAB_TOPOLOGY (default topologies/2x2.toml),
# GFLAB_SUITE (default example; several: "afr arbiter"), GFLAB_LAB (default 2x2), GFLAB_JOBS
# (default: one lab, brought up and down here), GFLAB_ARGS (more `gflab test` arguments, e.g.
# "--release bookworm --release trixie" with GFLAB_JOBS), RESULTS (default results/<first suite>).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
gflab="$target/debug/gflab"
topology=${GFLAB_TOPOLOGY:-topologies/2x2.toml}
suite=${GFLAB_SUITE:-example}
lab=${GFLAB_LAB:-2x2}
jobs=${GFLAB_JOBS:-}
read -r -a extra <<< "${GFLAB_ARGS:-}"
results=${RESULTS:-results/${suite%% *}}
mkdir -p "$results"
selection=()
for s in $suite; do selection+=(-d "$s"); done

"$gflab" images
status=0
started=$(date +%s)
if [ -n "$jobs" ]; then
    # The pool's labs are named <topology name>-<run token>-<i>.
    name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$topology")
    for r in "${extra[@]}"; do case "$r" in bookworm|trixie) "$gflab" images --release "$r" ;; esac; done
    "$gflab" test --topology "$topology" -j "$jobs" "${selection[@]}" "${extra[@]}" \
        --results "$results" --junit "$results/junit.xml" 2>&1 | tee "$results/console.txt" \
        || status=$?
    left="$name-*"
else
    python3 .ci/leftovers.py "$lab" # the lab must not exist yet: its objects would be ours to judge
    down() { "$gflab" down "$lab" || true; }
    trap down EXIT
    "$gflab" up "$topology" --name "$lab"
    "$gflab" test --lab "$lab" "${selection[@]}" --results "$results" --junit "$results/junit.xml" \
        2>&1 | tee "$results/console.txt" || status=$?
    trap - EXIT
    "$gflab" down "$lab"
    left="$lab"
fi
echo "ci: $suite${jobs:+ at -j $jobs} took $(( $(date +%s) - started )) s"

summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped(, [0-9]+ flaky .*)?$' "$results/console.txt" | tail -n 1)
[ -n "$summary" ] || { echo "error: no summary line in $results/console.txt" >&2; exit 1; }
python3 tests_d/tools/junit_summary.py "$results/junit.xml" "$summary" || status=1
python3 .ci/leftovers.py "$left" || status=1
if [ "$status" != 0 ]; then
    # The end of CI's output is what one sees first: say there which cases failed and why.
    grep -E '^FAILED ' "$results/console.txt" || true
fi
exit "$status"
