//! Client-side data heal: with the self-heal daemon off, a file rewritten while a brick was down
//! is not healed by reading it through a new mount while `cluster.data-self-heal` is off; turned
//! on, reading it from a new mount heals the brick that was down (its copy gets the new contents and
//! the blame is cleared) with the daemon still off.
//!
//! Ported from GlusterFS `tests/basic/afr/client-side-heal.t` (shd off, client heals off, a brick
//! killed, files changed, the brick back; access from the mount does not heal; with the client
//! option on, access from the mount heals and the heal count drops to zero). Only data heal is
//! ported; 402 covers metadata and 403 entries.
use crate::prelude::*;

pub const CASE: Case = Case::new(412, "client_side_data_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

/// The brick that misses the rewrite, and one that stays up.
const DOWN: usize = 2;
const GOOD: usize = 0;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Replicate.spec()).await?;
    heal::set_self_heal(&ctx, &vol, false, false).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    io::write_files(&ctx, &client, &m.path, &io::files("file", 4, 4096)).await?;

    brick::kill(&ctx, &vol, DOWN).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("file", 4, 70000)).await?;
    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    let names: Vec<String> = sums.iter().map(|s| s.name.clone()).collect();
    let (good, down) = (&vol.bricks[GOOD], &vol.bricks[DOWN]);

    // As the original, each access is from a new mount, so its lookups reach the bricks.
    let off = mount::mount(&ctx, &client, &vol).await?;
    read_all(&ctx, &client, &off.path, &names).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for n in &names {
        let p = xattr::on_brick(&ctx, good, n).await?.afr(&vol.name, DOWN);
        ensure!(
            p.is_some_and(|p| p.data > 0),
            "{n}: reading with data-self-heal off should not heal brick #{DOWN}: {p:?}"
        );
    }

    vol.set(&ctx, "cluster.data-self-heal", "on").await?;
    let on = mount::mount(&ctx, &client, &vol).await?;
    read_all(&ctx, &client, &on.path, &names).await?;
    wait_for(
        &ctx,
        "reads from the mount to heal the rewritten files",
        Duration::from_secs(60),
        Duration::from_secs(2),
        || async {
            let mut left = Vec::new();
            for n in &names {
                if !xattr::on_brick(&ctx, good, n).await?.afr_clean(&vol.name) {
                    left.push(n.clone());
                }
            }
            Ok(if left.is_empty() {
                Poll::Ready(())
            } else {
                Poll::Pending(format!("still blamed: {left:?}"))
            })
        },
    )
    .await?;
    ensure_eq!(
        vol.get(&ctx, "cluster.self-heal-daemon").await?,
        "off",
        "the daemon stayed off"
    );
    io::verify(&ctx, &down.node, &down.path, &sums).await?;
    Ok(())
}

/// Opens and reads every file from the mount (what makes a client heal data).
async fn read_all(ctx: &Ctx, client: &Node, dir: &str, names: &[String]) -> Result<(), TestError> {
    let line: String = names
        .iter()
        .map(|n| format!("cat {dir}/{n} > /dev/null; "))
        .collect();
    ctx.sh(client, line).await.map(|_| ())
}
