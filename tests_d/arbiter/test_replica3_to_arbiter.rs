//! Converting replica 3 to an arbiter volume: the third brick of each replica set is removed
//! (`remove-brick replica 2 ... force`) and a new empty brick added to each set as its arbiter
//! (`add-brick replica 3 arbiter 1`). Heal fills the arbiters with every name and no data, the
//! volume reports an arbiter count of 1, nothing is in split-brain and the data bricks still
//! agree with the mount.
//!
//! Ported from glusto-tests `tests/functional/arbiter/brick_cases/test_replica3_to_arbiter.py`
//! (`test_replicated_to_arbiter_volume`: shrink the replica count by one, expand with an arbiter
//! brick per set, heal, no split-brain), with a small tree of files instead of a kernel untar.
//! Runs on 1 x 3 and 2 x 3, as the source does.
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(513, "replica3_to_arbiter", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(&[VolumeType::Replicate, VolumeType::DistributedReplicate])
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = arbiter::mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    let total =
        fileops::deep_tree(&ctx, &client, &format!("{}/tree", m.path), 2, 2, 2, 16 * 1024).await?
            as usize;
    let before = tree::of_mount(&ctx, &m, Scope::FULL).await?;

    let sets = brick::sets(&vol);
    let thirds: Vec<usize> = sets.iter().map(|s| s[2]).collect();
    let two = match vol.layout {
        Layout::DistributedReplicate { sets, .. } => Layout::DistributedReplicate { replica: 2, sets },
        _ => Layout::Replicate { replica: 2 },
    };
    let on: Vec<Node> = thirds.iter().map(|&i| vol.bricks[i].node.clone()).collect();
    let vol = arbiter::remove_bricks(&ctx, &vol, &thirds, two).await?;
    let vol = arbiter::add_bricks(&ctx, &vol, Layout::Arbiter { sets: sets.len() }, &on).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    let info = vol.info(&ctx).await?;
    ensure_eq!(
        (info.brick_count, info.replica_count, info.arbiter_count),
        (3 * sets.len(), 3, 1),
        "bricks, replica and arbiter count after the conversion"
    );
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    heal::full(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    let (c, v) = (&ctx, &vol);
    wait_for(&ctx, "the arbiters to hold every name", Duration::from_secs(120), Duration::from_secs(2), move || async move {
        let n = arbiter::files(c, v).await?.len();
        Ok(if n >= total { Poll::Ready(()) } else { Poll::Pending(format!("{n} names")) })
    })
    .await?;
    ensure_eq!(arbiter::ensure_healed(&ctx, &vol, &m).await?, total, "files named on the arbiters");
    tree::ensure_same(&before, &tree::of_mount(&ctx, &m, Scope::FULL).await?)?;
    Ok(())
}
