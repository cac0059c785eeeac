//! Heal towards the arbiter: with the arbiter brick of each set down, a file is appended to and
//! new files and a directory are created; both data bricks record entries pending for the
//! arbiter (heal info counts each modified file on both), the arbiter lacks the new names. Once
//! it is back, heal completes, the arbiter holds every name and no data, no counter is left, and
//! the file is writable (the stale-lock bug the source guards against made it hang or fail).
//!
//! Ported from GlusterFS `tests/bugs/replicate/bug-1637802-arbiter-stale-data-heal-lock.t`
//! (arbiter killed, an append, two pending entries, arbiter back, heal, zero pending, the next
//! append succeeds), with new names created while it is down as glusto-tests
//! `tests/functional/arbiter/test_entry_self_heal_heal_command.py` does. Runs on 1 x (2 + 1)
//! and 2 x (2 + 1).
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(502, "heal_after_arbiter_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(VolumeType::ARBITER)
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = arbiter::mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    let file = format!("{}/FILE", m.path);
    ctx.sh(&client, format!("echo Data > {file}")).await?;

    let down = brick::take_down(&ctx, &vol, Select::Arbiter).await?;
    ctx.sh(&client, format!("echo 'arbiter down' >> {file}")).await?;
    let fresh = io::write_files(&ctx, &client, &m.path, &io::files("new/f", 6, 64 * 1024)).await?;
    for &a in &down {
        let arb = &vol.bricks[a];
        let there = io::brick_files(&ctx, &arb.node, &arb.path).await?;
        ensure!(
            !there.iter().any(|f| f.starts_with("new/")),
            "the arbiter {} got names while it was down: {there:?}",
            arb.spec()
        );
    }
    let counts = heal::counts(&ctx, &vol).await?;
    let up_total: u64 = counts.values().flatten().sum();
    ensure!(
        up_total >= 2,
        "heal-count shows {up_total} entries on the data bricks for a file modified with the arbiter down: {counts:?}"
    );

    brick::bring_back(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    ensure_eq!(heal::pending_count(&ctx, &vol).await?, 0, "entries pending after heal");
    // The write after heal must reach the arbiter too: wait until the client is connected to it
    // again (the self-heal daemon may finish before the mount reconnects).
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    ctx.sh(&client, format!("echo 'this must succeed' >> {file}")).await?;
    let on_arbiters = arbiter::ensure_healed(&ctx, &vol, &m).await?;
    ensure_eq!(on_arbiters, fresh.len() + 1, "files named on the arbiter bricks after heal");
    Ok(())
}
