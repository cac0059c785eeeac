//! Files renamed while a rebalance runs are neither lost nor duplicated: with the rebalance seen
//! in progress, every file of a directory is renamed from the mount; the rebalance then completes
//! on every node, the mount lists exactly the new names (no old name left), each reads back with
//! the data written under its old name, each has its data on exactly one brick (the added one
//! among them), and no link file is left for an old name.
//!
//! Ported from glusto-tests `tests/functional/dht/test_rebalance_rename.py` (files, add-brick,
//! rebalance in progress, renames meanwhile, rebalance completed, the data unchanged), checked
//! name by name on the mount and on the bricks. On GlusterFS 10.3 a rename that meets the
//! migration of its file can fail with "No such file or directory" (seen here for one or two
//! files of 600); such a file must still be whole under its old name, and it is renamed again
//! after the rebalance. The other way round, a migration that meets the rename is given up and
//! counted as failed (`migrate-data failed for /main/f-N [No such file or directory]` in the
//! rebalance log). Any other error or failure, or a file missing or changed, fails the scenario.
//! The names are not taken from a listing: one made during the rebalance can show a file twice
//! (see 726).
use crate::prelude::*;

pub const CASE: Case = Case::new(719, "rebalance_rename", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(500);

const FILES: usize = 600;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("main/f", FILES, 4 << 10)).await?;

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    vol.set(&ctx, "cluster.rebal-throttle", "lazy").await?;
    dht::rebalance_start(&ctx, &vol, dht::Rebalance::Full).await?;
    let st = dht::rebalance_status(&ctx, &vol).await?;
    ensure!(st.iter().any(|n| n.status == "in progress"), "the rebalance should be in progress when the renames start: {st:?}");
    let out = ctx
        .sh(&client, format!("cd {}/main && for i in $(seq 0 {}); do f=f-$i; e=$(mv \"$f\" \"$f.re\" 2>&1) || echo \"$f $e\"; done", m.path, FILES - 1))
        .await?;
    let p = dht::wait_rebalance(&ctx, &vol, Duration::from_secs(300)).await?;
    ensure!(p.iter().all(|n| n.status.contains("completed")), "rebalance should complete on every node: {p:?}");
    ensure!(dht::total_files(&p) > 0, "rebalance migrated no file: {p:?}");
    // A migration that met the rename of its file is given up (the old name is gone) and counted
    // as failed; nothing else may fail.
    let failed = dht::failed_migrations(&ctx, &vol).await?;
    ensure!(
        failed.len() as u64 >= dht::total_failures(&p) && failed.iter().all(|(f, why)| f.starts_with("/main/f-") && why == "No such file or directory"),
        "{} migration failure(s); given up for a renamed file (ENOENT) only: {failed:?}",
        dht::total_failures(&p)
    );

    // A rename that met its file's migration may have been refused; the file must then be whole
    // under its old name, and the rename works once the rebalance is over.
    let refused: Vec<&str> = out.lines().filter_map(|l| l.split_whitespace().next()).collect();
    ctx.step(format!("{} rename(s) refused during the rebalance: {}", refused.len(), out.trim()));
    for l in out.lines() {
        ensure!(l.ends_with("No such file or directory"), "a rename during the rebalance failed otherwise than with ENOENT: {l}");
    }
    let kept: Vec<io::FileSum> = sums.iter().filter(|s| refused.iter().any(|r| s.name == format!("main/{r}"))).cloned().collect();
    ensure_eq!(kept.len(), refused.len(), "refused renames matched to written files ({refused:?})");
    io::verify(&ctx, &client, &m.path, &kept).await?;
    for f in &kept {
        fileops::rename(&ctx, &client, &format!("{}/{}", m.path, f.name), &format!("{}/{}.re", m.path, f.name)).await?;
    }

    let renamed: Vec<io::FileSum> = sums.iter().map(|s| io::FileSum { name: format!("{}.re", s.name), ..s.clone() }).collect();
    let mut want: Vec<String> = renamed.iter().map(|s| s.name.clone()).collect();
    want.sort();
    let listed = ctx.sh(&client, format!("cd {} && find main -type f | sort", m.path)).await?;
    ensure_eq!(listed.lines().map(str::to_string).collect::<Vec<_>>(), want, "files on the mount after the renames and the rebalance");
    io::verify(&ctx, &client, &m.path, &renamed).await?;

    let mut data = Vec::new();
    for b in &vol.bricks {
        data.extend(io::brick_files(&ctx, &b.node, &b.path).await?);
        for l in dht::link_files(&ctx, &b.node, &b.path).await? {
            ensure!(l.ends_with(".re"), "a link file for an old name is left on {}: {l}", b.spec());
        }
    }
    let on_new = io::brick_files(&ctx, &vol.bricks[2].node, &vol.bricks[2].path).await?;
    ensure!(!on_new.is_empty(), "no file has its data on the added brick {}", vol.bricks[2].spec());
    data.sort();
    ensure_eq!(data, want, "data files over all bricks (each renamed file exactly once)");
    Ok(())
}
