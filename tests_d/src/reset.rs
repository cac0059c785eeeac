//! Fast reset: bring a lab back to its just-formed state without recreating it — no fault left,
//! glusterd running and every peer connected, no volume or mount a test made, brick roots empty of
//! test bricks.
//!
//! Only what tests make is removed: volumes whose names [`crate::Ctx::unique`] made
//! (`t<id>[type]-<what>-<run>-<n>`), their snapshots, mounts under `/mnt/gflab/`, brick directories of
//! such names and small-brick images. On real hosts, volumes and data of their owners stay.
use std::time::{Duration, Instant};

use gflab_agent::Command;

use crate::ctx::Ctx;
use crate::gluster::{self, volume};

/// Extended regex of the names [`crate::Ctx::unique`] makes.
pub const TEST_NAME_RE: &str = "^t[0-9]+[a-z]*-.+-[a-z0-9]{4}-[0-9]+$";

/// Where mounts of tests live on clients.
const MOUNT_ROOT: &str = "/mnt/gflab";

/// What a reset did, for the run log and the benchmark.
#[derive(Debug, Clone, Default)]
pub struct ResetReport {
    /// Test volumes stopped and deleted.
    pub volumes: Vec<String>,
    /// Wall time.
    pub duration: Duration,
}

/// Unmounts every test mount (lazily when busy) and removes the empty mount points.
fn unmount_script() -> String {
    format!(
        "for m in $(awk '$2 ~ \"^{MOUNT_ROOT}/\" {{ print $2 }}' /proc/mounts | sort -r); do \
         umount \"$m\" 2>/dev/null || umount -l \"$m\"; done; \
         [ -d {MOUNT_ROOT} ] && find {MOUNT_ROOT} -mindepth 1 -maxdepth 1 -type d -empty -delete; true"
    )
}

/// Removes test bricks under `root`: small-brick filesystems unmounted and their loop devices
/// detached, then brick directories of test names and the images.
fn brick_script(root: &str) -> String {
    let root = gflab_agent::shell::quote(root);
    format!(
        "cd {root} 2>/dev/null || exit 0; \
         for m in $(awk -v r={root}/ 'index($2, r) == 1 {{ print substr($2, length(r) + 1) }}' \
         /proc/mounts | sort -r); do \
         printf '%s\\n' \"${{m%%/*}}\" | grep -Eq '{TEST_NAME_RE}' || continue; \
         umount \"$m\" 2>/dev/null || umount -l \"$m\"; done; \
         if [ -d .gflab-small ]; then for img in .gflab-small/*.img; do [ -e \"$img\" ] || continue; \
         for d in $(losetup -n -O NAME -j \"$PWD/$img\" 2>/dev/null); do losetup -d \"$d\"; done; \
         rm -f \"$img\"; done; fi; \
         for d in *; do [ -e \"$d\" ] || continue; \
         if printf '%s\\n' \"$d\" | grep -Eq '{TEST_NAME_RE}'; then rm -rf -- \"$d\"; fi; done"
    )
}

/// Brings the lab back to its just-formed state. Returns what was done, or every problem left.
pub async fn reset(ctx: &Ctx, timeout: Duration) -> Result<ResetReport, Vec<String>> {
    let began = Instant::now();
    let mut report = ResetReport::default();
    // Faults first: nothing below works across a partition or with frozen daemons.
    let mut left = crate::fault::repair(ctx, timeout).await;
    if !left.is_empty() {
        return Err(left);
    }
    let unmounts = ctx.nodes().iter().map(|n| async move {
        ctx.sh(n, unmount_script())
            .await
            .map_err(|e| format!("{}: failed to unmount test mounts: {e}", n.name()))
    });
    left.extend(
        futures::future::join_all(unmounts)
            .await
            .into_iter()
            .filter_map(Result::err),
    );
    let servers = ctx.servers();
    if let Some(first) = servers.first() {
        let names = match volume::list(ctx, first).await {
            Ok(v) => v,
            Err(e) => return Err(vec![format!("failed to list volumes: {e}")]),
        };
        for name in names.into_iter().filter(|n| is_test_name(n)) {
            // Snapshots block a volume's deletion.
            let _ =
                gluster::gluster(ctx, first, ["snapshot", "delete", "volume", name.as_str()]).await;
            let _ = gluster::gluster(ctx, first, ["volume", "stop", name.as_str(), "force"]).await;
            match gluster::gluster(ctx, first, ["volume", "delete", name.as_str()]).await {
                Ok(_) => report.volumes.push(name),
                Err(e) => left.push(format!("failed to delete volume {name}: {e}")),
            }
        }
    }
    let bricks = servers.iter().map(|s| async move {
        ctx.run(s, Command::shell(brick_script(s.brick_root())))
            .await
            .map(drop)
            .map_err(|e| format!("{}: failed to empty the brick root: {e}", s.name()))
    });
    left.extend(
        futures::future::join_all(bricks)
            .await
            .into_iter()
            .filter_map(Result::err),
    );
    left.extend(crate::fault::health(ctx).await);
    report.duration = began.elapsed();
    if left.is_empty() {
        Ok(report)
    } else {
        Err(left)
    }
}

/// Whether `name` matches [`TEST_NAME_RE`]: `t`, digits, lowercase letters, `-`, anything, `-`,
/// four of `[a-z0-9]`, `-`, digits.
pub fn is_test_name(name: &str) -> bool {
    {
        let Some(rest) = name.strip_prefix('t') else {
            return false;
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        let rest = rest[digits..].trim_start_matches(|c: char| c.is_ascii_lowercase());
        let Some(rest) = rest.strip_prefix('-') else {
            return false;
        };
        let parts: Vec<&str> = rest.rsplitn(3, '-').collect();
        matches!(parts.as_slice(), [n, token, what]
            if !what.is_empty()
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && token.len() == 4
                && token.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_tests_make_are_matched() {
        let m = is_test_name;
        for yes in ["t103-rep-k3x9-1", "t301ec-ec-ab12-12", "t5-mnt-x-y-aaaa-3"] {
            assert!(m(yes), "{yes}");
        }
        for no in [
            "data",
            "t-rep-k3x9-1",
            "t103-k3x9-1",
            "t103-rep-k3x-1",
            "t103-rep-k3x9-",
            "prod-t103-rep-k3x9-1",
            "T103-rep-k3x9-1",
        ] {
            assert!(!m(no), "{no}");
        }
    }

    #[test]
    fn scripts_only_touch_test_paths() {
        let b = brick_script("/bricks");
        assert!(
            b.contains("grep -Eq '^t[0-9]+[a-z]*-.+-[a-z0-9]{4}-[0-9]+$'"),
            "{b}"
        );
        assert!(b.contains("cd /bricks"), "{b}");
        let u = unmount_script();
        assert!(u.contains("^/mnt/gflab/"), "{u}");
    }
}
