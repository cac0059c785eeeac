//! Rebalance migrates symlinks and special files too: after `add-brick` and a rebalance that
//! completes without failures, FIFOs, character and block device nodes and symlinks are spread
//! over the new brick as well, each one exists on exactly one brick (no copy left behind, none
//! lost), device numbers and symlink targets are unchanged, and the mount shows the same tree
//! (names, types, modes, owners, targets) as before.
//!
//! Ported from glusto-tests `tests/functional/dht/test_rebalance_with_special_files.py` (FIFOs,
//! block and character files, add bricks, rebalance to completion) and the symlinks of
//! `test_add_brick_rebalance_with_symlink_pointing_out_of_gluster.py`, checked on the bricks.
use crate::prelude::*;

pub const CASE: Case = Case::new(716, "rebalance_special_files", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const EACH: usize = 15;

/// Every non-regular, non-directory entry under a brick (`.glusterfs` left out), with its type,
/// device numbers and symlink target: `name type major:minor target`.
async fn specials(ctx: &Ctx, b: &Brick) -> Result<Vec<String>, TestError> {
    let out = ctx
        .sh(
            &b.node,
            format!(
                "cd {} && find . -path ./.glusterfs -prune -o ! -type f ! -type d -printf '%P %y ' -exec stat -c '%t:%T %N' {{}} \\; | sort",
                b.path
            ),
        )
        .await?;
    Ok(out.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    ctx.sh(
        &client,
        format!(
            "set -e; cd {}; mkdir sp; for i in $(seq 1 {EACH}); do mkfifo sp/fifo$i; mknod sp/blk$i b 1 5; \
             mknod sp/chr$i c 1 3; ln -s /etc/hostname sp/out$i; echo data$i > sp/file$i; ln -s file$i sp/in$i; done",
            m.path
        ),
    )
    .await?;
    let before = tree::of_mount(&ctx, &m, Scope::FULL).await?;
    let mut on_old = Vec::new();
    for b in &vol.bricks {
        on_old.extend(specials(&ctx, b).await?);
    }
    ensure_eq!(on_old.len(), 5 * EACH, "special files and symlinks over the two bricks: {on_old:?}");

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    let p = dht::rebalance(&ctx, &vol, Duration::from_secs(300)).await?;
    ensure!(dht::total_files(&p) > 0, "rebalance migrated nothing: {p:?}");

    let mut all = Vec::new();
    for b in &vol.bricks {
        all.extend(specials(&ctx, b).await?);
    }
    let on_new = specials(&ctx, &vol.bricks[2]).await?;
    ensure!(!on_new.is_empty(), "no symlink or special file was migrated to the added brick");
    all.sort();
    on_old.sort();
    ensure_eq!(all, on_old, "special files and symlinks on the bricks (name, type, device, target) after rebalance");
    tree::ensure_same(&before, &tree::of_mount(&ctx, &m, Scope::FULL).await?)?;
    Ok(())
}
