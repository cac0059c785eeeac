//! Restart glusterd on one server: the mounted volume keeps serving reads and writes throughout.
use crate::prelude::*;

pub const CASE: Case = Case::new(106, "glusterd_restart_keeps_serving", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 1))
.timeout_secs(300)
.disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let first = io::write_files(&ctx, &client, &m.path, &io::files("a", 4, 100_000)).await?;

    // Restart glusterd on the server the client did NOT fetch its volfile from.
    let other = ctx.server(1)?;
    let before = vol.status(&ctx).await?;
    glusterd::restart(&ctx, &other).await?;
    // While it comes back the mount must keep working (bricks are separate processes).
    let second = io::write_files(&ctx, &client, &m.path, &io::files("b", 4, 100_000)).await?;
    io::verify(&ctx, &client, &m.path, &first).await?;

    glusterd::wait(&ctx, &other, Duration::from_secs(60)).await?;
    ensure!(
        glusterd::is_running(&ctx, &other).await?,
        "glusterd on {} not running",
        other.name()
    );
    peer::wait_connected(&ctx, Duration::from_secs(60)).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    // The brick processes were not restarted with glusterd.
    let after = vol.status(&ctx).await?;
    for b in &before {
        let same = after.iter().find(|a| a.path == b.path && a.host == b.host);
        ensure!(
            same.is_some_and(|a| a.pid == b.pid),
            "brick {} changed pid across the glusterd restart: {:?} -> {:?}",
            b.spec(),
            b.pid,
            same.and_then(|a| a.pid)
        );
    }
    let third = io::write_files(&ctx, &client, &m.path, &io::files("c", 4, 100_000)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    let all: Vec<io::FileSum> = first.into_iter().chain(second).chain(third).collect();
    io::verify(&ctx, &client, &m.path, &all).await?;
    for brick in &vol.bricks {
        io::verify(&ctx, &brick.node, &brick.path, &all).await?;
    }
    Ok(())
}
