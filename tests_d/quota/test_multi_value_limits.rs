//! Limits in every unit and with decimals are stored to the byte: 512KB, 10MB, 1.5GB, 2.5GB,
//! 10GB, 1TB and a plain byte count show as that many bytes in `quota list` (and on each brick's
//! limit xattr); setting a new value on a directory replaces its limit, and `remove` takes it out
//! of the list while the others stay.
//!
//! Ported from glusto-tests `tests/functional/quota/test_multi_value_limit.py` (limits of 1 GB,
//! 1.5 GB, 10 GB on one path, checked in `quota list`) and GlusterFS `tests/basic/quota.t`
//! (a limit changed and removed).
use crate::prelude::*;

pub const CASE: Case = Case::new(814, "quota_multi_value_limits", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(3)).await?;
    let cases: [(&str, &str, u64); 7] = [
        ("k", "512KB", 512 * KIB),
        ("m", "10MB", 10 * MIB),
        ("g15", "1.5GB", 3 * GIB / 2),
        ("g25", "2.5GB", 5 * GIB / 2),
        ("g10", "10GB", 10 * GIB),
        ("t", "1TB", 1 << 40),
        ("b", "1234567", 1234567),
    ];
    let dirs: Vec<&str> = cases.iter().map(|c| c.0).collect();
    quota::setup(&ctx, &vol, &m, &dirs).await?;
    for (d, v, _) in cases {
        quota::limit_usage(&ctx, &vol, &format!("/{d}"), v, None).await?;
    }
    let rows = quota::list(&ctx, &vol).await?;
    for (d, v, want) in cases {
        let row = rows.iter().find(|r| r.path == format!("/{d}"));
        ensure!(
            row.is_some_and(|r| r.hard_limit == want),
            "limit {v} on /{d} should list as {want} bytes: {row:?}"
        );
        let x = xattr::on_brick(&ctx, &vol.bricks[0], d).await?;
        let set = quota::limit_xattr(&x);
        ensure!(
            set.is_some_and(|(hard, _)| hard == want),
            "the limit xattr of /{d} on {} should be {want} bytes: {set:?}",
            vol.bricks[0].spec()
        );
    }

    quota::limit_usage(&ctx, &vol, "/g10", "1.5GB", Some(40)).await?;
    let g = quota::limit(&ctx, &vol, "/g10").await?;
    ensure!(
        g.as_ref()
            .is_some_and(|g| g.hard_limit == 3 * GIB / 2 && g.soft_limit_percent == 40.0),
        "a new limit on /g10 should replace the old one (1.5 GiB, 40%): {g:?}"
    );
    quota::remove(&ctx, &vol, "/t").await?;
    let left: Vec<String> = quota::list(&ctx, &vol)
        .await?
        .into_iter()
        .map(|r| r.path)
        .collect();
    ensure_eq!(left.len(), cases.len() - 1, "limits left after removing /t: {left:?}");
    ensure!(!left.contains(&"/t".to_string()), "/t still listed after remove: {left:?}");
    Ok(())
}
