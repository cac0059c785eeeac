//! The quota daemon comes back with glusterd: restarting glusterd on every server, one after
//! another, leaves a quota daemon running on each (glusterd starts a new one), `quota list` still
//! answers with the same usage, and the limit is still enforced with EDQUOT.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_self_heal_quota_daemon_after_reboot.py`
//! (quotad running on every node after a node comes back; here glusterd is restarted) and
//! `tests/functional/quota/test_deem_statfs_quotad.py` (quotad up while quota is enabled).
use crate::prelude::*;

pub const CASE: Case = Case::new(813, "quotad_after_glusterd_restart", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(600)
    .disruptive();

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    quota::setup(&ctx, &vol, &m, &["dir"]).await?;
    quota::limit_usage(&ctx, &vol, "/dir", "6MB", None).await?;
    for s in ctx.servers() {
        quota::wait_quotad(&ctx, &s, Duration::from_secs(60)).await?;
    }
    quota::fill_ok(&ctx, &m, "dir/a", 2).await?;
    quota::wait_usage(&ctx, &vol, "/dir", "2 MiB used", Duration::from_secs(60), |l| {
        l.used == 2 * MIB
    })
    .await?;

    for s in ctx.servers() {
        glusterd::restart(&ctx, &s).await?;
        glusterd::wait(&ctx, &s, Duration::from_secs(60)).await?;
        peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
        quota::wait_quotad(&ctx, &s, Duration::from_secs(60)).await?;
    }
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    for s in ctx.servers() {
        ensure!(
            quota::quotad_pid(&ctx, &s).await?.is_some(),
            "no quota daemon on {} after the glusterd restarts",
            s.name()
        );
    }
    quota::wait_usage(
        &ctx,
        &vol,
        "/dir",
        "2 MiB used after the restarts",
        Duration::from_secs(60),
        |l| l.used == 2 * MIB && l.hard_limit == 6 * MIB,
    )
    .await?;
    let f = quota::fill(&ctx, &m, "dir/big", 8).await?;
    ensure!(
        f.over_quota(),
        "8 MiB more under a 6 MB limit after the restarts should be refused: ok={}, {}",
        f.ok,
        f.error
    );
    Ok(())
}
