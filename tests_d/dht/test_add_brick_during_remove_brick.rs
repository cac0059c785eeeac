//! `add-brick` is refused while a `remove-brick start` is migrating data off a brick: gluster says
//! the volume's rebalance is in progress and the volume keeps its bricks. Once the migration has
//! completed and is committed, the same expansion is accepted, and every file reads back with its
//! checksum with none left on the removed brick.
//!
//! Ported from glusto-tests
//! `tests/functional/dht/test_add_brick_while_remove_brick_is_in_progress.py` (remove-brick start,
//! then add-brick fails with "rebalance is in progress"). The migration is kept in progress by
//! freezing another brick of the volume before the start (`dht::start_held`): the rebalance
//! process waits for it instead of finishing before the add-brick comes.
use crate::prelude::*;

pub const CASE: Case = Case::new(733, "add_brick_during_remove_brick", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("f", 40, 16 << 10)).await?;
    let gone = vol.bricks[1].clone();
    ensure!(!io::brick_files(&ctx, &gone.node, &gone.path).await?.is_empty(), "brick #1 holds no file to migrate");

    let held = dht::start_held(&ctx, &vol, 0, &dht::brick_nodes(&vol, &[1]), dht::remove_brick_start(&ctx, &vol, &[1])).await?;
    let st = dht::remove_brick_status(&ctx, &vol, &[1]).await?;
    ensure!(st.iter().any(|n| n.status == "in progress"), "remove-brick status while the migration is held: {st:?}");
    // On the node asked (its brick directory's parent exists), so that only the migration can
    // make gluster refuse.
    let s0 = &vol.server;
    let fresh = format!("{}:{}/{}/{}", s0.host(), s0.brick_root(), vol.name, ctx.unique("new"));
    let refused = dht::attempt_add_brick(&ctx, &vol, &[fresh.clone(), "force".into()]).await?;
    let msg = refused.ok_or_else(|| TestError::Check("add-brick during a remove-brick migration was accepted".into()))?;
    ensure!(msg.contains("rebalance is in progress"), "add-brick during a remove-brick migration refused for another reason: {msg}");
    ensure_eq!(vol.info(&ctx).await?.bricks.len(), 2, "bricks after the refused add-brick");

    held.release(&ctx).await?;
    let p = dht::wait_remove_brick(&ctx, &vol, &[1], Duration::from_secs(240)).await?;
    ensure_eq!(dht::total_failures(&p), 0, "failures migrating off brick #1: {p:?}");
    let vol = dht::remove_brick_commit(&ctx, &vol, &[1]).await?;
    let left = io::brick_files(&ctx, &gone.node, &gone.path).await?;
    ensure!(left.is_empty(), "data left on the removed brick {}: {left:?}", gone.spec());

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    ensure_eq!(vol.info(&ctx).await?.bricks.len(), 2, "bricks after add-brick once the removal is committed");
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
