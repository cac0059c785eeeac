//! Servers of a replica 3 volume rebooted one after the other while clients write and look up:
//! the I/O goes on without an error, the writes made while a server was down are missing on its
//! brick until heal, and after each reboot its bricks come back, heal completes and every brick
//! holds the same data. Port of glusto-tests
//! `tests/functional/afr/test_split_brain_with_node_reboot.py` (`test_afr_node_reboot_self_heal`:
//! reboot servers[1], then servers[2], under client I/O; heal must complete after each).
use gflab_agent::shell::quote;

use crate::prelude::*;

pub const CASE: Case = Case::new(311, "server_reboot_during_client_io", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 2).with(&[Capability::Reboot]))
.timeout_secs(900)
.disruptive();

/// Size of every file the writer makes.
const FILE_SIZE: u64 = 256 * 1024;
/// The writer stops by itself after this many files (a bound if the test is cancelled).
const MAX_FILES: u32 = 2000;
/// Heal switches turned off while a server is down, so that what its brick missed stays visible.
const HEALS: [&str; 4] = [
    "cluster.self-heal-daemon",
    "cluster.data-self-heal",
    "cluster.metadata-self-heal",
    "cluster.entry-self-heal",
];

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let writer = ctx.client(0)?;
    let looker = ctx.client(1)?;
    let wm = mount::mount(&ctx, &writer, &vol).await?;
    let lm = mount::mount(&ctx, &looker, &vol).await?;

    let mut all = Vec::new();
    // As the source: servers[1], then servers[2]; the volfile server stays up.
    for (round, index) in [(1, 1), (2, 2)] {
        let server = ctx.server(index)?;
        let sums = reboot_under_io(&ctx, &vol, &server, &wm, &lm, round).await?;
        all.extend(sums);
        // Everything written so far, in every round, is the same on every brick.
        for b in &vol.bricks {
            io::verify(&ctx, &b.node, &b.path, &all).await?;
        }
    }
    io::verify(&ctx, &looker, &lm.path, &all).await?;
    Ok(())
}

/// One round: a writer on one client and lookups on the other run while `server` reboots; returns
/// the checksums of what the writer wrote (as read back through its mount).
async fn reboot_under_io(
    ctx: &Ctx,
    vol: &Volume,
    server: &Node,
    wm: &mount::Mount,
    lm: &mount::Mount,
    round: u32,
) -> Result<Vec<io::FileSum>, TestError> {
    for key in HEALS {
        vol.set(ctx, key, "off").await?;
    }
    let dir = format!("round{round}");
    let progress = format!("/tmp/{}", ctx.unique("progress"));
    let stop = format!("/tmp/{}", ctx.unique("stop"));
    for (node, file) in [(&wm.node, &progress), (&wm.node, &stop), (&lm.node, &stop)] {
        ctx.defer(Cleanup::Command {
            node: node.clone(),
            command: Command::shell(format!("rm -f {}", quote(file))),
        });
    }
    let write_loop = format!(
        "set -e\ncd {mnt}\nmkdir -p {dir}\ni=0\n\
         while [ ! -e {stop} ] && [ $i -lt {MAX_FILES} ]; do\n\
           i=$((i+1))\n\
           head -c {FILE_SIZE} /dev/urandom > {dir}/w-$i\n\
           echo $i > {progress}\n\
           echo {dir}/w-$i\n\
           sleep 0.1\n\
         done\n",
        mnt = quote(&wm.path),
        stop = quote(&stop),
        progress = quote(&progress),
    );
    let look_loop = format!(
        "set -e\ncd {mnt}\nn=0\n\
         while [ ! -e {stop} ] && [ $n -lt {MAX_FILES} ]; do\n\
           n=$((n+1))\n\
           ls -laRt . > /dev/null\n\
           du -s . > /dev/null\n\
           sleep 0.2\n\
         done\necho $n lookups\n",
        mnt = quote(&lm.path),
        stop = quote(&stop),
    );
    ctx.step(format!(
        "round {round}: writer on {}, lookups on {}, reboot of {}",
        wm.node.name(),
        lm.node.name(),
        server.name()
    ));
    let fault = async {
        let result = reboot_while_written(ctx, vol, server, &wm.node, &progress).await;
        // Whatever happened, the loops end.
        for node in [&wm.node, &lm.node] {
            ctx.sh(node, format!("touch {}", quote(&stop))).await?;
        }
        result
    };
    let (w, l, fault) = futures::join!(
        ctx.exec(&wm.node, Command::shell(write_loop)),
        ctx.exec(&lm.node, Command::shell(look_loop)),
        fault
    );
    let (w, l) = (w?, l?);
    fault?;
    ensure!(
        w.success(),
        "the writer on {} failed while {} rebooted ({:?}): {}",
        wm.node.name(),
        server.name(),
        w.status,
        w.stderr_str().trim()
    );
    ensure!(
        l.success(),
        "lookups on {} failed while {} rebooted ({:?}): {}",
        lm.node.name(),
        server.name(),
        l.status,
        l.stderr_str().trim()
    );
    let missed = missing_on(ctx, vol, server).await?;
    ensure!(
        !missed.is_empty(),
        "no file written during the reboot is missing on {}'s brick: the writes did not go on \
         while it was down",
        server.name()
    );
    ctx.step(format!(
        "{} file(s) written while {} was down or not yet reconnected: {}",
        missed.len(),
        server.name(),
        missed.join(" ")
    ));
    let pending = heal::info(ctx, vol).await?;
    ensure!(
        pending.iter().any(|b| b.entries.unwrap_or(0) > 0),
        "heal info shows nothing pending after {} missed writes: {pending:?}",
        server.name()
    );

    for key in HEALS {
        vol.set(ctx, key, "on").await?;
    }
    heal::wait_complete(ctx, vol, Duration::from_secs(300)).await?;
    heal::ensure_no_split_brain(ctx, vol).await?;

    let names: Vec<String> = w.stdout_str().lines().map(str::to_string).collect();
    ensure!(
        names.len() > 3,
        "the writer wrote only {} file(s)",
        names.len()
    );
    let got = io::checksums(ctx, &wm.node, &wm.path, &names).await?;
    names
        .iter()
        .map(|n| {
            let sha256 = got
                .get(n)
                .cloned()
                .ok_or_else(|| TestError::Check(format!("{n} is not readable on the writer")))?;
            Ok(io::FileSum {
                name: n.clone(),
                size: FILE_SIZE,
                sha256,
            })
        })
        .collect()
}

