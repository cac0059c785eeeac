//! Renames and DHT link files, the cases where the destination does not exist: a rename to a name
//! hashed to the subvolume already holding the data creates no link file; a rename across
//! subvolumes creates one on the new name's hashed subvolume; renaming that (linked) file again to
//! a name hashed to a third subvolume removes the old link file and creates one there; and
//! deleting the file removes its data and its link file from every brick.
//!
//! Ported from glusto-tests
//! `tests/functional/dht/test_file_rename_when_destination_file_doesnot_exist.py` (case 2: same
//! hashed subvolume, no link; case 3: source link on s1, data on s2, destination hashed to s3:
//! the source link is removed and a destination link created on s3), plus the unlink leaving no
//! link file behind.
use crate::prelude::*;

pub const CASE: Case = Case::new(704, "rename_link_cleanup", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("mkdir {}/d", m.path)).await?;
    let by = dht::names_by_subvol(&ctx, &vol, &m, "d", "n", 60).await?;
    ensure!(
        by.len() == 3 && by[0].len() >= 2 && by.iter().all(|n| !n.is_empty()),
        "60 names do not cover the three subvolumes (two on the first): {by:?}"
    );
    let (s, t, u) = (0, 1, 2);
    let (a, same, other, third) = (by[s][0].clone(), by[s][1].clone(), by[t][0].clone(), by[u][0].clone());
    let d = format!("{}/d", m.path);
    let rel = |n: &str| format!("d/{n}");
    let sums = io::write_files(&ctx, &client, &d, &[(a.clone(), 50_000)]).await?;
    ensure_eq!(dht::data_subvol(&ctx, &vol, &rel(&a)).await?, s, "subvolume of d/{a}");

    // Case 2: the same hashed subvolume, a plain rename on that brick.
    fileops::rename(&ctx, &client, &format!("{d}/{a}"), &format!("{d}/{same}")).await?;
    ensure!(dht::links(&ctx, &vol, &rel(&same)).await?.is_empty(), "a link file for d/{same}, hashed to the data's subvolume {s}");
    ensure_eq!(dht::data_subvol(&ctx, &vol, &rel(&same)).await?, s, "subvolume of d/{same}");

    // Across subvolumes: a link file on the new name's hashed subvolume.
    fileops::rename(&ctx, &client, &format!("{d}/{same}"), &format!("{d}/{other}")).await?;
    let linkto = format!("{}-client-{s}", vol.name);
    ensure_eq!(dht::links(&ctx, &vol, &rel(&other)).await?, vec![(t, linkto.clone())], "link files for d/{other}");

    // Case 3: from the linked name to one hashed to a third subvolume.
    fileops::rename(&ctx, &client, &format!("{d}/{other}"), &format!("{d}/{third}")).await?;
    let old = dht::entries(&ctx, &vol, &rel(&other)).await?;
    ensure!(old.iter().all(|e| *e == dht::Entry::Absent), "d/{other} (and its link file) still on a brick: {old:?}");
    ensure_eq!(dht::links(&ctx, &vol, &rel(&third)).await?, vec![(u, linkto)], "link files for d/{third}");
    ensure_eq!(dht::data_subvol(&ctx, &vol, &rel(&third)).await?, s, "data of d/{third}");
    let mut moved = sums.clone();
    moved[0].name = third.clone();
    io::verify(&ctx, &client, &d, &moved).await?;

    ctx.sh(&client, format!("rm {d}/{third}")).await?;
    for name in [&a, &same, &other, &third] {
        let e = dht::entries(&ctx, &vol, &rel(name)).await?;
        ensure!(e.iter().all(|x| *x == dht::Entry::Absent), "d/{name} left on a brick after unlink: {e:?}");
    }
    for b in &vol.bricks {
        let l = dht::link_files(&ctx, &b.node, &b.path).await?;
        ensure!(l.is_empty(), "link files left on {}: {l:?}", b.spec());
    }
    Ok(())
}
