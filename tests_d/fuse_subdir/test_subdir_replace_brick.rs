//! Directory mounts on two clients keep serving through replace-brick: the new brick (an empty
//! directory) is healed from its partners, and both mounts read every file written before and
//! write more; afterwards each replica set agrees brick for brick.
//!
//! Ported from glusto-tests `tests/functional/fuse_subdir/test_fusesubdir_with_replacebrick.py`
//! (50 directories, subdir25 on client1 and subdir15 on client2, IO, replace-brick, the subdirs
//! stay mounted and their data can be read). Its per-directory `auth.allow` is left out: in
//! GlusterFS 10.3 replace-brick on a volume with a per-directory allow list fails (glusterd
//! appends the servers' names to the list, `/subdir25(..),server1,...`, which the bricks reject
//! as not a valid internet-address-list; the commit fails), as add-brick does (see 851).
use crate::prelude::*;

pub const CASE: Case = Case::new(855, "subdir_replace_brick", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(500);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, root) = mount::volume_mounted(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    ctx.sh(
        &root.node,
        format!("cd {} && mkdir $(seq -f subdir%g 1 50)", root.path),
    )
    .await?;
    mount::unmount(&ctx, &root).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let m1 = mount::mount_subdir(&ctx, &c1, &vol, "subdir25").await?;
    let m2 = mount::mount_subdir(&ctx, &c2, &vol, "subdir15").await?;
    let mut s1 = io::write_files(&ctx, &c1, &m1.path, &io::files("a", 20, 32 << 10)).await?;
    let mut s2 = io::write_files(&ctx, &c2, &m2.path, &io::files("b", 20, 32 << 10)).await?;

    let vol = replace::replace_brick(&ctx, &vol, 1, None).await?;
    for (m, s) in [(&m1, &mut s1), (&m2, &mut s2)] {
        brick::wait_client_up(&ctx, m, &vol, Duration::from_secs(90)).await?;
        io::verify(&ctx, &m.node, &m.path, s).await?;
        s.extend(io::write_files(&ctx, &m.node, &m.path, &io::files("after", 5, 8192)).await?);
    }
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    for (m, s) in [(&m1, &s1), (&m2, &s2)] {
        io::verify(&ctx, &m.node, &m.path, s).await?;
    }
    let root = mount::mount(&ctx, &c1, &vol).await?;
    tree::ensure_volume_matches(&ctx, &vol, &root, Scope::FULL).await?;
    Ok(())
}
