//! A server frozen in place (every GlusterFS process stopped, the kernel still answering TCP) must
//! not hang a replica 3 client for good: the first write waits for the ping timer, then the frozen
//! brick is given up and writes go on at full speed on the other two; thawed, the brick catches up
//! by heal with no split-brain.
//!
//! Ported from glusterfs `tests/bugs/fb4482137.t` (branch release-3.8-fb), which hangs a brick with
//! SIGSTOP and checks that the RPC timeout drops it so work goes on instead of deadlocking. There
//! one brick and `network.frame-timeout`; here a whole server and `network.ping-timeout`, the timer
//! that guards against a peer whose connection stays up but who no longer answers.
use crate::prelude::*;

pub const CASE: Case = Case::new(304, "paused_server_ping_timeout", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(600)
.disruptive();

/// `network.ping-timeout` on the volume, in seconds.
const PING_TIMEOUT: u64 = 10;
/// A write may hang this long at most before the test calls it stuck.
const WRITE_LIMIT: Duration = Duration::from_secs(120);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let frozen = ctx.server(2)?;
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.set(&ctx, "network.ping-timeout", &PING_TIMEOUT.to_string())
        .await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let before = io::write_files(&ctx, &client, &m.path, &io::files("before", 4, 100_000)).await?;
    // Before the fault a write is quick: the stall below is the fault's doing.
    let quick = write(&ctx, &client, &m.path, "baseline").await?;
    ensure!(
        quick.as_secs() < PING_TIMEOUT / 2,
        "a write took {quick:.1?} before any fault; the stall could not be told apart"
    );

    fault::pause(&ctx, &frozen).await?;
    let stalled = write(&ctx, &client, &m.path, "stalled").await?;
    let floor = Duration::from_secs(PING_TIMEOUT) * 8 / 10;
    ensure!(
        stalled >= floor,
        "with {} frozen the first write took only {stalled:.1?}; it should wait about the ping \
         timeout ({PING_TIMEOUT}s) for the frozen brick",
        frozen.name()
    );
    ensure!(
        stalled < Duration::from_secs(4 * PING_TIMEOUT),
        "with {} frozen the first write hung {stalled:.1?}, far beyond the ping timeout \
         ({PING_TIMEOUT}s): the frozen brick was not given up in time",
        frozen.name()
    );
    ctx.step(format!(
        "the first write with {} frozen stalled {stalled:.1?}",
        frozen.name()
    ));
    // The frozen brick has been given up: writes no longer wait for it.
    let after = write(&ctx, &client, &m.path, "after").await?;
    ensure!(
        after.as_secs() < PING_TIMEOUT / 2,
        "after the ping timeout a write still took {after:.1?}: the frozen brick was not given up"
    );
    let during = io::write_files(&ctx, &client, &m.path, &io::files("during", 6, 100_000)).await?;

    // The bricks that took the writes hold them as pending heals for the frozen one (read from
    // their index: the CLI would wait on the frozen glusterd).
    let first = &vol.bricks[0];
    let pending = ctx
        .sh(
            &first.node,
            format!(
                "ls {}/.glusterfs/indices/xattrop | grep -vc '^xattrop-' || true",
                first.path
            ),
        )
        .await?;
    ensure!(
        pending.trim().parse::<u64>().unwrap_or(0) > 0,
        "brick {} records no pending heal although {} missed writes",
        first.spec(),
        frozen.name()
    );

    fault::resume(&ctx, &frozen).await?;
    vol.wait_online(&ctx, Duration::from_secs(120)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    let all: Vec<io::FileSum> = before.into_iter().chain(during).collect();
    for b in &vol.bricks {
        io::verify(&ctx, &b.node, &b.path, &all).await?;
    }
    Ok(())
}

/// Writes 1 MiB into `dir/name` with `fsync` and returns how long it took; a failed or stuck
/// write is an error.
async fn write(ctx: &Ctx, node: &Node, dir: &str, name: &str) -> Result<Duration, TestError> {
    let out = ctx
        .run(
            node,
            Command::new("dd")
                .args([
                    "if=/dev/urandom".to_string(),
                    format!("of={dir}/{name}"),
                    "bs=1M".into(),
                    "count=1".into(),
                    "conv=fsync".into(),
                ])
                .timeout(WRITE_LIMIT),
        )
        .await?;
    Ok(out.duration)
}
