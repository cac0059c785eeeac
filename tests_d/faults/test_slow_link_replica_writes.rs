//! A slow, lossy link from the client to one brick of a replica 3 volume: replication waits for
//! that brick (a write takes at least the added delay) instead of leaving it behind, `heal info`
//! keeps answering quickly while the I/O runs, and every file lands identically on every brick
//! with nothing left to heal.
//!
//! Ported from glusto-tests `tests/functional/afr/test_repl_heal_with_io.py`
//! (`test_heal_info_with_io`: while I/O runs on a replicated volume, `heal info` answers within 8
//! seconds and the I/O completes, having really been in progress). There the load is continuous
//! appends; here it is writes held up by a delayed link (`tc netem`; a kernel without netem skips
//! the test with the reason).
use std::time::Instant;

use crate::prelude::*;

pub const CASE: Case = Case::new(305, "slow_link_replica_writes", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(600)
.disruptive();

/// Delay added to every packet the client sends to the slow brick's server.
const DELAY: Duration = Duration::from_millis(300);
/// Packets lost on that link, in percent (TCP resends them).
const LOSS_PERCENT: u32 = 1;
/// The longest `heal info` may take while the I/O runs (glusto's bound).
const HEAL_INFO_LIMIT: Duration = Duration::from_secs(8);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let client = ctx.client(0)?;
    let slow = ctx.server(2)?;
    // First, so that a kernel without netem skips the test before anything is built.
    fault::slow_link(&ctx, &client, &slow, DELAY, LOSS_PERCENT).await?;

    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let m = mount::mount(&ctx, &client, &vol).await?;

    // One write waits for the slow brick: it cannot finish before the delay has passed.
    let out = ctx
        .run(
            &client,
            Command::new("dd").args([
                "if=/dev/urandom".to_string(),
                format!("of={}/probe", m.path),
                "bs=1M".into(),
                "count=1".into(),
                "conv=fsync".into(),
            ]),
        )
        .await?;
    ensure!(
        out.duration >= DELAY,
        "a replicated write took {:.3?}, less than the {DELAY:?} added on the link to {}: it did \
         not wait for that brick",
        out.duration,
        slow.name()
    );
    ctx.step(format!(
        "a 1 MiB write took {:.3?} with {DELAY:?} added towards {}",
        out.duration,
        slow.name()
    ));

    // While I/O runs through the slow link, heal info still answers quickly.
    let files = io::files("io", 10, 256 * 1024);
    let began = Instant::now();
    let (written, heal_took) = futures::join!(
        io::write_files(&ctx, &client, &m.path, &files),
        async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let at = Instant::now();
            heal::info(&ctx, &vol).await.map(|_| at.elapsed())
        }
    );
    let io_took = began.elapsed();
    let written = written?;
    let heal_took = heal_took?;
    ensure!(
        heal_took < HEAL_INFO_LIMIT,
        "heal info took {heal_took:.1?} during I/O over a slow link (limit {HEAL_INFO_LIMIT:?})"
    );
    ensure!(
        io_took >= DELAY * 10,
        "ten replicated writes took {io_took:.1?}, less than ten times the added delay: the I/O \
         was not held up by the slow link"
    );

    // Nothing was left behind on the slow brick.
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    for b in &vol.bricks {
        io::verify(&ctx, &b.node, &b.path, &written).await?;
    }
    Ok(())
}
