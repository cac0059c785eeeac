//! A mount of a directory (`server:/vol/d1`) sees only that directory: its root lists d1's
//! entries and nothing of the volume's root or of a sibling; `..` from its root leaves the
//! mount for the client's own filesystem, never the volume's root; a path that climbs out
//! (`sub/../../top`) does not reach the volume's files. What it writes lands under d1 of the
//! volume, and df reports the volume's size.
//!
//! Ported from glusto-tests `tests/functional/fuse_subdir/test_subdir_mount.py` (a sub-directory
//! made through a volume mount is mountable on a client), with the confinement checked.
use crate::prelude::*;

pub const CASE: Case = Case::new(845, "subdir_mount_confined", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, root) = mount::volume_mounted(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    let c1 = root.node.clone();
    ctx.sh(&c1, format!("mkdir -p {r}/d1/sub {r}/d2", r = root.path))
        .await?;
    let top = io::write_files(&ctx, &c1, &root.path, &io::files("top", 3, 4096)).await?;
    let inside = io::write_files(
        &ctx,
        &c1,
        &format!("{}/d1", root.path),
        &io::files("in", 3, 4096),
    )
    .await?;
    io::write_files(
        &ctx,
        &c1,
        &format!("{}/d2", root.path),
        &io::files("sibling", 2, 4096),
    )
    .await?;

    let c2 = ctx.client(1)?;
    let m = mount::mount_subdir(&ctx, &c2, &vol, "d1").await?;
    let listed = ctx.sh(&c2, format!("ls -A {}", m.path)).await?;
    let mut names: Vec<&str> = listed.split_whitespace().collect();
    names.sort_unstable();
    ensure_eq!(
        names,
        vec!["in-0", "in-1", "in-2", "sub"],
        "entries at the root of the d1 mount"
    );
    io::verify(&ctx, &c2, &m.path, &inside).await?;

    // Nothing above d1 is reachable through the mount.
    ensure!(
        io::present(&ctx, &c2, &m.path, &top).await?.is_empty(),
        "files of the volume's root are visible in the d1 mount"
    );
    let climb = mount::attempt(
        &ctx,
        &c2,
        &m.path,
        "cat \"$M/sub/../../top-0\"",
        Duration::from_secs(30),
    )
    .await?;
    ensure!(
        !climb.success(),
        "sub/../../top-0 from the d1 mount read the volume root's file"
    );
    let parent = m.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("/");
    let up = ctx
        .sh(
            &c2,
            format!("stat -c %d:%i {p}/.. {parent}; ls -A {p}/..", p = m.path),
        )
        .await?;
    let ids: Vec<&str> = up.lines().take(2).collect();
    ensure!(
        ids.len() == 2 && ids[0] == ids[1],
        "`..` of the d1 mount's root is not the client's {parent} (device:inode {ids:?})"
    );
    ensure!(
        !up.lines().any(|l| l == "top-0" || l == "d2"),
        "`..` of the d1 mount lists the volume's root: {up}"
    );
    // Writes land under d1 of the volume.
    let new = io::write_files(&ctx, &c2, &m.path, &io::files("from-subdir", 2, 8192)).await?;
    io::verify(&ctx, &c1, &format!("{}/d1", root.path), &new).await?;
    ensure!(
        io::present(&ctx, &c1, &root.path, &new).await?.is_empty(),
        "files written through the d1 mount appeared at the volume's root"
    );

    let df = |p: &str| format!("df -B1 --output=size {p} | tail -1");
    let size_root = ctx.sh(&c1, df(&root.path)).await?;
    let size_sub = ctx.sh(&c2, df(&m.path)).await?;
    ensure_eq!(
        size_sub.trim(),
        size_root.trim(),
        "df size of the d1 mount against the volume's"
    );
    Ok(())
}
