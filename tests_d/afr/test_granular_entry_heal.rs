//! Granular entry heal: `cluster.granular-entry-heal` is on by default; with the self-heal daemon
//! off and a brick down, every name created, deleted, renamed or linked under a directory gets
//! its own index under `.glusterfs/indices/entry-changes/<gfid of the directory>/` on the good
//! bricks, a file created and deleted at once included, and a new directory its own. Once the
//! brick is back and healed those indices are gone, the deleted names are gone from the brick
//! that was down, and the bricks hold the mount's tree (hardlink, symlink and rename included).
//!
//! Ported from GlusterFS `tests/basic/afr/granular-esh/granular-esh.t` (indices per name for
//! creates, unlinks, renames, hard and symbolic links, a stale index, a new subdirectory; the heal
//! and the sink's names after it) and glusto-tests
//! `tests/functional/afr/test_default_granular_entry_heal.py` (on by default). Replica 3 here.
use crate::prelude::*;

pub const CASE: Case = Case::new(418, "granular_entry_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const ROOT_GFID: &str = "00000000-0000-0000-0000-000000000001";
const DOWN: usize = 0;
const GOOD: usize = 1;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeType::Replicate.spec()).await?;
    ensure_eq!(vol.get(&ctx, "cluster.granular-entry-heal").await?, "on", "default of cluster.granular-entry-heal");
    heal::set_self_heal(&ctx, &vol, false, false).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let p = &m.path;
    ctx.sh(&client, format!("for i in 1 2 3 4; do echo $i > {p}/f$i; done; mkdir {p}/dir && for i in 1 2 3; do echo $i > {p}/dir/g$i; done")).await?;
    let dir_gfid = xattr::gfid_on_mount(&ctx, &client, &format!("{p}/dir")).await?;

    brick::kill(&ctx, &vol, DOWN).await?;
    ctx.sh(
        &client,
        format!(
            "set -e; echo 5 > {p}/f5; echo 6 > {p}/f6; rm {p}/f1; mv {p}/f2 {p}/f2_renamed; \
             ln {p}/f3 {p}/link; ln -s f4 {p}/symlink; touch {p}/stale; rm {p}/stale; \
             mkdir -p {p}/newdir/sub; echo x > {p}/newdir/sub/h; rm -rf {p}/dir"
        ),
    )
    .await?;
    let good = &vol.bricks[GOOD];
    let idx = |g: &str| format!("{}/.glusterfs/indices/entry-changes/{g}", good.path);
    let root_idx = idx(ROOT_GFID);
    // A missing index directory lists nothing (the check below names what is missing).
    let listed = ctx.sh(&good.node, format!("ls -A {root_idx} 2>/dev/null; true")).await?;
    let listed: Vec<&str> = listed.split_whitespace().collect();
    for name in ["f5", "f6", "f1", "f2", "f2_renamed", "link", "symlink", "stale", "newdir", "dir"] {
        ensure!(listed.contains(&name), "no granular index for /{name} on {}: {listed:?}", good.spec());
    }
    let in_dir = ctx
        .sh(&good.node, format!("ls -A {} 2>/dev/null; true", idx(&dir_gfid)))
        .await?;
    ensure_eq!(
        in_dir.split_whitespace().collect::<Vec<_>>(),
        vec!["g1", "g2", "g3"],
        "granular indices under the removed dir's gfid"
    );

    brick::bring_back(&ctx, &vol).await?;
    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    let left = ctx
        .sh(&good.node, format!("ls -A {root_idx} 2>/dev/null | wc -l"))
        .await?;
    ensure_eq!(left.trim(), "0", "granular indices left for / on {} after heal", good.spec());
    let sink = &vol.bricks[DOWN];
    for gone in ["f1", "f2", "stale", "dir"] {
        let out = ctx.exec(&sink.node, Command::new("stat").arg(xattr::brick_path(sink, gone))).await?;
        ensure!(!out.success(), "{gone} still on {} after heal of its removal", sink.spec());
    }
    let links = fileops::stat(&ctx, &sink.node, &xattr::brick_path(sink, "f3"), "%h").await?;
    ensure_eq!(links.trim(), "3", "hard links of f3 on {} (f3, link, the gfid link)", sink.spec());
    let target = ctx.sh(&sink.node, format!("readlink {}", xattr::brick_path(sink, "symlink"))).await?;
    ensure_eq!(target.trim(), "f4", "symlink target on {}", sink.spec());
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    Ok(())
}
