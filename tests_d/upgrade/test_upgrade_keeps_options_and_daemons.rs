//! A rolling upgrade keeps what the volume was: its reconfigured options, every brick online on its
//! own port, the self-heal daemon running on every server, the pool whole (no peer rejected), and
//! the volume's id on every brick root unchanged.
//!
//! GlusterFS's upgrade guide (glusterdocs `docs/Upgrade-Guide/generic-upgrade-procedure.md`: after
//! each server's upgrade, "ensure that all the bricks and the self-heal daemon are online" and the
//! peers connected; `upgrade-to-11.md` on peers rejected during an online upgrade from 10).
use crate::prelude::*;

pub const CASE: Case = Case::new(606, "upgrade_keeps_options_bricks_and_daemons", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 0).gluster_below(11, 0))
.disruptive()
.timeout_secs(900);

const OPTIONS: [(&str, &str); 3] = [
    ("cluster.self-heal-window-size", "4"),
    ("performance.write-behind", "off"),
    ("network.ping-timeout", "20"),
];

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::DistributedReplicate.spec()).await?;
    for (k, v) in OPTIONS {
        vol.set(&ctx, k, v).await?;
    }
    vol.start_and_wait(&ctx).await?;
    let ids_before = volume_ids(&ctx, &vol).await?;

    upgrade::servers_rolling(&ctx, &vol, upgrade::NEXT_RELEASE, Duration::from_secs(300)).await?;

    for s in ctx.servers() {
        let peers = peer::status(&ctx, &s).await?;
        ensure!(
            peers.iter().all(|p| p.healthy()),
            "{} sees its peers as {:?}",
            s.name(),
            peers
                .iter()
                .map(|p| format!("{}: {} connected={}", p.hostname, p.state, p.connected))
                .collect::<Vec<_>>()
        );
        let info = volume::info(&ctx, &s, &vol.name).await?;
        for (k, v) in OPTIONS {
            ensure_eq!(
                info.options.get(k).map(String::as_str),
                Some(v),
                "{k} of {} as {} sees it after the upgrade",
                vol.name,
                s.name()
            );
        }
    }
    let status = vol.status(&ctx).await?;
    ensure_eq!(status.len(), vol.bricks.len(), "bricks in volume status");
    for b in &status {
        ensure!(
            b.online && b.port.is_some(),
            "brick {} is not online with a port after the upgrade: {b:?}",
            b.spec()
        );
    }
    let shd = ctx
        .sh(
            &ctx.server(0)?,
            format!(
                "gluster volume status {} shd | grep -c 'Self-heal Daemon on .* Y '",
                vol.name
            ),
        )
        .await?;
    ensure_eq!(
        shd.trim(),
        ctx.servers().len().to_string().as_str(),
        "servers with an online self-heal daemon"
    );
    ensure_eq!(
        volume_ids(&ctx, &vol).await?,
        ids_before,
        "trusted.glusterfs.volume-id of the brick roots"
    );
    Ok(())
}

/// `trusted.glusterfs.volume-id` of every brick root.
async fn volume_ids(ctx: &Ctx, vol: &Volume) -> Result<Vec<Option<Vec<u8>>>, TestError> {
    let mut ids = Vec::new();
    for b in &vol.bricks {
        let x = xattr::on_brick(ctx, b, "/").await?;
        ids.push(x.get("trusted.glusterfs.volume-id").map(<[u8]>::to_vec));
    }
    Ok(ids)
}
