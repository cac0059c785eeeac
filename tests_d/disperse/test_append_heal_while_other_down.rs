//! Appends while bricks come and go: a file grows by 4 KiB appends; brick b1 goes down, more
//! appends; brick b2 goes down too, more appends; b1 comes back while b2 stays down. Heal
//! brings b1 level with the other live bricks (same `trusted.ec.size` and `trusted.ec.version`)
//! while b2 is still stale; when b2 returns the whole set agrees, and the file reads back the
//! same even with two other bricks down (decoded through the healed fragments).
//!
//! Ported from glusto-tests `tests/functional/disperse/test_ec_heal_on_file_appends.py`
//! (4+2, appends from a client, b1 down, then b2 down, b1 up; `ec.size` and `ec.version` the
//! same on the online bricks as the sign of heal). The appends here are done between the steps,
//! not by a loop running through them, so each state is known.
use crate::prelude::*;

pub const CASE: Case = Case::new(563, "append_heal_while_other_brick_down", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.timeout_secs(600);

const B1: usize = 4;
const B2: usize = 5;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Disperse.spec()).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    let file = format!("{}/test_file", m.path);
    let appends = |n: usize| {
        let (ctx, client, file) = (&ctx, &client, &file);
        async move {
            for _ in 0..n {
                fileops::append(ctx, client, file, 4096).await?;
            }
            Ok::<(), TestError>(())
        }
    };
    appends(3).await?;
    brick::kill(&ctx, &vol, B1).await?;
    appends(3).await?;
    brick::kill(&ctx, &vol, B2).await?;
    appends(3).await?;

    // `start force` restarts both; b2 goes down again at once, b1 stays. The self-heal daemon is
    // off meanwhile: in the moment b2 is up it could heal b2 too (seen under load).
    let heal_switch = |on: &'static str| {
        let (ctx, vol) = (&ctx, &vol);
        async move { gluster(ctx, &vol.server, ["volume", "heal", vol.name.as_str(), on]).await }
    };
    heal_switch("disable").await?;
    brick::bring_back(&ctx, &vol).await?;
    brick::kill(&ctx, &vol, B2).await?;
    heal_switch("enable").await?;
    heal::trigger(&ctx, &vol).await?;
    let what = "b1 to be healed level with the other live bricks";
    wait_for(
        &ctx,
        what,
        Duration::from_secs(120),
        Duration::from_secs(2),
        || async {
            let f = ec::fragments(&ctx, &vol, "test_file").await?;
            let live: Vec<_> = f
                .bricks
                .iter()
                .filter(|(i, _)| *i != B2)
                .map(|(_, x)| x.as_ref().map(|x| (x.size(), x.version(), x.len)))
                .collect();
            Ok(if live.iter().all(|x| x.is_some() && *x == live[0]) {
                Poll::Ready(())
            } else {
                Poll::Pending(f.describe())
            })
        },
    )
    .await?;
    let f = ec::fragments(&ctx, &vol, "test_file").await?;
    let size = f.on(0).and_then(|x| x.size());
    ensure_eq!(size, Some(9 * 4096), "trusted.ec.size of the live bricks");
    ensure!(
        f.on(B2).and_then(|x| x.size()) == Some(6 * 4096),
        "b2 (#{B2}) should still hold the size it had when it went down (24576): {}",
        f.describe()
    );
    let sum = ctx.sh(&client, format!("sha256sum < {file}")).await?;

    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
    ec::wait_healed(&ctx, &vol, "test_file", Duration::from_secs(60)).await?;
    brick::kill_many(&ctx, &vol, &[0, 1]).await?;
    ctx.sh(&client, "echo 3 > /proc/sys/vm/drop_caches || true")
        .await?;
    ensure_eq!(
        ctx.sh(&client, format!("sha256sum < {file}")).await?,
        sum,
        "test_file read through the healed fragments of b1 and b2"
    );
    brick::bring_back(&ctx, &vol).await?;
    Ok(())
}
