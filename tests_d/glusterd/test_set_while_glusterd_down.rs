//! A volume option set while glusterd is down on one server reaches that server when its
//! glusterd starts again: `volume get` there shows the new value, and the volume's bricks there
//! stayed up throughout.
//!
//! Ported from glusto-tests
//! `tests/functional/glusterd/test_setting_volume_option_when_one_node_is_down_in_cluster.py`
//! (stop glusterd on one node, set an option, start glusterd, the option is the same on every
//! node) and `test_ops_when_one_node_is_down.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(754, "set_while_glusterd_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(400)
    .disruptive();

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, down) = (ctx.server(0)?, ctx.server(2)?);
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let key = "performance.readdir-ahead";
    let old = mgmt::get(&ctx, &down, &vol.name, key).await?;
    let new = if old == "on" { "off" } else { "on" };

    glusterd::stop(&ctx, &down).await?;
    ensure!(
        !glusterd::is_running(&ctx, &down).await?,
        "glusterd on {} still runs after stop",
        down.name()
    );
    vol.set(&ctx, key, new).await?;
    ensure_eq!(
        mgmt::get(&ctx, &s1, &vol.name, key).await?,
        new,
        "{key} on {} right after the set",
        s1.name()
    );
    ensure!(
        brick::processes_on(&ctx, &down, &vol).await? == 1,
        "the brick on {} stopped while its glusterd was down",
        down.name()
    );

    glusterd::start(&ctx, &down).await?;
    glusterd::wait(&ctx, &down, Duration::from_secs(60)).await?;
    peer::wait_connected(&ctx, Duration::from_secs(120)).await?;
    wait_for(
        &ctx,
        &format!("{} to show {key}={new}", down.name()),
        Duration::from_secs(60),
        Duration::from_secs(1),
        || async {
            let v = mgmt::get(&ctx, &down, &vol.name, key).await?;
            Ok(if v == new {
                Poll::Ready(())
            } else {
                Poll::Pending(format!("{key}={v}"))
            })
        },
    )
    .await?;
    for s in ctx.servers() {
        let info = volume::info(&ctx, &s, &vol.name).await?;
        ensure_eq!(
            info.options.get(key).map(String::as_str),
            Some(new),
            "{key} in volume info on {}",
            s.name()
        );
    }
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    Ok(())
}
