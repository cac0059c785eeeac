//! Directory mounts on two clients keep serving through add-brick + rebalance and then
//! remove-brick (migrate + commit): every file written before reads back with its checksum on
//! both, and new files can be written after each change.
//!
//! Ported from glusto-tests `tests/functional/fuse_subdir/test_fusesubdir_with_addbrick.py`
//! (subdir1 on client1, subdir2 on client2, IO, add-brick and rebalance) and
//! `test_fusesubdir_with_removebrick.py` (remove-brick; the subdirs stay mounted). Their
//! per-directory `auth.allow` is left out: in GlusterFS 10.3 add-brick on a volume with a
//! per-directory allow list fails (glusterd appends the servers' names to the new brick's list,
//! `/subdir1(..),server1,...`, which the brick then rejects as not a valid
//! internet-address-list, and the commit fails).
use crate::prelude::*;

pub const CASE: Case = Case::new(851, "subdir_add_remove_brick", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, root) = mount::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    // The lab's bricks share the host's disk, whose free space can sit near DHT's default
    // min-free-disk (10%): rebalance would then refuse to migrate (ENOSPC) for reasons that
    // are the host's, not what this scenario checks.
    vol.set(&ctx, "cluster.min-free-disk", "1%").await?;
    ctx.sh(
        &root.node,
        format!("mkdir {r}/subdir1 {r}/subdir2", r = root.path),
    )
    .await?;
    mount::unmount(&ctx, &root).await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);

    let m1 = mount::mount_subdir(&ctx, &c1, &vol, "subdir1").await?;
    let m2 = mount::mount_subdir(&ctx, &c2, &vol, "subdir2").await?;
    let mut s1 = io::write_files(&ctx, &c1, &m1.path, &io::files("a", 30, 16 << 10)).await?;
    let mut s2 = io::write_files(&ctx, &c2, &m2.path, &io::files("b", 30, 16 << 10)).await?;

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m1, &m2]).await?;
    let progress = dht::rebalance(&ctx, &vol, Duration::from_secs(300)).await?;
    ensure!(
        dht::total_files(&progress) > 0,
        "rebalance migrated no file into the new brick"
    );
    for (m, s) in [(&m1, &s1), (&m2, &s2)] {
        dht::wait_client_up(&ctx, m, &vol, Duration::from_secs(60)).await?;
        io::verify(&ctx, &m.node, &m.path, s).await?;
    }
    s1.extend(io::write_files(&ctx, &c1, &m1.path, &io::files("after-add-a", 10, 8192)).await?);
    s2.extend(io::write_files(&ctx, &c2, &m2.path, &io::files("after-add-b", 10, 8192)).await?);

    let vol = dht::remove_bricks(&ctx, &vol, &[0], Duration::from_secs(300)).await?;
    for (m, s) in [(&m1, &s1), (&m2, &s2)] {
        ensure!(
            mount::is_mounted(&ctx, &m.node, &m.path).await?,
            "{}:{} is no longer mounted after remove-brick",
            m.node.name(),
            m.path
        );
        io::verify(&ctx, &m.node, &m.path, s).await?;
        mount::ensure_write(&ctx, m, "after-remove", mount::WriteExpect::Allowed).await?;
    }
    ensure_eq!(vol.bricks.len(), 2, "bricks after remove-brick");
    Ok(())
}
