//! Renaming a file to a name that hashes to another subvolume leaves the data where it is and
//! puts a DHT link file on the new name's hashed subvolume: empty, mode `---------T`, its
//! `trusted.glusterfs.dht.linkto` naming the subvolume with the data; the old name is gone from
//! every brick and the contents read the same. Renaming it back removes the link file.
//!
//! Ported from glusto-tests
//! `tests/functional/dht/test_file_rename_when_destination_file_doesnot_exist.py` (case 1: source
//! and destination hashed to different subvolumes, a link file on the destination's hashed
//! subvolume; case 4: renamed again to a name hashed to the data's subvolume, the link file goes).
use crate::prelude::*;

pub const CASE: Case = Case::new(703, "rename_leaves_link_file", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    let sums = io::write_files(&ctx, &client, &m.path, &[("src".to_string(), 100_000)]).await?;
    let s = dht::data_subvol(&ctx, &vol, "src").await?;
    let by = dht::names_by_subvol(&ctx, &vol, &m, "", "dst", 30).await?;
    let (t, dst) = by
        .iter()
        .enumerate()
        .find(|(i, names)| *i != s && !names.is_empty())
        .map(|(i, names)| (i, names[0].clone()))
        .ok_or_else(|| TestError::Check(format!("no name of 30 hashes away from subvolume {s}: {by:?}")))?;
    ctx.step(format!("src is on subvolume {s}; {dst} hashes to {t}"));

    fileops::rename(&ctx, &client, &format!("{}/src", m.path), &format!("{}/{dst}", m.path)).await?;
    ensure_eq!(dht::data_subvol(&ctx, &vol, &dst).await?, s, "subvolume holding the renamed file's data");
    let links = dht::links(&ctx, &vol, &dst).await?;
    ensure_eq!(links, vec![(t, format!("{}-client-{s}", vol.name))], "link files for {dst} (brick, linkto)");
    let old = dht::entries(&ctx, &vol, "src").await?;
    ensure!(old.iter().all(|e| *e == dht::Entry::Absent), "the old name is still on a brick: {old:?}");
    let mut renamed = sums.clone();
    renamed[0].name = dst.clone();
    io::verify(&ctx, &client, &m.path, &renamed).await?;

    fileops::rename(&ctx, &client, &format!("{}/{dst}", m.path), &format!("{}/src", m.path)).await?;
    let after = dht::entries(&ctx, &vol, &dst).await?;
    ensure!(after.iter().all(|e| *e == dht::Entry::Absent), "{dst} left on a brick after renaming back: {after:?}");
    ensure!(dht::links(&ctx, &vol, "src").await?.is_empty(), "a link file for src after renaming back");
    ensure_eq!(dht::data_subvol(&ctx, &vol, "src").await?, s, "subvolume of src after renaming back");
    io::verify(&ctx, &client, &m.path, &sums).await?;
    Ok(())
}
