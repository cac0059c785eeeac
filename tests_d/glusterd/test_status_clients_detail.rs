//! `volume status VOL clients` lists a FUSE mount as a client of every brick, with the bytes it
//! exchanged growing as the client writes, and no longer once it is unmounted; `volume status VOL
//! detail` reports each brick's filesystem as the brick's server sees it (size, inodes, block
//! size and type from `stat -f` of the brick directory).
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_volume_status.py` (volume status
//! with clients while I/O runs on a mount) and `test_gluster_volume_status_xml_dump.py`
//! (the XML of `volume status` parsed, per brick).
use crate::prelude::*;

pub const CASE: Case = Case::new(771, "status_clients_and_detail", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let client = ctx.client(0)?;
    let client_ip = mgmt::ip_of(&ctx, &client).await?;
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::replicate(2)).await?;

    // The mount's connection to every brick, as glusterd reports it.
    let of_client = |rows: &[vstatus::BrickClients], b: &Brick| -> Option<vstatus::Client> {
        rows.iter()
            .find(|r| r.path == b.path && r.host == b.node.host())
            .and_then(|r| r.clients.iter().find(|c| c.ip() == client_ip).cloned())
    };
    let rows = vstatus::clients(&ctx, &vol).await?;
    ensure_eq!(rows.len(), vol.bricks.len(), "bricks in volume status clients: {rows:?}");
    let mut first = Vec::new();
    for b in &vol.bricks {
        let c = of_client(&rows, b).ok_or_else(|| {
            TestError::Check(format!(
                "volume status clients does not list the mount on {} ({client_ip}) for brick {}: {rows:?}",
                client.name(),
                b.spec()
            ))
        })?;
        let row = rows.iter().find(|r| r.path == b.path).expect("found above");
        ensure_eq!(row.count, row.clients.len(), "clientCount of brick {}", b.spec());
        first.push(c);
    }

    io::write_files(&ctx, &client, &m.path, &io::files("f", 4, 1 << 20)).await?;
    let rows = vstatus::clients(&ctx, &vol).await?;
    for (b, before) in vol.bricks.iter().zip(&first) {
        let c = of_client(&rows, b).ok_or_else(|| {
            TestError::Check(format!("the mount is no longer a client of {} after writing", b.spec()))
        })?;
        ensure!(
            c.bytes_read >= before.bytes_read + (4 << 20),
            "brick {} read {} bytes from the mount after 4 MiB were written (was {})",
            b.spec(),
            c.bytes_read,
            before.bytes_read
        );
    }

    let details = vstatus::detail(&ctx, &vol).await?;
    ensure_eq!(details.len(), vol.bricks.len(), "bricks in volume status detail");
    for b in &vol.bricks {
        let d = details
            .iter()
            .find(|d| d.path == b.path && d.host == b.node.host())
            .ok_or_else(|| TestError::Check(format!("volume status detail does not list {}", b.spec())))?;
        ensure!(d.online, "brick {} offline in volume status detail", b.spec());
        // %b blocks of %S bytes, %c inodes, and the type of the filesystem holding it, as the brick's server sees its directory.
        let st = ctx
            .sh(
                &b.node,
                format!("stat -f -c '%b %S %c' {0}; findmnt -n -o FSTYPE -T {0}", b.path),
            )
            .await?;
        let w: Vec<&str> = st.split_whitespace().collect();
        ensure!(w.len() == 4, "stat -f printed {st:?}");
        let blocks: u64 = w[0].parse().map_err(|_| TestError::Check(format!("stat -f: {st:?}")))?;
        let bsize: u64 = w[1].parse().map_err(|_| TestError::Check(format!("stat -f: {st:?}")))?;
        let inodes: u64 = w[2].parse().map_err(|_| TestError::Check(format!("stat -f: {st:?}")))?;
        ensure_eq!(d.block_size, bsize, "block size of brick {}", b.spec());
        ensure_eq!(d.size_total, blocks * bsize, "size of brick {}'s filesystem", b.spec());
        ensure_eq!(d.inodes_total, inodes, "inodes of brick {}'s filesystem", b.spec());
        ensure!(
            d.size_free > 0 && d.size_free <= d.size_total && d.inodes_free <= d.inodes_total,
            "brick {}: free {} of {} bytes, {} of {} inodes",
            b.spec(),
            d.size_free,
            d.size_total,
            d.inodes_free,
            d.inodes_total
        );
        ensure!(!d.fs_name.is_empty() && !d.device.is_empty(), "brick {} has no filesystem type or device: {d:?}", b.spec());
        ensure!(
            d.fs_name == w[3],
            "filesystem type of brick {}: gluster says {}, findmnt says {}",
            b.spec(),
            d.fs_name,
            w[3]
        );
    }

    mount::unmount(&ctx, &m).await?;
    wait_for(
        &ctx,
        "the unmounted client to leave every brick's client list",
        Duration::from_secs(60),
        Duration::from_secs(1),
        || async {
            let rows = vstatus::clients(&ctx, &vol).await?;
            let still: Vec<String> = vol
                .bricks
                .iter()
                .filter(|b| of_client(&rows, b).is_some())
                .map(Brick::spec)
                .collect();
            Ok(if still.is_empty() {
                Poll::Ready(())
            } else {
                Poll::Pending(format!("{client_ip} still a client of {still:?}"))
            })
        },
    )
    .await?;
    Ok(())
}
