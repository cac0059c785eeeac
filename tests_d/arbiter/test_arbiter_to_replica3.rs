//! Turning an arbiter volume into replica 3: the arbiter is removed (`remove-brick replica 2`) and
//! an empty data brick added (`add-brick replica 3`). With every heal off, the existing bricks'
//! roots at once blame the new brick (`trusted.afr.<vol>-client-2` pending data, metadata and
//! entry); with the daemon on, heal copies everything onto it: the new brick holds every file
//! with its contents and user xattr, and no counter is left anywhere.
//!
//! Ported from GlusterFS `tests/basic/afr/add-brick-self-heal.t` (heals off, five files and a
//! user xattr, `add-brick replica 3`, the pending xattrs on the old bricks' roots, heal, `ls` and
//! contents equal, the xattr on the new brick, the counters zero), starting from an arbiter
//! volume reduced to replica 2 as `tests/basic/afr/arbiter-remove-brick.t` does.
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(514, "arbiter_to_replica3", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::arbiter(1)).await?;
    vol.start_and_wait(&ctx).await?;
    heal::set_self_heal(&ctx, &vol, false, false).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("file", 5, 16 * 1024)).await?;
    fileops::set_user_xattr(&ctx, &client, &format!("{}/file-4", m.path), "test", "qwerty")
        .await?;

    let arb = vol.bricks[2].node.clone();
    let vol = arbiter::remove_bricks(&ctx, &vol, &[2], Layout::Replicate { replica: 2 }).await?;
    let vol = arbiter::add_bricks(&ctx, &vol, Layout::Replicate { replica: 3 }, &[arb]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    let info = vol.info(&ctx).await?;
    ensure_eq!(
        (info.brick_count, info.replica_count, info.arbiter_count),
        (3, 3, 0),
        "bricks, replica and arbiter count after adding a data brick"
    );
    for i in [0, 1] {
        let p = xattr::on_brick(&ctx, &vol.bricks[i], "/").await?.afr(&vol.name, 2).unwrap_or_default();
        ensure!(
            p.data > 0 && p.metadata > 0 && p.entry > 0,
            "the root of {} should blame the new brick for data, metadata and entries: {p:?}",
            vol.bricks[i].spec()
        );
    }

    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    let new = &vol.bricks[2];
    io::verify(&ctx, &new.node, &new.path, &sums).await?;
    let x = xattr::on_brick(&ctx, new, "file-4").await?;
    ensure_eq!(x.get("user.test"), Some(&b"qwerty"[..]), "user.test of file-4 on {}", new.spec());
    arbiter::ensure_healed(&ctx, &vol, &m).await?;
    Ok(())
}
