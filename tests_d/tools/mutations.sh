#!/usr/bin/env bash
# Mutation check of the afr, dht, glusterd, quota, auth, fuse_subdir, shard, glusterfind, bitrot,
# ctime and upgrade suites: each mutation is a small patch (tests_d/mutations/<name>.patch) that
# breaks what one scenario checks (in a test, in the library, or in gflab itself). For each, the patch is applied, gflab rebuilt, the
# scenario run on a lab, and the patch reverted (always, also on error or interrupt). A mutation
# is caught when the scenario FAILS with a message containing the expected phrase.
#
#   tests_d/tools/mutations.sh --lab NAME [--only MUTATION]
#   tests_d/tools/mutations.sh --topology FILE [--only MUTATION]
#
# --topology gives each run a lab of its own, made from FILE and removed after it: what the
# upgrade scenarios need, since a lab they upgraded cannot be reset to its release.
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
  "quota_fill_beside_limit|800[replicate]|none refused with"
  "quota_limit_too_high|801|a 20 MiB file under a 10 MB limit should fail"
  "quota_remove_objects_ignored|802|remove-objects left a limit on /d"
  "quota_soft_percent_dropped|803|3 MiB under a 5 MiB soft limit"
  "alert_writes_elsewhere|803|a new soft-limit alert for /soft"
  "quota_sibling_data_at_root|805|quota on /dir0"
  "quota_add_brick_limit_doubled|807|should carry the 20 MiB limit xattr"
  "quota_enabled_too_early|809|should be refused with \"Quota is disabled\""
  "quota_truncate_kept_size|810|1.5 MiB used after the removals and the truncate"
  "quota_symlink_as_hardlink|811|the symlink counted as a file"
  "quota_cross_link_as_copy|811|should be a third name of /a/f"
  "quota_disable_ignored|812|features.quota and features.inode-quota after disable"
  "quotad_dead_after_restart|813|quota daemon on"
  "quota_size_decimals_dropped|814|limit 1.5GB on /g15"
  "quota_xattrs_read_on_brick|815|are visible on the mount"
  "quota_limit_before_brick_down|816|got the limit while down"
  "quota_limit_on_sibling|817|its 2 MiB"
  "quota_enable_ignored|818|features.quota-deem-statfs with quota enabled"
  "reject_sets_allow|831|should be refused (AuthFailed) but it mounted"
  "allow_ip_as_subnet|830|should be refused (AuthFailed) but it mounted"
  "reject_other_client|832|should be refused (AuthFailed) but it mounted"
  "reject_all_one_address|833|should be refused (AuthFailed) but it mounted"
  "auth_value_sanitized|834|was accepted"
  "reset_other_key|835|was refused"
  "allow_change_subnet|836|to be cut off"
  "brick_never_brought_back|837|waiting for all 6 bricks"
  "wildcard_match_literal|838|should be refused (AuthFailed) but it mounted"
  "add_brick_drops_allow|839|should be refused (AuthFailed) but it mounted"
  "subdir_mounts_root|845|entries at the root of the d1 mount"
  "subdir_made_early|846|should be refused (NoSuchDirectory) but it mounted"
  "subdir_allow_both|847|should be refused (AuthFailed) but it mounted"
  "subdir_reject_wrong_dir|848|should be refused (AuthFailed) but it mounted"
  "child_allows_parent_client|849|should be refused (AuthFailed) but it mounted"
  "subdir_rename_keeps_old|850|should be refused (NoSuchDirectory) but it mounted"
  "subdir_remove_brick_forced|851|file(s) differ in client1"
  "subdir_limits_swapped|852|to show 10 MiB"
  "subdir_volume_never_stopped|853|succeeded; it should fail"
  "mix_host_entry_lost|854|was refused"
  "replace_no_self_heal|855|to see every brick of"
  "object_limit_wrong_dir|856|to hit its object limit"
  "shard_never_enabled|880|wanted the first block"
  "unlink_as_rename|882|does not exist after unlinking"
  "truncate_not_applied|881|shard.file-size gives size"
  "shard_rename_as_copy|883|gfid of src after two renames"
  "shard_brick_never_down|884|written with brick"
  "new_block_size_not_set|885|wanted the first block of 8388608"
  "find_type_ignored|892|records of pre --full --type Files"
  "ctime_left_on|861|created with features.ctime off has trusted.glusterfs.mdata"
  "ctime_off_on_replicas|860|features.ctime should keep it"
  "ctime_switched_off|862|a, m and c times differ"
  "ctime_off_set_times|863|file_zyx1 has no trusted.glusterfs.mdata"
  "bitrot_nothing_corrupted|874|error count on"
  "bitrot_disable_pauses|870|Bitd gone on"
  "throttle_always_lazy|871|scrub impact after setting them"
  "scrub_pause_skipped|872|features.scrub in volume info after glusterd restarted everywhere"
  "healthy_copy_rotted|873|error count on"
  "corrupted_after_scrub|875|corrupted gfids in scrub status"
  "find_post_skipped|895|incremental pre never listed"
  "find_delete_skipped|890|still listed after delete"
  "find_post_noop|891|session time after post"
  "rename_keeps_source|893|records of the full find after the renames and deletes"
  "query_type_dirs|894|records of query --full"
  "upgrade_keeps_old_image|609|runs GlusterFS 10.3 after the upgrade"
  "upgrade_loses_fragments|609|the fragments of f2"
  "op_version_never_bumped|604|after the bump"
  "upgrade_skips_rejoin|606|waiting for all 6 bricks"
  "concurrent_set_one_short|774|after the last set"
  "volume_get_set_ignored|775|after setting it to 14"
  "status_before_start_started|776|volume status of a volume never started"
  "option_for_all_on_volume|777|should be refused but succeeded"
  "epoll_counts_all_threads|778|epoll threads of glusterd"
  "brick_dir_kept|779|volume start succeeded with the directory of brick"
  "add_brick_quorum_kept|780|succeeded without server quorum"
  "remove_brick_quorum_kept|781|succeeded without server quorum"
  "replace_brick_quorum_kept|782|succeeded without server quorum"
  "host_uuid_all_first_server|783|hostUuid of"
  "rebalance_quorum_kept|784|succeeded without server quorum"
  "brick_port_option_not_set|785|after its glusterd restarted"
  "max_bricks_multiplex_first|786|with brick multiplexing off should be refused"
  "probe_new_address_never_probed|750|also as"
  "detach_volume_not_deleted|751|without bricks failed"
  "create_outsider_in_pool|752|(not a peer) answered"
  "set_valid_values_after_first_dropped|753|volume get network.ping-timeout"
  "set_while_down_old_value|754|right after the set"
  "statedump_never_taken|757|a statedump of brick 0"
  "get_state_other_brick_killed|758|status of killed brick"
  "glusterd_restart_noop|759|was not restarted"
  "lifecycle_volume_never_stopped|763|stop of a stopped volume answered"
  "glusterd_info_uuid_regenerated|764|in peer status on"
  "profile_started_after_writes|765|profile info after the first 4 files"
  "quorum_type_valid_value|766|cluster.server-quorum-type none answered"
  "ratio_volume_without_quorum|767|to stop its brick"
  "readonly_never_turned_off|769|to be allowed again"
  "name_reuse_volume_not_deleted|770|is in volume list on"
  "status_clients_writes_beside_mount|771|bytes from the mount after 4 MiB were written"
  "auth_allow_never_reset|772|cannot mount"
  "pool_list_as_peer_status|773|UUIDs in pool list on"
  "memory_cycle_volume_not_deleted|762|a cycled volume is still listed"
  "rsync_name_hashed_whole|732|bricks holding .kept-"
  "add_brick_after_migration|733|add-brick during a remove-brick migration was accepted"
  "remove_brick_after_rebalance|734|remove-brick start during a rebalance was accepted"
  "volume_stop_after_rebalance|735|volume stop during a rebalance was accepted"
  "nuke_as_user_xattr|736|entries of the mount's root after nuking dir1"
  "rm_only_the_files|737|entries left on the mount after rm -rf"
  "second_volume_not_expanded|738|moved no file"
  "parallel_readdir_never_on|739|expected one naming"
  "rmdir_with_all_up|740|rmdir parent with subvolume 2 down"
  "glusterd_left_up|741|should fail, status"
  "rebalance_restarted|742|after the glusterd restarts"
  "remove_brick_not_stopped|743|is not yet committed"
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
  "early_commit_after_migration|701|remove-brick commit without start was accepted"
  "linked_rename_as_hardlink|704|(and its link file) still on a brick"
  "mkdir_name_hashed_elsewhere|705|(hashed to the down subvolume 1) succeeded"
  "sparse_rebalance_before_add_brick|707|no sparse file was migrated to the new brick"
  "add_brick_nested_as_sibling|708|-nested force was accepted"
  "cached_brick_never_down|709|could be stat'ed with its data brick"
  "under_io_rebalance_never_started|710|the added brick holds no data"
  "force_remove_migrates|712|files of the force-removed brick still show on the mount"
  "rename_onto_as_copy|713|the old 30000-byte destination replaced by a link file"
  "pending_remove_brick_never_started|715|rebalance start with a remove-brick pending should be refused"
  "special_files_fix_layout_only|716|rebalance migrated nothing"
  "dir_rename_as_copy|717|hash ranges of dst (those of src)"
)

lab=""
topology=""
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --lab) lab="$2"; shift 2 ;;
    --topology) topology="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "mutations.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -n "$lab" ] && [ -n "$topology" ]; then
  echo "mutations.sh: give --lab NAME or --topology FILE, not both" >&2
  exit 2
fi
if [ -n "$lab" ]; then
  where=(--lab "$lab")
elif [ -n "$topology" ]; then
  where=(--topology "$topology")
else
  echo "mutations.sh: --lab NAME or --topology FILE is required" >&2
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
  elif "$gflab" test "${where[@]}" -t "$scenario" --results "$out/$name" >"$log" 2>&1; then
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
