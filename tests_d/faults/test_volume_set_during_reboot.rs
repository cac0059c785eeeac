//! A volume option set on one server while another server reboots: the set succeeds while the
//! rebooting server is disconnected from the pool, and once it is back its glusterd has the new
//! option (the handshake syncs volume info), its bricks are online and I/O goes on. Port of
//! glusto-tests `tests/functional/glusterd/test_volume_set_when_glusterd_stopped_on_one_node.py`
//! (glusterd stopped on one node, an option set, glusterd started, bricks online, volume info the
//! same on every node); here glusterd goes down with its node's reboot instead of a service stop.
use crate::prelude::*;

pub const CASE: Case = Case::new(314, "volume_set_while_server_reboots", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1).with(&[Capability::Reboot]))
.timeout_secs(400)
.disruptive();

/// The option the source sets (there to `on`, its default; `off` here so the value changes).
const KEY: &str = "performance.stat-prefetch";
const VALUE: &str = "off";

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let first = io::write_files(&ctx, &client, &m.path, &io::files("a", 10, 100_000)).await?;

    // The CLI runs on the first server; the second reboots.
    let cli = vol.server.clone();
    let target = ctx.server(1)?;
    let before = volume::info(&ctx, &target, &vol.name).await?;
    ensure!(
        !before.options.contains_key(KEY),
        "{KEY} is already set on {} before the test sets it: {:?}",
        target.name(),
        before.options
    );

    let change = async {
        let what = format!("{} to see {} disconnected", cli.name(), target.name());
        wait_for(
            &ctx,
            &what,
            Duration::from_secs(60),
            Duration::from_millis(100),
            || async { connected(&ctx, &cli, &target).await.map(pending_while) },
        )
        .await?;
        vol.set(&ctx, KEY, VALUE).await?;
        // The set must have been done while the node was away, or nothing is synced later.
        ensure!(
            !connected(&ctx, &cli, &target).await?,
            "{} was connected again when the set returned: the reboot was too short to change \
             {KEY} while it was down",
            target.name()
        );
        ctx.step(format!(
            "{KEY}={VALUE} set on {} while {} was disconnected",
            cli.name(),
            target.name()
        ));
        Ok::<_, TestError>(())
    };
    let (rebooted, changed) = futures::join!(fault::reboot(&ctx, &target), change);
    rebooted?;
    changed?;

    glusterd::wait(&ctx, &target, Duration::from_secs(60)).await?;
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    brick::wait_online(&ctx, &vol, Duration::from_secs(120)).await?;
    // Volume info on the rebooted node comes to match the CLI node's, the new option included.
    let reference = volume::info(&ctx, &cli, &vol.name).await?;
    ensure_eq!(
        reference.options.get(KEY).map(String::as_str),
        Some(VALUE),
        "{KEY} on {} after the set",
        cli.name()
    );
    let what = format!("volume info of {} on {} to be synced", vol.name, target.name());
    wait_for(
        &ctx,
        &what,
        Duration::from_secs(120),
        Duration::from_secs(2),
        || async {
            let got = volume::info(&ctx, &target, &vol.name).await?;
            Ok(if got == reference {
                Poll::Ready(())
            } else {
                Poll::Pending(format!(
                    "{KEY} = {:?}, options {:?}",
                    got.options.get(KEY),
                    got.options
                ))
            })
        },
    )
    .await?;
    for s in ctx.servers() {
        let info = volume::info(&ctx, &s, &vol.name).await?;
        ensure_eq!(
            info.options.get(KEY).map(String::as_str),
            Some(VALUE),
            "{KEY} on {}",
            s.name()
        );
    }

    let second = io::write_files(&ctx, &client, &m.path, &io::files("b", 10, 100_000)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    let all: Vec<io::FileSum> = first.into_iter().chain(second).collect();
    for b in &vol.bricks {
        io::verify(&ctx, &b.node, &b.path, &all).await?;
    }
    Ok(())
}

/// Whether `from` sees `other` connected.
async fn connected(ctx: &Ctx, from: &Node, other: &Node) -> Result<bool, TestError> {
    let peers = peer::status(ctx, from).await?;
    Ok(peers
        .iter()
        .find(|p| p.is(other.host()))
        .is_some_and(|p| p.connected))
}

fn pending_while(connected: bool) -> Poll<()> {
    if connected {
        Poll::Pending("still connected".into())
    } else {
        Poll::Ready(())
    }
}
