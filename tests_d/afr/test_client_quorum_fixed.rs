//! Client quorum `fixed`: on replica 3 with `quorum-count 2`, writes go on with one brick of each
//! set down and fail with ENOTCONN with two down; lowering `quorum-count` to 1 allows writes with
//! two down, and a count above the replica count is refused by the CLI. Once the bricks are back
//! the writes made with one brick up are healed to the others.
//!
//! Ported from glusto-tests `tests/functional/afr/test_client_side_quorum_with_fixed_for_cross3.py`
//! (quorum-count 1, 2, 3 with bricks killed; writes allowed or refused) and `test_client_side_quorum_with_fixed_validate_max_bricks.py` (a count above the
//! replica count refused).
use crate::gluster::mount::WriteExpect;
use crate::prelude::*;

/// A write refused for lack of client quorum: GlusterFS 10 fails every operation on the
/// volume with ENOTCONN then (older releases said EROFS).
const NO_QUORUM: WriteExpect = WriteExpect::Refused("Transport endpoint is not connected");

pub const CASE: Case = Case::new(417, "client_quorum_fixed", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(&[VolumeType::Replicate, VolumeType::DistributedReplicate])
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.set(&ctx, "cluster.quorum-type", "fixed").await?;
    vol.set(&ctx, "cluster.quorum-count", "2").await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let too_many = vol.set(&ctx, "cluster.quorum-count", "4").await;
    ensure!(too_many.is_err(), "quorum-count 4 on replica 3 should be refused: {too_many:?}");
    ensure_eq!(vol.get(&ctx, "cluster.quorum-count").await?, "2", "quorum-count after the refusal");

    brick::take_down(&ctx, &vol, Select::Nth(2)).await?;
    mount::ensure_write(&ctx, &m, "one-down", WriteExpect::Allowed).await?;
    brick::take_down(&ctx, &vol, Select::Nth(1)).await?;
    mount::ensure_write(&ctx, &m, "two-down", NO_QUORUM).await?;

    vol.set(&ctx, "cluster.quorum-count", "1").await?;
    // The client takes the new graph before the next write counts.
    wait_for(&ctx, "a write to be allowed with quorum-count 1", Duration::from_secs(30), Duration::from_secs(2), || async {
        Ok(match mount::ensure_write(&ctx, &m, "count-one", WriteExpect::Allowed).await {
            Ok(()) => Poll::Ready(()),
            Err(e) => Poll::Pending(e.to_string()),
        })
    })
    .await?;

    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    let t = tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    ensure!(t.entries.contains_key("count-one"), "count-one missing after heal");
    ensure!(!t.entries.contains_key("two-down"), "two-down exists although refused");
    Ok(())
}

