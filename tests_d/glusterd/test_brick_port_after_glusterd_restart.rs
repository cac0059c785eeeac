//! Brick ports survive a glusterd stop on one server during a volume change: on a distribute
//! volume over two servers, glusterd is stopped on the second, an option is changed from the
//! first, and glusterd is started again. `volume status` on either server then shows both bricks
//! online with a port, each brick's process running and started on that port (`--brick-port`),
//! one brick process of the volume per server, and the option reached the second server.
//! On 10.3 the glusterd that starts again imports the newer volume from its peers and restarts
//! its brick, which comes back with a new PID and port (the source only asks for a port).
//!
//! Ported from glusto-tests
//! `tests/functional/glusterd/test_brick_port_after_stop_glusterd_modify_volume.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(785, "brick_port_after_glusterd_restart", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(2, 0))
.timeout_secs(400)
.disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s2) = (ctx.server(0)?, ctx.server(1)?);
    let vol = volume::create(&ctx, VolumeSpec::distribute(2)).await?;
    ensure_eq!(vol.bricks[1].node.name(), s2.name(), "the second brick's server");
    vol.start_and_wait(&ctx).await?;
    ported(&ctx, &vol, &s1).await?;

    let key = "performance.readdir-ahead";
    let new = if vol.get(&ctx, key).await? == "on" { "off" } else { "on" };
    glusterd::stop(&ctx, &s2).await?;
    vol.set(&ctx, key, new).await?;
    glusterd::start(&ctx, &s2).await?;
    glusterd::wait(&ctx, &s2, Duration::from_secs(60)).await?;
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;

    for s in [&s1, &s2] {
        ported(&ctx, &vol, s).await?;
        ensure_eq!(
            brick::processes_on(&ctx, s, &vol).await?,
            1,
            "brick processes of {} on {}",
            vol.name,
            s.name()
        );
    }
    ensure_eq!(
        mgmt::get(&ctx, &s2, &vol.name, key).await?,
        new,
        "{key} on {} after its glusterd restarted",
        s2.name()
    );
    Ok(())
}

/// `volume status` asked of `from`: every brick online with a port, in volume order, and each
/// brick process started on the port shown.
async fn ported(ctx: &Ctx, vol: &Volume, from: &Node) -> Result<(), TestError> {
    let root = gluster_xml(ctx, from, ["volume", "status", vol.name.as_str()]).await?;
    let st = volume::parse_status(&root);
    let specs: Vec<String> = st.iter().map(|b| b.spec()).collect();
    let want: Vec<String> = vol.bricks.iter().map(Brick::spec).collect();
    ensure_eq!(specs, want, "bricks in volume status on {}", from.name());
    for (b, brick) in st.iter().zip(&vol.bricks) {
        let (Some(pid), Some(port)) = (b.pid, b.port.filter(|p| *p > 0)) else {
            return Err(TestError::Check(format!(
                "brick {} in volume status on {} has no PID or port: {b:?}",
                b.spec(),
                from.name()
            )));
        };
        ensure!(b.online, "brick {} offline in volume status on {}", b.spec(), from.name());
        let args = ctx.sh(&brick.node, format!("ps -o args= -p {pid}")).await?;
        ensure!(
            args.contains(&format!("--brick-port {port}")),
            "brick {} (pid {pid}) was not started on port {port}: {:?}",
            b.spec(),
            args.trim()
        );
    }
    Ok(())
}
