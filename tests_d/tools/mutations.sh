#!/usr/bin/env bash
# Mutation check of the afr, dht, glusterd, quota, auth, fuse_subdir, shard, glusterfind, bitrot and ctime suites: each mutation is a small patch (tests_d/mutations/<name>.patch)
# that breaks what one scenario checks. For each, the patch is applied, gflab rebuilt, the
# scenario run on a lab, and the patch reverted (always, also on error or interrupt). A mutation
# is caught when the scenario FAILS with a message containing the expected phrase.
#
#   tests_d/tools/mutations.sh --lab NAME [--only MUTATION]
#
# Prints a table (mutation, scenario, failed as expected, first line of the failure) and exits
# non-zero if any mutation was not caught. The tree is rebuilt unpatched at the end.
set -euo pipefail

# name | scenario | phrase the failure must contain
MUTATIONS=(
  "wrong_source_brick|413|after source-brick b1"
  "majority_resolved_by_size|415|should be the copy of b1 and b2"
  "granular_entry_heal_off|418|no granular index"
  "shd_left_on|411[replicate]|should be refused while the self-heal daemon is off"
  "client_quorum_off|416[replicate]|should fail with \"Transport endpoint is not connected\""
  "rebalance_only_fixes_layout|700|rebalance migrated no file"
  "fix_layout_migrates|702|files moved by fix-layout"
  "manual_fix_layout_ignored|714|foo has no layout range on"
  "rename_as_copy|703|subvolume holding the renamed file's data"
  "profile_not_running|756|volume profile"
  "brick_multiplex_ignored|760|cluster.brick-multiplex after setting it"
  "server_quorum_none|761|cluster.server-quorum-type"
  "reset_wrong_key|768|storage.reserve after volume reset of it"
  "quota_remove_ignored|804|should succeed"
  "quota_rename_as_copy|806|the limit and usage of /foo on /bar"
  "quota_deem_statfs_off|808|the 100 MB limit as total"
  "reject_sets_allow|831|should be refused (AuthFailed) but it mounted"
  "subdir_mounts_root|845|entries at the root of the d1 mount"
  "shard_never_enabled|880|wanted the first block"
  "unlink_as_rename|882|does not exist after unlinking"
  "find_type_ignored|892|records of pre --full --type Files"
  "ctime_left_on|861|created with features.ctime off has trusted.glusterfs.mdata"
  "bitrot_nothing_corrupted|874|error count on"
  "hardlink_name_lost|718|inode and link count of every name of d1/f-0"
  "rename_keeps_old_name|719|files on the mount after the renames and the rebalance"
  "rebalance_drops_owner|720|files should all be"
  "hidden_files_not_migrated|721|rebalance migrated no file"
  "dir_attr_no_lookup|722|to get the root's mode and sub's owner and mode back"
  "dir_xattr_no_lookup|723|healed onto brick #1 by a lookup"
  "new_brick_no_lookup|724|on the added brick"
  "open_file_write_lost|725|files whose lines are not exactly"
  "readdir_entry_lost|726|during the rebalance: missing"
  "copy_bricks_never_down|727|succeeded, with source cached and destination hashed down"
  "remove_brick_open_no_migration|728|should have its data on exactly one subvolume"
  "rmdir_no_brick_down|729|rmdir of a directory hashed to the down subvolume succeeded with brick #2 down"
)

lab=""
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --lab) lab="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "mutations.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$lab" ]; then
  echo "mutations.sh: --lab NAME is required" >&2
  echo "hint: start one with gflab up <topology.toml> (3 servers, 1 client)" >&2
  exit 2
fi

root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
cd "$root"
gflab="${CARGO_TARGET_DIR:-target}/debug/gflab"
out="$(mktemp -d /tmp/gflab-mutations.XXXXXX)"
applied=""

revert() {
  if [ -n "$applied" ]; then
    git apply -R "tests_d/mutations/$applied.patch" || echo "mutations.sh: failed to revert $applied" >&2
    applied=""
  fi
}
finish() {
  local rc=$?
  revert
  echo "rebuilding the unpatched tree" >&2
  cargo build -q -p gflab >&2 || rc=1
  exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

rows=()
missed=0
for m in "${MUTATIONS[@]}"; do
  IFS='|' read -r name scenario phrase <<<"$m"
  [ -n "$only" ] && [ "$only" != "$name" ] && continue
  patch="tests_d/mutations/$name.patch"
  echo "== $name: $scenario" >&2
  git apply --check "$patch"
  git apply "$patch"
  applied="$name"
  log="$out/$name.log"
  status="no"
  first=""
  if ! cargo build -q -p gflab >"$out/$name.build" 2>&1; then
    first="build failed: $(head -1 "$out/$name.build")"
  elif "$gflab" test --lab "$lab" -t "$scenario" --results "$out/$name" >"$log" 2>&1; then
    first="passed: the mutation was not caught"
  else
    first="$(grep -A1 ' FAILED ' "$log" | sed -n '2p' | sed 's/^ *//')"
    [ -n "$first" ] || first="$(tail -1 "$log")"
    case "$first" in *"$phrase"*) status="yes" ;; esac
  fi
  revert
  [ "$status" = yes ] || missed=$((missed + 1))
  rows+=("$name|$scenario|$status|$first")
done

printf '%-26s %-16s %-8s %s\n' MUTATION SCENARIO CAUGHT "FIRST LINE OF THE FAILURE"
for r in "${rows[@]}"; do
  IFS='|' read -r name scenario status first <<<"$r"
  printf '%-26s %-16s %-8s %s\n' "$name" "$scenario" "$status" "${first:0:160}"
done
echo "logs: $out"
if [ "$missed" -gt 0 ]; then
  echo "$missed mutation(s) not caught" >&2
  exit 1
fi