/// Waits for the writer to get going, reboots `server`, waits for its bricks, lets the writer make
/// a few more files.
async fn reboot_while_written(
    ctx: &Ctx,
    vol: &Volume,
    server: &Node,
    writer: &Node,
    progress: &str,
) -> Result<(), TestError> {
    let at_least = |n: u32| {
        let what = format!("the writer on {} to pass {n} files", writer.name());
        async move {
            wait_for(
                ctx,
                &what,
                Duration::from_secs(120),
                Duration::from_millis(300),
                || async move {
                    let out = ctx
                        .exec(
                            writer,
                            Command::shell(format!("cat {} 2>/dev/null", quote(progress))),
                        )
                        .await?;
                    let done: u32 = out.stdout_str().trim().parse().unwrap_or(0);
                    Ok(if done >= n {
                        Poll::Ready(done)
                    } else {
                        Poll::Pending(format!("{done} written"))
                    })
                },
            )
            .await
        }
    };
    let before = at_least(3).await?;
    fault::reboot(ctx, server).await?;
    brick::wait_online(ctx, vol, Duration::from_secs(120)).await?;
    let after = at_least(before + 1).await?;
    at_least(after + 3).await?;
    peer::wait_connected(ctx, Duration::from_secs(120)).await?;
    Ok(())
}

/// The data files that a brick of `vol` on another server holds and `server`'s brick lacks.
async fn missing_on(ctx: &Ctx, vol: &Volume, server: &Node) -> Result<Vec<String>, TestError> {
    let (down, up): (Vec<_>, Vec<_>) = vol
        .bricks
        .iter()
        .partition(|b| b.node.name() == server.name());
    let (Some(down), Some(up)) = (down.first(), up.first()) else {
        return Err(TestError::Check(format!(
            "{} has no brick on {} or none elsewhere",
            vol.name,
            server.name()
        )));
    };
    let on_up = io::brick_files(ctx, &up.node, &up.path).await?;
    let on_down = io::brick_files(ctx, &down.node, &down.path).await?;
    Ok(on_up.into_iter().filter(|f| !on_down.contains(f)).collect())
}
