//! Crossing a soft limit is reported but not enforced: under a 10 MB limit with a 50% soft limit
//! and `alert-time 1s`, 3 MiB leave "Soft-limit exceeded" at No and no brick logs an alert for the
//! directory; 3 MiB more turn it to Yes (hard limit still No), a brick logs the crossing for the
//! directory, writing is still allowed, and a write made once alert-time has passed is logged
//! again: "Usage is above soft limit". `default-soft-limit 30%` gives that
//! soft limit to a limit set without one.
//!
//! Ported from glusto-tests `tests/functional/quota/test_alert_time_out.py` (alert-time, soft limit
//! crossed, the alert in the brick log) and `test_quota_unique_soft_limit.py` (soft limit per
//! directory, crossed and shown in `quota list`), and GlusterFS `tests/bugs/quota/bug-1087198.t`
//! (the soft-limit message in the brick logs once the limit is crossed).
use crate::prelude::*;

pub const CASE: Case = Case::new(803, "quota_soft_limit_alert", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const MIB: u64 = 1 << 20;
const ALERT: &str = "Usage is above soft limit";
const SOFT: &str = "soft limit: ";

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    quota::setup(&ctx, &vol, &m, &["soft", "other"]).await?;
    quota::alert_time(&ctx, &vol, "1s").await?;
    ensure_eq!(
        vol.get(&ctx, "features.alert-time").await?,
        "1s",
        "features.alert-time after `quota alert-time 1s`"
    );
    quota::limit_usage(&ctx, &vol, "/soft", "10MB", Some(50)).await?;

    quota::fill_ok(&ctx, &m, "soft/a", 3).await?;
    let l = quota::wait_usage(
        &ctx,
        &vol,
        "/soft",
        "3 MiB used",
        Duration::from_secs(60),
        |l| l.used == 3 * MIB,
    )
    .await?;
    ensure!(
        l.soft_limit == 5 * MIB && l.soft_limit_percent == 50.0 && !l.soft_exceeded,
        "3 MiB under a 5 MiB soft limit should not exceed it: {l:?}"
    );
    let early = quota::brick_log_lines(&ctx, &vol, &[SOFT, "used by /soft"]).await?;
    ensure!(
        early.is_empty(),
        "a brick logged a soft-limit alert before the soft limit was crossed: {early:?}"
    );

    quota::fill_ok(&ctx, &m, "soft/b", 3).await?;
    let l = quota::wait_usage(
        &ctx,
        &vol,
        "/soft",
        "6 MiB used",
        Duration::from_secs(60),
        |l| l.used == 6 * MIB,
    )
    .await?;
    ensure!(
        l.soft_exceeded && !l.hard_exceeded && l.available == 4 * MIB,
        "6 MiB over a 5 MiB soft limit: soft exceeded Yes, hard No, 4 MiB available: {l:?}"
    );
    // The writes that took /soft over its soft limit are logged ("Usage crossed soft limit", or
    // already "Usage is above soft limit" when the brick's count passed it between two of dd's
    // blocks); a write made once alert-time has passed since is logged again (bug-1087198.t's
    // two steps: grep, wait for the alert time, write, grep).
    let first = wait_for(
        &ctx,
        "a soft-limit line for /soft in a brick log",
        Duration::from_secs(30),
        Duration::from_secs(1),
        || async {
            let l = quota::brick_log_lines(&ctx, &vol, &[SOFT, "used by /soft"]).await?;
            Ok(if l.is_empty() {
                Poll::Pending("no soft-limit line".into())
            } else {
                Poll::Ready(l)
            })
        },
    )
    .await?;
    ctx.step(format!("crossing: {}", first[0]));
    let before = first.iter().filter(|l| l.contains(ALERT)).count();
    mount::ensure_write(&ctx, &m, "soft/c", mount::WriteExpect::Allowed).await?;
    let writes = std::sync::atomic::AtomicU32::new(0);
    let alerts = wait_for(
        &ctx,
        "a new soft-limit alert for /soft in a brick log, a write every 2 s",
        Duration::from_secs(40),
        Duration::from_secs(2),
        || async {
            let l = quota::brick_log_lines(&ctx, &vol, &[ALERT, "used by /soft"]).await?;
            if l.len() > before {
                return Ok(Poll::Ready(l));
            }
            let n = writes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            mount::ensure_write(&ctx, &m, &format!("soft/later-{n}"), mount::WriteExpect::Allowed)
                .await?;
            Ok(Poll::Pending(format!(
                "{} alert line(s), as before {} more write(s)",
                l.len(),
                n + 1
            )))
        },
    )
    .await?;
    ctx.step(format!("alert: {}", alerts[alerts.len() - 1]));

    quota::default_soft_limit(&ctx, &vol, 30).await?;
    quota::limit_usage(&ctx, &vol, "/other", "10MB", None).await?;
    let o = quota::limit(&ctx, &vol, "/other").await?;
    ensure!(
        o.as_ref()
            .is_some_and(|o| o.soft_limit_percent == 30.0 && o.soft_limit == 3 * MIB),
        "a limit set without a soft limit after default-soft-limit 30% should have it: {o:?}"
    );
    let s = quota::limit(&ctx, &vol, "/soft").await?;
    ensure!(
        s.as_ref().is_some_and(|s| s.soft_limit_percent == 50.0),
        "the explicit 50% soft limit on /soft should stay: {s:?}"
    );
    Ok(())
}
