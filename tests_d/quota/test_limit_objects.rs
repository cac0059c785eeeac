//! An object limit refuses new entries once reached: with `limit-objects /d 10` (the directory
//! itself counts), nine files fill it, `quota list-objects` shows 9 files, 1 directory, nothing
//! available and both limits exceeded, and a tenth file and a new subdirectory are refused with
//! EDQUOT. After `remove-objects` the limit is gone from the list and creating works again; a new
//! limit counts what is there, and the count falls to 0 files when they are removed.
//!
//! Ported from GlusterFS `tests/basic/inode-quota-enforcing.t` (limit-objects 10, nine files,
//! the next create refused, remove-objects, the count after `rm`).
use crate::prelude::*;

pub const CASE: Case = Case::new(802, "quota_limit_objects", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    quota::setup(&ctx, &vol, &m, &["d"]).await?;
    quota::limit_objects(&ctx, &vol, "/d", 10, None).await?;
    let o = quota::object_limit(&ctx, &vol, "/d").await?;
    ensure!(
        o.as_ref()
            .is_some_and(|o| o.hard_limit == 10 && o.files == 0 && o.dirs == 1),
        "list-objects should show /d with a limit of 10, 0 files and itself as 1 directory: {o:?}"
    );

    ctx.sh(
        &m.node,
        format!("for i in $(seq 1 9); do touch {}/d/f$i || exit 1; done", m.path),
    )
    .await?;
    let o = quota::wait_objects(
        &ctx,
        &vol,
        "/d",
        "9 files accounted",
        Duration::from_secs(60),
        |o| o.files == 9,
    )
    .await?;
    ensure!(
        o.dirs == 1 && o.available == 0 && o.soft_exceeded && o.hard_exceeded,
        "with 10 objects under a limit of 10, nothing should be available and both limits \
         exceeded: {o:?}"
    );
    mount::ensure_fails(&ctx, &m, "touch \"$M/d/f10\"", &[quota::EDQUOT]).await?;
    mount::ensure_fails(&ctx, &m, "mkdir \"$M/d/sub\"", &[quota::EDQUOT]).await?;

    quota::remove_objects(&ctx, &vol, "/d").await?;
    let gone = quota::object_limit(&ctx, &vol, "/d").await?;
    ensure!(gone.is_none(), "remove-objects left a limit on /d: {gone:?}");
    ctx.sh(&m.node, format!("touch {p}/d/f10 && mkdir {p}/d/sub", p = m.path))
        .await?;

    quota::limit_objects(&ctx, &vol, "/d", 20, Some(50)).await?;
    let o = quota::wait_objects(
        &ctx,
        &vol,
        "/d",
        "10 files and 2 directories",
        Duration::from_secs(60),
        |o| o.files == 10 && o.dirs == 2,
    )
    .await?;
    ensure!(
        o.hard_limit == 20 && o.soft_limit == 10 && o.soft_exceeded && !o.hard_exceeded,
        "a limit of 20 at 50% over 12 objects: soft exceeded only: {o:?}"
    );
    ctx.sh(&m.node, format!("rm -f {}/d/f*", m.path)).await?;
    quota::wait_objects(
        &ctx,
        &vol,
        "/d",
        "no file left after rm",
        Duration::from_secs(60),
        |o| o.files == 0 && o.dirs == 2,
    )
    .await?;
    Ok(())
}
