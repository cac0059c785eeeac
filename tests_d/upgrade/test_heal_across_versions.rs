//! Heal across versions: in a cluster with one server upgraded to GlusterFS 11.1 and two on 10.3,
//! a brick on an old server goes down while a client writes, comes back, and the self-heal
//! daemons of both versions bring it level; then the same with the upgraded server's brick. The
//! bricks of both versions end identical, with nothing pending or in split-brain.
//!
//! GlusterFS's upgrade guide (glusterdocs `docs/Upgrade-Guide/generic-upgrade-procedure.md`: heal
//! must complete between servers of different versions before the next server is upgraded —
//! the step a rolling upgrade depends on).
use crate::prelude::*;

pub const CASE: Case = Case::new(607, "heal_between_old_and_new_servers", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1).gluster_below(11, 0))
.disruptive()
.timeout_secs(900);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let new = ctx.server(2)?;
    upgrade::node(&ctx, &new, upgrade::NEXT_RELEASE).await?;
    vol.wait_online(&ctx, Duration::from_secs(180)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;

    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let mut all = io::write_files(&ctx, &client, &m.path, &io::files("base", 4, 100_000)).await?;
    // Brick 0 lives on an old server, brick 2 on the upgraded one.
    for (round, down) in [0usize, 2].into_iter().enumerate() {
        brick::kill(&ctx, &vol, down).await?;
        let during = io::write_files(
            &ctx,
            &client,
            &m.path,
            &io::files(&format!("round{round}"), 5, 120_000),
        )
        .await?;
        // The bricks that stayed up hold the pending entries (the one down cannot be asked).
        let pending: u64 = heal::info(&ctx, &vol)
            .await?
            .iter()
            .filter_map(|b| b.entries)
            .sum();
        ensure!(
            pending > 0,
            "nothing pending heal while brick {} is down",
            vol.bricks[down].spec()
        );
        brick::bring_back(&ctx, &vol).await?;
        heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
        all.extend(during);
        for b in &vol.bricks {
            io::verify(&ctx, &b.node, &b.path, &all).await?;
        }
    }
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    tree::ensure_volume_matches(&ctx, &vol, &m, tree::Scope::FULL).await?;
    let (old_v, new_v) = (
        upgrade::version(&ctx, &ctx.server(0)?).await?,
        upgrade::version(&ctx, &new).await?,
    );
    ensure!(old_v < new_v, "versions {old_v} and {new_v}: the cluster was not mixed");
    Ok(())
}
