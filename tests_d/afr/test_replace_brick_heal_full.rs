//! Replace-brick under I/O, healed by a full heal: with the self-heal daemon and client heals off,
//! a brick of a replica 3 volume is replaced by an empty one while a background writer keeps
//! writing; the surviving bricks blame the new one for the root's entries and metadata. The daemon
//! back on and `heal full` fill the new brick: it holds every name, content and user xattr of the
//! mount, nothing stays blamed, and every file the writer reports written reads back intact.
//!
//! Ported from GlusterFS `tests/basic/afr/replace-brick-self-heal.t` (heals off, files and a user
//! xattr, `replace-brick ... commit force`, pending xattrs on the root of the good brick for the
//! replaced one, heal, the new brick holds the names, data and xattr, the pending xattr cleared),
//! with the I/O kept running through the replacement as glusto-tests
//! `tests/functional/afr/test_replace_brick_self_heal_io_in_progress.py` does, and `heal full`.
use crate::prelude::*;

pub const CASE: Case = Case::new(405, "replace_brick_heal_full_under_io", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.timeout_secs(600);

/// The brick replaced.
const REPLACED: usize = 1;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Replicate.spec()).await?;
    heal::set_self_heal(&ctx, &vol, false, false).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("file", 5, 100_000)).await?;
    fileops::set_user_xattr(&ctx, &client, &format!("{}/file-4", m.path), "test", "qwerty")
        .await?;

    let writers = bgio::start_on_mounts(&ctx, &[&m], "io", bgio::BgIoSpec::default()).await?;
    writers.wait_progress(&ctx, 5, Duration::from_secs(60)).await?;
    let vol = replace::replace_brick(&ctx, &vol, REPLACED, None).await?;
    let root = xattr::on_brick(&ctx, &vol.bricks[0], "/").await?;
    let p = root.afr(&vol.name, REPLACED).unwrap_or_default();
    ensure!(
        p.entry > 0 && p.metadata > 0,
        "the root of {} should blame the new brick #{REPLACED} for entries and metadata: {p:?}",
        vol.bricks[0].spec()
    );
    writers.wait_progress(&ctx, 5, Duration::from_secs(60)).await?;

    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::full(&ctx, &vol).await?;
    heal::wait_no_pending(&ctx, &vol, Duration::from_secs(240)).await?;
    writers.wait_progress(&ctx, 5, Duration::from_secs(60)).await?;
    writers.stop_and_validate(&ctx, 0).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;

    let new = &vol.bricks[REPLACED];
    io::verify(&ctx, &new.node, &new.path, &sums).await?;
    let x = xattr::on_brick(&ctx, new, "file-4").await?;
    ensure_eq!(
        x.get("user.test"),
        Some(&b"qwerty"[..]),
        "user.test of file-4 on the new brick {}",
        new.spec()
    );
    let root = xattr::on_brick(&ctx, &vol.bricks[0], "/").await?;
    ensure!(
        root.afr_clean(&vol.name),
        "the root of {} still blames a brick after heal: {:?}",
        vol.bricks[0].spec(),
        root.afr_all(&vol.name)
    );
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    Ok(())
}
