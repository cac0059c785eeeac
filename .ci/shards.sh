#!/usr/bin/env bash
# Shards as a CI system spreads a suite over machines: `gflab test --shard I/3` three times (here on
# one lab, one after the other), then `gflab report merge`. Checks that the three shards together
# ran exactly the selection once, and that the merged JUnit report, read by an independent parser,
# matches the sum of the three summary lines. The second round balances by the first's durations.
#
# Env: CARGO_TARGET_DIR (default target), GFLAB_SUITE (default example), RESULTS (default
# results/shards).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
gflab="$target/debug/gflab"
suite=${GFLAB_SUITE:-example}
lab=shards
results=${RESULTS:-results/shards}
rm -rf "$results"
mkdir -p "$results"

"$gflab" images
python3 .ci/leftovers.py "$lab"
down() { "$gflab" down "$lab" || true; }
trap down EXIT
"$gflab" up topologies/2x2.toml --name "$lab"

"$gflab" test -d "$suite" --list | awk '{print $1}' | sort > "$results/selection.txt"
round() { # round NAME [--durations FILE]
    local name=$1; shift
    local sum_p=0 sum_f=0 sum_s=0
    : > "$results/$name-ran.txt"
    for i in 1 2 3; do
        local out="$results/$name-$i"
        mkdir -p "$out"
        "$gflab" test --lab "$lab" -d "$suite" --shard "$i/3" "$@" --results "$out" \
            --junit "$out/junit.xml" > "$out/stdout.txt" 2> "$out/stderr.txt" || true
        # What ran, as the shard's own JUnit report says (names are "<id or id[type]> <name>").
        python3 -c 'import sys; from junitparser import JUnitXml
for suite in JUnitXml.fromfile(sys.argv[1]):
    for case in suite: print(case.name.split()[0])' "$out/junit.xml" >> "$results/$name-ran.txt"
        local line
        line=$(tail -n 1 "$out/stdout.txt")
        echo "shard $i/3: $line"
        read -r p _ f _ s _ <<< "$line"
        sum_p=$((sum_p + p)); sum_f=$((sum_f + f)); sum_s=$((sum_s + s))
    done
    sort "$results/$name-ran.txt" -o "$results/$name-ran.txt"
    if ! diff -u "$results/selection.txt" "$results/$name-ran.txt"; then
        echo "error: the shards of round $name did not run the selection exactly once" >&2
        exit 1
    fi
    "$gflab" report merge "$results/$name"-{1,2,3}/junit.xml -o "$results/$name-merged.xml" \
        > "$results/$name-merge.txt" || true
    local want="$sum_p passed, $sum_f failed, $sum_s skipped"
    echo "round $name: sum of the shards' summary lines: $want"
    python3 tests_d/tools/junit_summary.py "$results/$name-merged.xml" "$want"
    [ "$sum_f" -eq 0 ] || { echo "error: failures in round $name" >&2; exit 1; }
}
round plain
round balanced --durations "$results/plain-merged.xml"
trap - EXIT
"$gflab" down "$lab"
python3 .ci/leftovers.py "$lab"
