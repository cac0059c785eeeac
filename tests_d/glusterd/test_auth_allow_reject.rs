//! `auth.allow` and `auth.reject`, set while the volume is stopped, decide which clients may
//! mount it once started: a client outside `auth.allow`, or listed in `auth.reject`, cannot
//! mount (its bricks answer "Authentication failed" and nothing is mounted); with both reset
//! (and the volume restarted: in 10.3 running bricks keep refusing after a reset of
//! `auth.reject`) the same client mounts and writes to every brick.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_validate_auth_allow_and_auth_reject.py`
//! (mount refused with auth.allow of another address and with auth.reject of the client,
//! allowed after a reset); here the options are set while the volume is stopped.
use crate::prelude::*;

pub const CASE: Case = Case::new(772, "auth_allow_and_reject", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1))
    .timeout_secs(300);

/// Whether `client` may mount `vol`: mounts it on a new mount point and waits until either the
/// mount works (`true`; unmounted again) or the mount's log says the bricks refused it with
/// "Authentication failed" and nothing is mounted there (`false`).
async fn can_mount(ctx: &Ctx, client: &Node, vol: &Volume) -> Result<bool, TestError> {
    let path = format!("/mnt/gflab/{}", ctx.unique("auth"));
    let log = format!(
        "/var/log/glusterfs/{}.log",
        path.trim_start_matches('/').replace('/', "-")
    );
    ctx.defer(Cleanup::Unmount {
        node: client.clone(),
        path: path.clone(),
    });
    ctx.defer(Cleanup::Command {
        node: client.clone(),
        command: Command::shell(format!("rm -f {log}")),
    });
    let out = ctx
        .exec(
            client,
            Command::shell(format!(
                "mkdir -p {path} && mount -t glusterfs {}:/{} {path}",
                vol.server.host(),
                vol.name
            )),
        )
        .await?;
    ctx.step(format!("mount exit {:?}", out.status));
    let works = wait_for(
        ctx,
        &format!("the mount on {path} to work or be refused"),
        Duration::from_secs(30),
        Duration::from_millis(500),
        || async {
            let mounted = ctx
                .exec(
                    client,
                    Command::shell(format!("mountpoint -q {path} && ls {path} >/dev/null")),
                )
                .await?
                .success();
            if mounted {
                return Ok(Poll::Ready(true));
            }
            let refused = ctx
                .exec(
                    client,
                    Command::shell(format!("grep -q 'Authentication failed' {log}")),
                )
                .await?
                .success();
            Ok(if refused && !mounted {
                Poll::Ready(false)
            } else {
                Poll::Pending(format!("{path} not mounted, no authentication failure in {log}"))
            })
        },
    )
    .await?;
    if works {
        ctx.sh(client, format!("umount {path}")).await?;
    }
    Ok(works)
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let client = ctx.client(0)?;
    let ip = mgmt::ip_of(&ctx, &client).await?;
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;

    // auth.allow naming another address only, set on the stopped volume.
    let other = "192.0.2.10";
    vol.set(&ctx, "auth.allow", other).await?;
    ensure_eq!(
        vol.info(&ctx).await?.options.get("auth.allow").map(String::as_str),
        Some(other),
        "auth.allow in volume info of the stopped volume"
    );
    vol.start_and_wait(&ctx).await?;
    ensure!(
        !can_mount(&ctx, &client, &vol).await?,
        "{} ({ip}) mounted {} although auth.allow is {other}",
        client.name(),
        vol.name
    );

    vol.stop(&ctx).await?;
    vol.reset(&ctx, "auth.allow").await?;
    vol.set(&ctx, "auth.reject", &ip).await?;
    vol.start_and_wait(&ctx).await?;
    ensure!(
        !can_mount(&ctx, &client, &vol).await?,
        "{} ({ip}) mounted {} although auth.reject is {ip}",
        client.name(),
        vol.name
    );

    vol.reset(&ctx, "auth.reject").await?;
    ensure!(
        !vol.info(&ctx).await?.options.contains_key("auth.reject"),
        "auth.reject still set after its reset"
    );
    // GlusterFS 10.3: a running brick does not drop an auth.reject that is reset (a set is
    // applied live, a reset is not: the client stays refused); the brick takes it when restarted.
    vol.stop(&ctx).await?;
    vol.start_and_wait(&ctx).await?;
    ensure!(
        can_mount(&ctx, &client, &vol).await?,
        "{} ({ip}) cannot mount {} with auth.allow and auth.reject reset (volume restarted)",
        client.name(),
        vol.name
    );
    let m = mount::mount(&ctx, &client, &vol).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("f", 2, 64 << 10)).await?;
    for b in &vol.bricks {
        io::verify(&ctx, &b.node, &b.path, &sums).await?;
    }
    Ok(())
}
