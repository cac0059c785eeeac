//! Quota's bookkeeping stays on the bricks: through the mount `getfattr` of a limited directory and
//! of a file in it shows no quota or pgfid attribute, and a client cannot set or remove the limit
//! xattr (`setfattr` fails); the bricks still hold the limit as it was set, the list still shows
//! it, and renaming a file inside the directory leaves the usage unchanged.
//!
//! Ported from GlusterFS `tests/basic/quota.t` (quota and pgfid xattrs filtered on the mount,
//! setfattr and removexattr of `trusted.glusterfs.quota.limit-set` refused, usage across a rename).
use crate::prelude::*;

pub const CASE: Case = Case::new(815, "quota_xattrs_hidden", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    quota::setup(&ctx, &vol, &m, &["dir"]).await?;
    quota::limit_usage(&ctx, &vol, "/dir", "10MB", None).await?;
    quota::fill_ok(&ctx, &m, "dir/f", 2).await?;
    quota::wait_usage(&ctx, &vol, "/dir", "2 MiB used", Duration::from_secs(60), |l| {
        l.used == 2 * MIB
    })
    .await?;

    for rel in ["dir", "dir/f"] {
        let seen = ctx
            .sh(
                &m.node,
                format!("getfattr -d -e hex -m . {}/{rel} 2>&1 || true", m.path),
            )
            .await?;
        ensure!(
            !seen.contains("quota") && !seen.contains("pgfid"),
            "quota xattrs of {rel} are visible on the mount: {seen}"
        );
    }
    let key = "trusted.glusterfs.quota.limit-set";
    mount::ensure_fails(
        &ctx,
        &m,
        &format!("setfattr -n {key} -v 10 \"$M/dir\""),
        &["Operation not permitted", "Permission denied", "not supported"],
    )
    .await?;
    mount::ensure_fails(
        &ctx,
        &m,
        &format!("setfattr -x {key} \"$M/dir\""),
        &["Operation not permitted", "Permission denied", "No such attribute", "not supported"],
    )
    .await?;
    for b in &vol.bricks {
        let set = quota::limit_xattr(&xattr::on_brick(&ctx, b, "dir").await?);
        ensure!(
            set.is_some_and(|(hard, _)| hard == 10 * MIB),
            "after the client's attempts {} should still hold the 10 MiB limit: {set:?}",
            b.spec()
        );
    }
    let l = quota::limit(&ctx, &vol, "/dir").await?;
    ensure!(
        l.as_ref().is_some_and(|l| l.hard_limit == 10 * MIB),
        "quota list after the client's attempts: {l:?}"
    );

    fileops::rename(&ctx, &m.node, &format!("{}/dir/f", m.path), &format!("{}/dir/g", m.path))
        .await?;
    quota::wait_usage(&ctx, &vol, "/dir", "2 MiB after the rename", Duration::from_secs(60), |l| {
        l.used == 2 * MIB
    })
    .await?;
    Ok(())
}
