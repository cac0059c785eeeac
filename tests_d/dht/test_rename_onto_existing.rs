//! Renaming a file onto an existing file replaces the destination: when the two names hash to
//! different subvolumes, the destination's old data is removed from every brick, the source's data
//! stays where it was and a link file on the destination's hashed subvolume points at it; when
//! both names hash to the same subvolume the rename happens on that brick and no link file is
//! made. In both cases the source name is gone from every brick and the destination reads back the
//! source's contents.
//!
//! Ported from glusto-tests
//! `tests/functional/dht/test_dht_file_rename_when_destination_file_exists.py` (case 6: source on
//! its hashed subvolume s1, destination on another s2, after `mv` the destination's data is gone
//! and a link file is on s2; case 7: both hashed to the same subvolume, no link file).
use crate::prelude::*;

pub const CASE: Case = Case::new(713, "rename_onto_existing", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("mkdir {}/d", m.path)).await?;
    let by = dht::names_by_subvol(&ctx, &vol, &m, "d", "n", 40).await?;
    ensure!(
        by.len() == 2 && by.iter().all(|n| n.len() >= 3),
        "40 names do not give three on each of the two subvolumes: {by:?}"
    );
    let d = format!("{}/d", m.path);
    let rel = |n: &str| format!("d/{n}");

    // Case 6: source on s0, an existing destination hashed to (and stored on) s1.
    let (src, dst) = (by[0][0].clone(), by[1][0].clone());
    let sums = io::write_files(&ctx, &client, &d, &[(src.clone(), 70_000), (dst.clone(), 30_000)]).await?;
    ensure_eq!(dht::data_subvol(&ctx, &vol, &rel(&src)).await?, 0, "subvolume of d/{src}");
    ensure_eq!(dht::data_subvol(&ctx, &vol, &rel(&dst)).await?, 1, "subvolume of d/{dst}");
    fileops::rename(&ctx, &client, &format!("{d}/{src}"), &format!("{d}/{dst}")).await?;
    let e = dht::entries(&ctx, &vol, &rel(&dst)).await?;
    ensure_eq!(
        e,
        vec![dht::Entry::Data { size: 70_000 }, dht::Entry::Link { to: format!("{}-client-0", vol.name) }],
        "d/{dst} on the bricks after renaming d/{src} onto it (source data on #0, the old 30000-byte destination replaced by a link file on #1)"
    );
    let gone = dht::entries(&ctx, &vol, &rel(&src)).await?;
    ensure!(gone.iter().all(|x| *x == dht::Entry::Absent), "d/{src} still on a brick after the rename: {gone:?}");
    let mut moved = sums[0].clone();
    moved.name = dst.clone();
    io::verify(&ctx, &client, &d, std::slice::from_ref(&moved)).await?;

    // Case 7: both names hashed to s0, the destination there too.
    let (src2, dst2) = (by[0][1].clone(), by[0][2].clone());
    let sums2 = io::write_files(&ctx, &client, &d, &[(src2.clone(), 40_000), (dst2.clone(), 10_000)]).await?;
    fileops::rename(&ctx, &client, &format!("{d}/{src2}"), &format!("{d}/{dst2}")).await?;
    ensure_eq!(
        dht::entries(&ctx, &vol, &rel(&dst2)).await?,
        vec![dht::Entry::Data { size: 40_000 }, dht::Entry::Absent],
        "d/{dst2} on the bricks after renaming d/{src2} (same hashed subvolume) onto it"
    );
    let gone = dht::entries(&ctx, &vol, &rel(&src2)).await?;
    ensure!(gone.iter().all(|x| *x == dht::Entry::Absent), "d/{src2} still on a brick after the rename: {gone:?}");
    let mut moved2 = sums2[0].clone();
    moved2.name = dst2.clone();
    io::verify(&ctx, &client, &d, &[moved.clone(), moved2]).await?;

    // Nothing else is left: the two destinations are the only names, one link file in all.
    let ls = ctx.sh(&client, format!("ls {d} | sort")).await?;
    let mut want = vec![dst.clone(), dst2.clone()];
    want.sort();
    ensure_eq!(ls.lines().map(str::to_string).collect::<Vec<_>>(), want, "names in d on the mount");
    let mut all_links = Vec::new();
    for b in &vol.bricks {
        all_links.extend(dht::link_files(&ctx, &b.node, &b.path).await?);
    }
    ensure_eq!(all_links, vec![rel(&dst)], "link files over all bricks");
    Ok(())
}
