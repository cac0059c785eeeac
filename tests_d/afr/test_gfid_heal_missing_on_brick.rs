//! Gfid heal of entries made behind GlusterFS's back: each brick gets a directory holding one file,
//! created directly on that brick alone (no gfid anywhere). Accessing them from the mount gives
//! every directory and file a gfid, and the heal that follows creates the missing copies, so each
//! brick holds all of them with one gfid per entry and each file's `.glusterfs` hard link (link
//! count 2). Replica 3, as the original (an
//! arbiter brick cannot be the only source of a file's data).
//!
//! Ported from glusto-tests `tests/functional/afr/test_gfid_heal.py` (a directory with a file on
//! each brick's backend, `ls` from the mount after two seconds, index heal, gfids and link counts
//! verified on every brick). The gfid equality across bricks is checked explicitly.
use crate::prelude::*;

pub const CASE: Case = Case::new(409, "gfid_heal_missing_on_brick", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Replicate.spec()).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let n = vol.bricks.len();
    for (i, b) in vol.bricks.iter().enumerate() {
        let d = xattr::brick_path(b, &format!("dir{i}"));
        ctx.sh(&b.node, format!("mkdir {d} && touch {d}/file{i}")).await?;
    }
    // Fresh files (under a second old) are left alone by AFR's lookup.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for i in 0..n {
        ctx.sh(&client, format!("ls {}/dir{i}/file{i}", m.path)).await?;
    }
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;

    for i in 0..n {
        for rel in [format!("dir{i}"), format!("dir{i}/file{i}")] {
            let want = xattr::gfid_on_mount(&ctx, &client, &format!("{}/{rel}", m.path)).await?;
            for b in &vol.bricks {
                let got = xattr::on_brick(&ctx, b, &rel).await?.gfid();
                ensure_eq!(got.as_deref(), Some(want.as_str()), "gfid of {rel} on {} and on the mount", b.spec());
                if rel.contains("/file") {
                    let links = fileops::stat(&ctx, &b.node, &xattr::brick_path(b, &rel), "%h").await?;
                    ensure_eq!(links.trim(), "2", "link count of {rel} on {} (the name and its gfid link)", b.spec());
                }
            }
        }
    }
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    Ok(())
}
