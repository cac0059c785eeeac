#!/usr/bin/env bash
# One suite on one lab as CI checks it: images, the lab, the suite with a JUnit report, down. Then
# the JUnit report is read by an independent parser and must agree with the run's summary line, and
# no Docker object labeled with the lab may remain (asked of the engine directly). With no
# settings it is the main job: the example suite on the 2x2 lab.
#
# Env: CARGO_TARGET_DIR (default target), GFLAB_TOPOLOGY (default topologies/2x2.toml),
# GFLAB_SUITE (default example), GFLAB_LAB (default 2x2), RESULTS (default results/$GFLAB_SUITE).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
gflab="$target/debug/gflab"
topology=${GFLAB_TOPOLOGY:-topologies/2x2.toml}
suite=${GFLAB_SUITE:-example}
lab=${GFLAB_LAB:-2x2}
results=${RESULTS:-results/$suite}
mkdir -p "$results"

python3 .ci/leftovers.py "$lab" # the lab must not exist yet: its objects would be ours to judge
"$gflab" images
down() { "$gflab" down "$lab" || true; }
trap down EXIT
"$gflab" up "$topology" --name "$lab"
status=0
"$gflab" test --lab "$lab" -d "$suite" --results "$results" --junit "$results/junit.xml" \
    2>&1 | tee "$results/console.txt" || status=$?
trap - EXIT
"$gflab" down "$lab"

summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$results/console.txt" | tail -n 1)
[ -n "$summary" ] || { echo "error: no summary line in $results/console.txt" >&2; exit 1; }
python3 tests_d/tools/junit_summary.py "$results/junit.xml" "$summary" || status=1
python3 .ci/leftovers.py "$lab" || status=1
exit "$status"
