//! Growing replica 2 to replica 3 with `add-brick replica 3` and `heal full`: with the self-heal
//! daemon off, the new brick on the third server starts empty, the old bricks blame it for the root's entries, and a full heal
//! fills it with every directory, file, hard link, symlink and mode of the mount, with the same
//! gfids; nothing stays blamed and client quorum becomes `auto` as on any replica 3.
//!
//! Ported from GlusterFS `tests/basic/afr/add-brick-self-heal.t` (files and directories on
//! replica 2, add-brick replica 3, pending xattrs on the old bricks' root for the new one, heal,
//! the new brick holds the same tree) and glusto-tests
//! `tests/functional/afr/test_dist_to_repl_automatic_heal_should_be_triggered.py`, with `heal full`
//! instead of waiting for the index heal.
use crate::prelude::*;

pub const CASE: Case = Case::new(420, "add_brick_replica_2_to_3", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    // The new brick's directory is removed after the volume is deleted (cleanups run in reverse).
    let third = ctx.server(2)?;
    let dir = format!("{}/{}", third.brick_root(), ctx.unique("added"));
    ctx.defer(Cleanup::Command {
        node: third.clone(),
        command: Command::new("rm").args(["-rf", &dir]),
    });
    let vol = volume::create(&ctx, VolumeSpec::replicate(2)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let d = format!("{}/data", m.path);
    fileops::deep_tree(&ctx, &client, &d, 2, 2, 2, 16384).await?;
    fileops::hardlink(&ctx, &client, &format!("{d}/file0"), &format!("{d}/hard")).await?;
    fileops::symlink(&ctx, &client, "file1", &format!("{d}/soft")).await?;
    fileops::chmod(&ctx, &client, &format!("{d}/file1"), 0o604).await?;
    let before = tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;

    // As in the original, the daemon is off until the heal, so the new brick stays empty until then.
    vol.set(&ctx, "cluster.self-heal-daemon", "off").await?;
    let new = Brick { node: third.clone(), path: dir.clone() };
    ctx.sh(&third, format!("mkdir -p {dir}")).await?;
    gluster(&ctx, &vol.server, ["volume", "add-brick", vol.name.as_str(), "replica", "3", &new.spec(), "force"]).await?;
    let mut vol = vol.clone();
    vol.bricks.push(new.clone());
    vol.layout = Layout::Replicate { replica: 3 };
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    ensure_eq!(vol.info(&ctx).await?.bricks.len(), 3, "bricks after add-brick");
    let empty = ctx.sh(&third, format!("ls -A {dir} | grep -v -e '^.glusterfs$' -e '^.trashcan$' | wc -l")).await?;
    ensure_eq!(empty.trim(), "0", "names on the new brick before any heal");
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    // A lookup of the root makes the old bricks record what the new one lacks.
    ctx.sh(&client, format!("ls {} > /dev/null", m.path)).await?;
    let root = xattr::on_brick(&ctx, &vol.bricks[0], "/").await?.afr(&vol.name, 2);
    ensure!(
        root.is_some_and(|p| p.entry > 0),
        "the root of {} should blame the new brick #2 for entries: {root:?}",
        vol.bricks[0].spec()
    );

    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::full(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    let on_new = tree::of_brick(&ctx, &new, Scope::FULL).await?;
    tree::ensure_same(&before, &on_new)?;
    for rel in ["data", "data/file0", "data/dir0.0/file1"] {
        let want = xattr::gfid_on_brick(&ctx, &vol.bricks[0], rel).await?;
        ensure_eq!(xattr::gfid_on_brick(&ctx, &new, rel).await?, want, "gfid of {rel} on the new brick");
    }
    let x = xattr::on_brick(&ctx, &vol.bricks[0], "/").await?;
    ensure!(x.afr_clean(&vol.name), "the root still blames a brick after heal: {:?}", x.afr_all(&vol.name));
    ensure_eq!(vol.get(&ctx, "cluster.quorum-type").await?, "auto", "client quorum of the grown volume");
    tree::ensure_volume_matches(&ctx, &vol, &m, Scope::FULL).await?;
    Ok(())
}
