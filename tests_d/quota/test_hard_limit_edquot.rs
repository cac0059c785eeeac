//! Writing into a directory beyond its usage limit is refused with EDQUOT ("Disk quota exceeded")
//! once the accounting reaches the limit: 1 MiB files go in until the write that crosses 10 MB
//! fails, `quota list` then reports the sum of the file sizes seen on the mount as used, nothing
//! available and both limits exceeded, a further small write into the directory is refused while
//! one next to it (no limit) is allowed.
//!
//! Ported from GlusterFS `tests/basic/quota.t` (a 10 MB limit with soft and hard timeouts 0
//! refuses a bigger write) and glusto-tests `tests/functional/quota/test_quota_volume_subdir_limits.py`
//! (data written into a limited directory until the limit, then used and available checked in
//! `quota list`), over the volume-type matrix.
use crate::prelude::*;

pub const CASE: Case = Case::new(800, "quota_hard_limit_edquot", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(&[
        VolumeType::Replicate,
        VolumeType::DistributedReplicate,
        VolumeType::Disperse,
    ])
    .timeout_secs(400);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, ctx.matrix_spec()?).await?;
    quota::setup(&ctx, &vol, &m, &["foo", "free"]).await?;
    quota::limit_usage(&ctx, &vol, "/foo", "10MB", None).await?;
    let l = quota::limit(&ctx, &vol, "/foo").await?;
    ensure!(
        l.as_ref().is_some_and(|l| l.hard_limit == 10 * MIB
            && l.used == 0
            && !l.soft_exceeded
            && !l.hard_exceeded),
        "quota list should show /foo with a 10 MiB hard limit, nothing used: {l:?}"
    );

    let mut written = 0;
    let mut refused = None;
    for i in 0..20 {
        let f = quota::fill(&ctx, &m, &format!("foo/f{i}"), 1).await?;
        written += f.size;
        if !f.ok {
            ensure!(
                f.over_quota(),
                "writing foo/f{i} failed, but not with \"{}\": {}",
                quota::EDQUOT,
                f.error
            );
            refused = Some(i);
            break;
        }
    }
    let Some(at) = refused else {
        return Err(TestError::Check(format!(
            "20 MiB written into /foo with a 10 MB limit, none refused with \"{}\"",
            quota::EDQUOT
        )));
    };
    ctx.step(format!("file {at} refused; {written} bytes in /foo"));
    ensure!(
        (9..=12).contains(&at),
        "the write refused should be around the 10th MiB (the limit), it was file {at}"
    );

    let l = quota::wait_usage(
        &ctx,
        &vol,
        "/foo",
        "used equals the bytes written",
        Duration::from_secs(60),
        |l| l.used == written,
    )
    .await?;
    ensure!(
        l.hard_exceeded && l.soft_exceeded && l.available == 0,
        "over the limit, quota list should show both limits exceeded and nothing available: {l:?}"
    );
    mount::ensure_write(&ctx, &m, "foo/more", mount::WriteExpect::Refused(quota::EDQUOT)).await?;
    mount::ensure_write(&ctx, &m, "free/more", mount::WriteExpect::Allowed).await?;
    Ok(())
}
