//! Reset-brick on a disperse volume: `reset-brick ... start` takes a brick out (the client sees
//! one child fewer), the brick is wiped as a new disk, `... commit force` puts it back, and the
//! self-heal daemon rebuilds it: the same directory tree, a fragment of every file, the root's
//! `trusted.ec.version` equal on all six bricks, and the files readable with two other bricks
//! down (so through the rebuilt fragments).
//!
//! Ported from GlusterFS `tests/basic/ec/ec-reset-brick.t` (4+2, a directory of 10 files and a
//! subdirectory of 10, reset-brick start, the brick emptied, commit force, heal to zero, the
//! entry counts on the reset brick, `trusted.ec.version` of the root the same everywhere) and
//! glusto-tests `tests/functional/disperse/test_ec_reset.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(556, "reset_brick_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(600);

/// The brick reset.
const RESET: usize = 5;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Disperse.spec()).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let mut names = io::files("dir/f", 10, 10_000);
    names.extend(io::files("dir/dir1/f", 10, 10_000));
    let sums = io::write_files(&ctx, &client, &m.path, &names).await?;

    replace::reset_brick_start(&ctx, &vol, RESET).await?;
    wait_for(
        &ctx,
        "the client to see 5 bricks up",
        Duration::from_secs(60),
        Duration::from_secs(1),
        || async {
            let up = ec::client_option(&ctx, &m, &vol, 0, "childs_up").await?;
            Ok(match up.as_deref() {
                Some("5") => Poll::Ready(()),
                other => Poll::Pending(format!("childs_up {other:?}")),
            })
        },
    )
    .await?;
    replace::wipe_brick(&ctx, &vol, RESET).await?;
    let vol = replace::reset_brick_commit(&ctx, &vol, RESET).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;

    let b = &vol.bricks[RESET];
    let count = |dir: &str| {
        let line = format!("ls -A {} | wc -l", xattr::brick_path(b, dir));
        let (ctx, node) = (&ctx, &b.node);
        async move { ctx.sh(node, line).await.map(|s| s.trim().to_string()) }
    };
    ensure_eq!(
        count("dir").await?,
        "11",
        "entries of dir on the reset brick {}",
        b.spec()
    );
    ensure_eq!(
        count("dir/dir1").await?,
        "10",
        "entries of dir/dir1 on the reset brick"
    );
    let roots = xattr::on_bricks(&ctx, &vol, "/").await?;
    let versions: Vec<_> = roots.iter().map(|x| x.ec_version()).collect();
    ensure!(
        versions[0].is_some() && versions.iter().all(|v| *v == versions[0]),
        "trusted.ec.version of the root differs between bricks after heal: {versions:?}"
    );
    for s in &sums {
        ec::wait_healed(&ctx, &vol, &s.name, Duration::from_secs(60)).await?;
    }
    brick::kill_many(&ctx, &vol, &[0, 1]).await?;
    ctx.sh(&client, "echo 3 > /proc/sys/vm/drop_caches || true")
        .await?;
    io::verify(&ctx, &client, &m.path, &sums).await?;
    brick::bring_back(&ctx, &vol).await?;
    Ok(())
}
