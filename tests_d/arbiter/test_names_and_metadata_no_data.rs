//! The arbiter brick of each set holds every name with its metadata (gfid, mode, user xattrs)
//! but no data: the client graph reports `arbiter-count` 1 for each replicate subvolume, the data
//! bricks of a set hold the same contents as the mount, and the arbiter's copies are empty files
//! carrying the same gfid and user xattr as the data bricks'.
//!
//! Ported from GlusterFS `tests/basic/afr/arbiter.t` (the `.meta/graphs/active/<vol>-replicate-0/
//! options/arbiter-count` value of an arbiter volume, a file and a user xattr written through the
//! mount) and the size checks of `tests/basic/afr/arbiter-add-brick.t` (files of 1 MiB on the
//! mount are 0 bytes on the arbiter brick). Runs on 1 x (2 + 1) and 2 x (2 + 1).
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(500, "arbiter_holds_names_and_metadata_not_data", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.runs_on(VolumeType::ARBITER)
.timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = arbiter::mounted(&ctx, ctx.matrix_spec()?).await?;
    let client = m.node.clone();
    for set in 0..brick::sets(&vol).len() {
        let opt = format!(
            "{}/.meta/graphs/active/{}-replicate-{set}/options/arbiter-count",
            m.path, vol.name
        );
        let count = ctx.sh(&client, format!("cat {opt}")).await?;
        ensure_eq!(count.trim(), "1", "arbiter-count of replicate-{set} on the client");
    }
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("d/f", 10, 256 * 1024)).await?;
    fileops::set_user_xattr(&ctx, &client, &format!("{}/d/f-3", m.path), "name", "value1")
        .await?;
    fileops::chmod(&ctx, &client, &format!("{}/d/f-4", m.path), 0o640).await?;
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;

    let on_arbiters = arbiter::ensure_no_data(&ctx, &vol).await?;
    ensure_eq!(on_arbiters, sums.len(), "files named on the arbiter bricks");
    // Each file lives on one set (DHT link files elsewhere are not copies): its three bricks, arbiter included, carry its gfid; the
    // arbiter also carries its user xattr.
    for s in &sums {
        let gfid = xattr::gfid_on_mount(&ctx, &client, &format!("{}/{}", m.path, s.name)).await?;
        let copies: Vec<xattr::Xattrs> = xattr::on_bricks(&ctx, &vol, &s.name)
            .await?
            .into_iter()
            .filter(|x| x.gfid().is_some() && x.get("trusted.glusterfs.dht.linkto").is_none())
            .collect();
        ensure_eq!(copies.len(), 3, "bricks holding {} (two data, one arbiter)", s.name);
        for x in &copies {
            ensure_eq!(x.gfid(), Some(gfid.clone()), "gfid of {} on {}:{}", s.name, x.node, x.path);
            if s.name == "d/f-3" {
                ensure_eq!(
                    x.get("user.name"),
                    Some(&b"value1"[..]),
                    "user.name of d/f-3 on {}:{}",
                    x.node,
                    x.path
                );
            }
        }
    }
    Ok(())
}
