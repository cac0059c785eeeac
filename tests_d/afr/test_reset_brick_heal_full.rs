//! Reset-brick of one brick per replica set, wiped in between as a new disk would be, while a
//! background writer runs; `heal full` rebuilds the wiped bricks. Afterwards every set's bricks
//! hold exactly the mount's tree — a deep tree, sparse files, hard links, symlinks, modes, owners
//! and user xattrs, by tree checksum — and every file the writer reports written reads back intact.
//!
//! Ported from glusto-tests `tests/functional/afr/test_afr_reset_brick_heal_full.py` (files and
//! directories from the mount, reset-brick start with I/O running, the brick emptied from the
//! back end, reset-brick commit force, the brick online, `heal full`, checksums of every brick
//! compared with the mount) over the same types (replicate, distributed-replicate), with a richer
//! tree.
use crate::prelude::*;

pub const CASE: Case = Case::new(406, "reset_brick_wipe_heal_full", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(&[VolumeType::Replicate, VolumeType::DistributedReplicate])
    .timeout_secs(900);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let d = format!("{}/data", m.path);
    let made = fileops::deep_tree(&ctx, &client, &format!("{d}/deep"), 3, 2, 2, 8192).await?;
    ensure_eq!(made, 30, "files in the deep tree (2 per directory, 15 directories)");
    fileops::sparse(
        &ctx,
        &client,
        &format!("{d}/sparse"),
        8 << 20,
        &[(0, 4096), (4 << 20, 4096)],
    )
    .await?;
    fileops::hardlink(&ctx, &client, &format!("{d}/deep/file0"), &format!("{d}/hard")).await?;
    fileops::symlink(&ctx, &client, "deep/file1", &format!("{d}/soft")).await?;
    fileops::chmod(&ctx, &client, &format!("{d}/deep/file1"), 0o640).await?;
    fileops::chown(&ctx, &client, &format!("{d}/deep/dir0.0"), 4406, 4406).await?;
    fileops::set_user_xattr(&ctx, &client, &format!("{d}/deep/file0"), "tag", "v1").await?;
    fileops::truncate(&ctx, &client, &format!("{d}/deep/file1"), 1000).await?;
    fileops::append(&ctx, &client, &format!("{d}/deep/file0"), 5000).await?;
    let before = tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;

    let writers = bgio::start_on_mounts(&ctx, &[&m], "io", bgio::BgIoSpec::default()).await?;
    writers.wait_progress(&ctx, 3, Duration::from_secs(60)).await?;
    for i in brick::select(&vol, Select::One)? {
        replace::reset_brick_start(&ctx, &vol, i).await?;
        replace::wipe_brick(&ctx, &vol, i).await?;
        let b = &vol.bricks[i];
        let left = ctx
            .sh(&b.node, format!("ls -A {} | wc -l", b.path))
            .await?;
        ensure_eq!(left.trim(), "0", "entries left on the wiped brick {}", b.spec());
        replace::reset_brick_commit(&ctx, &vol, i).await?;
    }
    writers.wait_progress(&ctx, 3, Duration::from_secs(60)).await?;
    heal::full(&ctx, &vol).await?;
    heal::wait_no_pending(&ctx, &vol, Duration::from_secs(300)).await?;
    writers.stop_and_validate(&ctx, 0).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;

    let after = tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    let data_only = |t: &tree::Tree| tree::Tree {
        origin: t.origin.clone(),
        entries: t
            .entries
            .iter()
            .filter(|(p, _)| p.starts_with("data"))
            .map(|(p, l)| (p.clone(), l.clone()))
            .collect(),
    };
    tree::ensure_same(&data_only(&before), &data_only(&after))?;
    Ok(())
}
