//! Concurrent writers from two clients under every eager-lock setting: for each combination of
//! `disperse.eager-lock` (regular files) and `disperse.other-eager-lock` (directories), two
//! mounts of the volume write interleaved 128 KiB blocks of one file at the same time and create
//! 20 files each in one shared directory. Whatever the locking, the file holds exactly the blocks
//! each writer wrote (as read from both mounts), the directory lists all 40 names, and once the
//! locks are released the fragments of the file and the directory agree on every brick.
//!
//! Ported from glusto-tests `tests/functional/disperse/test_ec_eagerlock.py` (writes and
//! directory creation with eager-lock and other-eager-lock on and off, data and listing checked)
//! with the two clients contending as in GlusterFS `tests/basic/ec/lock-contention.t`.
use crate::prelude::*;

pub const CASE: Case = Case::new(561, "concurrent_writers_eager_lock", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.runs_on(VolumeType::DISPERSED)
.timeout_secs(600);

/// Blocks per file (even ones from the first mount, odd ones from the second).
const BLOCKS: usize = 8;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let a = mount::mount(&ctx, &client, &vol).await?;
    let b = mount::mount(&ctx, &client, &vol).await?;
    let work = format!("/tmp/{}", ctx.unique("blocks"));
    ctx.defer(Cleanup::Command {
        node: client.clone(),
        command: Command::new("rm").args(["-rf", work.as_str()]),
    });
    ctx.sh(
        &client,
        format!(
            "set -e; mkdir -p {work}; for i in $(seq 0 {}); do head -c 131072 /dev/urandom > {work}/b$i; done; \
             cat $(for i in $(seq 0 {}); do echo {work}/b$i; done) > {work}/all",
            BLOCKS - 1,
            BLOCKS - 1
        ),
    )
    .await?;
    let want = ctx.sh(&client, format!("sha256sum < {work}/all")).await?;

    for (eager, other) in [("on", "on"), ("on", "off"), ("off", "on"), ("off", "off")] {
        vol.set(&ctx, "disperse.eager-lock", eager).await?;
        vol.set(&ctx, "disperse.other-eager-lock", other).await?;
        let tag = format!("{eager}-{other}");
        ctx.step(format!("eager-lock {eager}, other-eager-lock {other}"));
        let writer = |m: &mount::Mount, parity: usize| {
            format!(
                "( for i in $(seq {parity} 2 {last}); do dd if={work}/b$i of={m}/file-{tag} bs=128k seek=$i count=1 conv=notrunc status=none || exit 1; done; \
                   for j in $(seq 1 20); do echo $j > {m}/dir-{tag}/c{parity}-$j || exit 1; done )",
                last = BLOCKS - 1,
                m = m.path
            )
        };
        let line = format!(
            "set -e; mkdir {am}/dir-{tag}; touch {am}/file-{tag}; {} & p1=$!; {} & p2=$!; wait $p1; wait $p2",
            writer(&a, 0),
            writer(&b, 1),
            am = a.path
        );
        ctx.sh(&client, line).await?;
        for m in [&a, &b] {
            let got = ctx
                .sh(&client, format!("sha256sum < {}/file-{tag}", m.path))
                .await?;
            ensure_eq!(
                got,
                want,
                "file-{tag} read from {} (interleaved writers)",
                m.path
            );
            let n = ctx
                .sh(&client, format!("ls {}/dir-{tag} | wc -l", m.path))
                .await?;
            ensure_eq!(n.trim(), "40", "entries of dir-{tag} seen from {}", m.path);
        }
        let path = format!("file-{tag}");
        wait_for(
            &ctx,
            "the locks to be released and the file clean",
            Duration::from_secs(30),
            Duration::from_secs(1),
            || async {
                Ok(match ec::ensure_healed(&ctx, &vol, &path).await {
                    Ok(_) => Poll::Ready(()),
                    Err(e) => Poll::Pending(e.to_string()),
                })
            },
        )
        .await?;
        let dirs = xattr::on_bricks(&ctx, &vol, &format!("dir-{tag}")).await?;
        for set in brick::sets(&vol) {
            let v: Vec<_> = set.iter().map(|&i| dirs[i].ec_version()).collect();
            ensure!(
                v.iter().all(|x| *x == v[0]),
                "trusted.ec.version of dir-{tag} differs within set {set:?}: {v:?}"
            );
        }
    }
    Ok(())
}
