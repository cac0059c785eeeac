//! Renaming a directory on a distribute volume renames it on every brick: the old name is gone
//! from all of them and the new one is there with the same gfid and the same hash ranges, every
//! file keeps its brick (no data moves) and reads back the same. Renaming onto an existing empty
//! directory replaces it; onto a non-empty one is refused with "Directory not empty" and changes
//! nothing.
//!
//! Ported from glusto-tests `tests/functional/dht/test_rename_directory.py`
//! (`test_rename_directory_no_destination_folder` and `..._with_dest_folder`: after `mv` the old
//! directory is absent and the new one present on the mount and on every brick), plus the
//! layout, gfid and placement checks and the non-empty refusal.
use crate::prelude::*;

pub const CASE: Case = Case::new(717, "rename_directory", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

async fn placement(ctx: &Ctx, vol: &Volume) -> Result<Vec<Vec<String>>, TestError> {
    let mut all = Vec::new();
    for b in &vol.bricks {
        let mut files = io::brick_files(ctx, &b.node, &b.path).await?;
        files.retain(|f| !f.starts_with("full/"));
        files.sort();
        all.push(files);
    }
    Ok(all)
}

async fn present(ctx: &Ctx, vol: &Volume, rel: &str) -> Result<Vec<bool>, TestError> {
    let mut all = Vec::new();
    for b in &vol.bricks {
        let p = xattr::brick_path(b, rel);
        all.push(ctx.sh(&b.node, format!("test -d '{p}' && echo yes || echo no")).await?.trim() == "yes");
    }
    Ok(all)
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    let mut files = io::files("src/f", 20, 4 << 10);
    files.extend(io::files("src/sub/g", 10, 4 << 10));
    io::write_files(&ctx, &client, &m.path, &files).await?;
    ctx.sh(&client, format!("mkdir {0}/empty {0}/full && touch {0}/full/x", m.path)).await?;
    let layout = dht::ensure_layout_complete(&ctx, &vol, "src").await?;
    let gfid = xattr::gfid_on_mount(&ctx, &client, &format!("{}/src", m.path)).await?;
    let placed = placement(&ctx, &vol).await?;

    // No destination: renamed on every brick, same gfid and layout, no data moved.
    fileops::rename(&ctx, &client, &format!("{}/src", m.path), &format!("{}/dst", m.path)).await?;
    ensure_eq!(present(&ctx, &vol, "src").await?, vec![false; 3], "src on the bricks after renaming it to dst");
    ensure_eq!(present(&ctx, &vol, "dst").await?, vec![true; 3], "dst on the bricks after the rename");
    ensure_eq!(dht::ensure_layout_complete(&ctx, &vol, "dst").await?, layout, "hash ranges of dst (those of src)");
    ensure_eq!(xattr::gfid_on_mount(&ctx, &client, &format!("{}/dst", m.path)).await?, gfid, "gfid of dst (that of src)");
    let moved: Vec<Vec<String>> = placed
        .iter()
        .map(|l| {
            let mut v: Vec<String> = l.iter().map(|f| f.replacen("src/", "dst/", 1)).collect();
            v.sort();
            v
        })
        .collect();
    ensure_eq!(placement(&ctx, &vol).await?, moved, "files per brick after the directory rename");

    // Onto an empty directory: it is replaced.
    fileops::rename(&ctx, &client, &format!("{}/dst", m.path), &format!("{}/empty", m.path)).await?;
    ensure_eq!(present(&ctx, &vol, "dst").await?, vec![false; 3], "dst on the bricks after renaming it onto empty");
    ensure_eq!(xattr::gfid_on_mount(&ctx, &client, &format!("{}/empty", m.path)).await?, gfid, "gfid of empty after the rename onto it");
    let mut renamed: Vec<(String, u64)> = files.iter().map(|(n, s)| (n.replacen("src/", "empty/", 1), *s)).collect();
    renamed.sort();
    let listed = ctx.sh(&client, format!("cd {} && find empty -type f", m.path)).await?;
    let mut listed: Vec<String> = listed.lines().map(str::to_string).collect();
    listed.sort();
    ensure_eq!(listed, renamed.iter().map(|f| f.0.clone()).collect::<Vec<_>>(), "files under empty after the rename");

    // Onto a non-empty directory: refused, both stay.
    let out = mount::attempt(&ctx, &client, &m.path, "mv -T \"$M/empty\" \"$M/full\"", Duration::from_secs(30)).await?;
    ensure!(!out.success(), "renaming a directory onto the non-empty full should be refused, it succeeded");
    ensure!(out.stderr_str().contains("Directory not empty"), "renaming onto the non-empty full failed with an unexpected error: {}", out.stderr_str());
    ensure_eq!(present(&ctx, &vol, "empty").await?, vec![true; 3], "empty on the bricks after the refused rename");
    ctx.sh(&client, format!("test -f {}/full/x", m.path)).await?;
    ensure_eq!(dht::ensure_layout_complete(&ctx, &vol, "empty").await?, layout, "hash ranges of the renamed directory at the end");
    Ok(())
}
