//! A client rebooted with a volume mounted: afterwards its mount and FUSE process are gone and the
//! bricks have dropped its connections; mounting again works (even with the client's GlusterFS log
//! directory removed: the mount makes it anew), everything written before the reboot reads back
//! with the same checksums, and new writes land. Port of glusto-tests
//! `tests/functional/glusterd/test_mount_after_removing_client_logs_dir.py`
//! (`test_mount_remove_client_logs_dir_remount`: remove `/var/log/glusterfs` on the client, then
//! unmount and mount again, I/O works and the logs are made anew); here the mount goes with a
//! reboot of the client instead of an unmount, and the data is checked across it.
use gflab_agent::shell::quote;

use crate::prelude::*;

pub const CASE: Case = Case::new(315, "client_reboot_then_remount", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1).with(&[Capability::Reboot]))
    .timeout_secs(400)
.disruptive();

/// Where the FUSE client logs.
const LOG_DIR: &str = "/var/log/glusterfs";

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::distributed_replicate(3, 2)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let mut files = io::files("top", 6, 150_000);
    files.extend(io::files("d1/f", 6, 150_000));
    files.extend(io::files("d1/d2/g", 6, 150_000));
    let before = io::write_files(&ctx, &client, &m.path, &files).await?;

    let ip = client_address(&ctx, &vol.server, &client).await?;
    let connections = brick_connections(&ctx, &vol, &ip).await?;
    ensure!(
        connections > 0,
        "volume status clients lists no connection from {} ({ip}) while it has the volume mounted",
        client.name()
    );

    // As the source: the client's logs go away. The directory itself stays (on a lab it is a
    // volume of its own and cannot be moved); its contents are kept aside and put back at the end.
    let aside = format!("/var/tmp/{}", ctx.unique("client-logs"));
    let a = quote(&aside);
    ctx.defer(Cleanup::Command {
        node: client.clone(),
        command: Command::shell(format!(
            "if [ -d {a} ]; then find {a} -mindepth 1 -maxdepth 1 -exec mv -f -t {LOG_DIR} {{}} + \
             && rmdir {a}; fi"
        )),
    });
    ctx.sh(
        &client,
        format!(
            "mkdir -p {a} && find {LOG_DIR} -mindepth 1 -maxdepth 1 -exec mv -t {a} {{}} + \
             && [ -z \"$(ls -A {LOG_DIR})\" ]"
        ),
    )
    .await?;

    fault::reboot(&ctx, &client).await?;

    // The mount and its FUSE process are gone; the bricks let go of the client.
    ensure!(
        !mount::is_mounted(&ctx, &client, &m.path).await?,
        "{} is still mounted on {} after its reboot",
        m.path,
        client.name()
    );
    let procs = ctx
        .sh(&client, "pgrep -a -x glusterfs || [ $? -eq 1 ]")
        .await?;
    let survivors: Vec<&str> = procs.lines().filter(|l| l.contains(&vol.name)).collect();
    ensure!(
        survivors.is_empty(),
        "a GlusterFS client process for {} survived the reboot of {}: {survivors:?}",
        vol.name,
        client.name()
    );
    let what = format!("the bricks to drop the connections of {} ({ip})", client.name());
    wait_for(
        &ctx,
        &what,
        Duration::from_secs(120),
        Duration::from_secs(2),
        || async {
            let n = brick_connections(&ctx, &vol, &ip).await?;
            Ok(if n == 0 {
                Poll::Ready(())
            } else {
                Poll::Pending(format!("{n} connection(s) listed"))
            })
        },
    )
    .await?;

    // Mount again: the data written before the reboot is all there.
    let again = mount::mount(&ctx, &client, &vol).await?;
    io::verify(&ctx, &client, &again.path, &before).await?;
    let logs = ctx
        .sh(&client, format!("ls -1 {LOG_DIR} 2>/dev/null || true"))
        .await?;
    let own = again.path.trim_start_matches('/').replace('/', "-");
    ensure!(
        logs.lines().any(|l| l.starts_with(&own)),
        "no log of the new mount ({own}.log) in {LOG_DIR} on {}: {:?}",
        client.name(),
        logs.trim()
    );
    ensure!(
        brick_connections(&ctx, &vol, &ip).await? > 0,
        "the remount of {} does not show in volume status clients",
        client.name()
    );
    let after = io::write_files(&ctx, &client, &again.path, &io::files("after", 6, 150_000)).await?;
    let all: Vec<io::FileSum> = before.into_iter().chain(after).collect();
    io::verify(&ctx, &client, &again.path, &all).await?;
    // Every file is on all three bricks of its replica set.
    for set in vol.bricks.chunks(3) {
        let mut copies = Vec::new();
        for b in set {
            copies.push(io::brick_files(&ctx, &b.node, &b.path).await?);
        }
        ensure!(
            copies.windows(2).all(|w| w[0] == w[1]),
            "the bricks of one replica set hold different files: {copies:?}"
        );
    }
    Ok(())
}

/// The IPv4 address `server` knows `client` by.
async fn client_address(ctx: &Ctx, server: &Node, client: &Node) -> Result<String, TestError> {
    let ip = ctx
        .sh(
            server,
            format!(
                "getent ahostsv4 {} | awk 'NR == 1 {{ print $1 }}'",
                quote(client.host())
            ),
        )
        .await?;
    let ip = ip.trim().to_string();
    if ip.is_empty() {
        return Err(TestError::Nodes(format!(
            "{} cannot resolve {}",
            server.name(),
            client.host()
        )));
    }
    Ok(ip)
}

/// How many brick connections `gluster volume status VOL clients` lists from `ip`.
async fn brick_connections(ctx: &Ctx, vol: &Volume, ip: &str) -> Result<usize, TestError> {
    let out = gluster(ctx, &vol.server, ["volume", "status", &vol.name, "clients"]).await?;
    let prefix = format!("{ip}:");
    Ok(out
        .lines()
        .filter(|l| l.trim_start().starts_with(&prefix))
        .count())
}
