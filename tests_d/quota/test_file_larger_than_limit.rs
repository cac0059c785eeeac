//! A single file bigger than its directory's limit stops at the limit: writing 20 MiB into a
//! directory limited to 10 MB fails with EDQUOT, the file left behind holds about the limit (no
//! more than 2 MiB over it: the write in flight), and `quota list` shows that size as used
//! (within the one 1 MiB block the refused write had in flight: the client may count bytes the
//! bricks refused), nothing available, both limits exceeded; after the file is removed the
//! directory takes a new write.
//!
//! Ported from glusto-tests `tests/functional/quota/test_quota_file_larger_than_limit.py`
//! (a 20 MB file under a 10 MB limit with timeouts 0 fails; `quota list` fields checked).
use crate::prelude::*;

pub const CASE: Case = Case::new(801, "quota_file_larger_than_limit", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    quota::setup(&ctx, &vol, &m, &["foo"]).await?;
    quota::limit_usage(&ctx, &vol, "/foo", "10MB", None).await?;

    let f = quota::fill(&ctx, &m, "foo/big", 20).await?;
    ensure!(
        f.over_quota(),
        "a 20 MiB file under a 10 MB limit should fail with \"{}\": ok={}, {}",
        quota::EDQUOT,
        f.ok,
        f.error
    );
    ensure!(
        f.size >= 8 * MIB && f.size <= 12 * MIB,
        "the refused file should stop near the 10 MiB limit, it holds {} bytes",
        f.size
    );
    let l = quota::wait_usage(
        &ctx,
        &vol,
        "/foo",
        "used within one 1 MiB block of the file's size",
        Duration::from_secs(60),
        |l| l.used >= 8 * MIB && l.used.abs_diff(f.size) <= MIB,
    )
    .await?;
    ensure!(
        l.hard_limit == 10 * MIB && l.hard_exceeded && l.available == 0,
        "quota list after the refused file: {l:?}"
    );

    ctx.sh(&m.node, format!("rm -f {}/foo/big", m.path)).await?;
    quota::wait_usage(
        &ctx,
        &vol,
        "/foo",
        "nothing used after the removal",
        Duration::from_secs(60),
        |l| l.used == 0 && !l.hard_exceeded,
    )
    .await?;
    let again = quota::fill_ok(&ctx, &m, "foo/small", 4).await?;
    ensure_eq!(again, 4 * MIB, "size of the write after the removal");
    Ok(())
}
