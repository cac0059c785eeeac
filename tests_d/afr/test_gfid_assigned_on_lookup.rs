//! Gfid assignment by lookup: directories made on the bricks behind GlusterFS's back (one on the
//! first brick only, one on the first two, one on all three) have no gfid; a lookup from the mount
//! gives each one gfid, the same on every brick, creates the missing copies, and the volume's
//! bricks then agree with the mount.
//!
//! Ported from glusto-tests `tests/functional/afr/test_gfid_assignment_on_lookup.py` (directories
//! created on the backend of one, two and three bricks, lookup from the mount, the gfid present
//! and equal on every brick). The tree comparison at the end is added.
use crate::prelude::*;

pub const CASE: Case = Case::new(408, "gfid_assigned_on_lookup", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Replicate.spec()).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;

    // dir<k> exists on the first k bricks only, without a gfid.
    for k in 1..=3 {
        for b in &vol.bricks[..k] {
            ctx.sh(&b.node, format!("mkdir {}", xattr::brick_path(b, &format!("dir{k}"))))
                .await?;
        }
    }
    for k in 1..=3 {
        let x = xattr::on_brick(&ctx, &vol.bricks[0], &format!("dir{k}")).await?;
        ensure!(x.gfid().is_none(), "dir{k} made on the brick already has a gfid: {x:?}");
    }

    ctx.sh(&client, format!("stat {0}/dir1 {0}/dir2 {0}/dir3 > /dev/null", m.path))
        .await?;
    for k in 1..=3 {
        let name = format!("dir{k}");
        let want = xattr::gfid_on_mount(&ctx, &client, &format!("{}/{name}", m.path)).await?;
        for b in &vol.bricks {
            let got = wait_for(
                &ctx,
                &format!("{name} on {} to have a gfid", b.spec()),
                Duration::from_secs(60),
                Duration::from_secs(1),
                || async {
                    let x = xattr::on_brick(&ctx, b, &name).await?;
                    Ok(match x.gfid() {
                        Some(g) => Poll::Ready(g),
                        None => Poll::Pending(format!("{:?}", x.values.keys())),
                    })
                },
            )
            .await?;
            ensure_eq!(got, want, "gfid of {name} on {} and on the mount", b.spec());
        }
    }
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    Ok(())
}
