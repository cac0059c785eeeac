//! An `auth.allow` list survives add-brick and rebalance: the allowed client's data is spread
//! onto the new brick (rebalance runs on the servers, which gluster lets in) and reads back, the
//! other client is still refused by every brick, the new one included. By IP, then by host name.
//!
//! Ported from glusto-tests `tests/functional/authentication/test_auth_allow_with_rebalance.py`
//! (allow client1 by IP, mount, dd files, add-brick, rebalance; again by hostname), with the
//! other client's refusal checked after each rebalance.
use crate::gluster::auth::{self, By, Key};
use crate::prelude::*;

pub const CASE: Case = Case::new(839, "allow_with_rebalance", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 2))
    .timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let mut vol = volume::create(&ctx, VolumeSpec::distribute(1)).await?;
    vol.start_and_wait(&ctx).await?;
    // The lab's bricks share the host's disk, whose free space can sit near DHT's default
    // min-free-disk (10%): rebalance would then refuse to migrate (ENOSPC) for reasons that
    // are the host's, not what this scenario checks.
    vol.set(&ctx, "cluster.min-free-disk", "1%").await?;
    let (c1, c2) = (ctx.client(0)?, ctx.client(1)?);
    let mut sums = Vec::new();
    for (round, by) in [By::Ip, By::Host].into_iter().enumerate() {
        auth::set(&ctx, &vol, Key::Allow, &auth::address(&ctx, &c1, by).await?).await?;
        let m = mount::mount(&ctx, &c1, &vol).await?;
        io::verify(&ctx, &c1, &m.path, &sums).await?;
        sums.extend(
            io::write_files(
                &ctx,
                &c1,
                &m.path,
                &io::files(&format!("r{round}"), 40, 16 << 10),
            )
            .await?,
        );
        vol = dht::add_bricks(&ctx, &vol, &[ctx.server(round + 1)?], &[&m]).await?;
        let progress = dht::rebalance(&ctx, &vol, Duration::from_secs(300)).await?;
        ensure!(
            dht::total_files(&progress) > 0,
            "rebalance onto the brick added with auth.allow {by:?} migrated no file"
        );
        let new = vol.bricks.last().expect("a brick was added");
        ensure!(
            !io::brick_files(&ctx, &new.node, &new.path)
                .await?
                .is_empty(),
            "the new brick {} holds no file after rebalance",
            new.spec()
        );
        dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
        io::verify(&ctx, &c1, &m.path, &sums).await?;
        mount::ensure_refused(&ctx, &c2, &vol, None, RefusalReason::AuthFailed).await?;
        mount::unmount(&ctx, &m).await?;
    }
    Ok(())
}
