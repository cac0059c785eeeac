//! A rebalance leaves files with several hard links where they are and keeps every link: after
//! `add-brick` and a rebalance that completes without failures, plain files of the same directory
//! moved to the added brick while the hard-linked ones were skipped (the status counts them) and
//! keep their data on their old brick; every name (in the same directory, a sibling and a nested
//! directory) still has the file's inode and link count and reads back with its checksum, and new
//! links to the files can be made (the count grows by one).
//!
//! Ported from GlusterFS `tests/bugs/distribute/bug-1161311.t` (hard links of a file under
//! rebalance: the link count and the inode of every name are those of the original afterwards,
//! and further links raise the count). GlusterFS 10.3 migrates a hard-linked file only for
//! `remove-brick`, and there it lost names here (a link name's entry removed as a stale link file
//! during the migration), so the scenario checks the rebalance, which skips such files.
use crate::prelude::*;

pub const CASE: Case = Case::new(718, "rebalance_hardlinks", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const FILES: usize = 12;
/// Names of each file besides `d1/f-I`.
const LINKS: [&str; 3] = ["d1/f-I.a", "d2/f-I", "d2/d3/f-I"];

fn names(i: usize) -> Vec<String> {
    let mut n = vec![format!("d1/f-{i}")];
    n.extend(LINKS.iter().map(|l| l.replace('I', &i.to_string())));
    n
}

/// `inode links` (or `missing`) of every name of every file, as the mount shows them.
async fn inodes(ctx: &Ctx, m: &mount::Mount) -> Result<Vec<Vec<String>>, TestError> {
    let mut all = Vec::new();
    for i in 0..FILES {
        let paths: Vec<String> = names(i).iter().map(|n| format!("{}/{n}", m.path)).collect();
        let out = ctx
            .sh(&m.node, format!("for p in {}; do stat -c '%i %h' \"$p\" 2>/dev/null || echo missing; done", paths.join(" ")))
            .await?;
        all.push(out.lines().map(|l| l.trim().to_string()).collect());
    }
    Ok(all)
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("mkdir -p {p}/d1 {p}/d2/d3", p = m.path)).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("d1/f", FILES, 64 << 10)).await?;
    for i in 0..FILES {
        for n in &names(i)[1..] {
            fileops::hardlink(&ctx, &client, &format!("{}/d1/f-{i}", m.path), &format!("{}/{n}", m.path)).await?;
        }
    }
    let before = inodes(&ctx, &m).await?;
    for (i, group) in before.iter().enumerate() {
        ensure!(group.iter().all(|g| *g == group[0]), "names of d1/f-{i} differ before the rebalance: {group:?}");
        ensure!(group[0].ends_with(" 4"), "d1/f-{i} should have 4 links, stat says {}", group[0]);
    }

    let plain = io::write_files(&ctx, &client, &m.path, &io::files("d1/p", 20, 16 << 10)).await?;
    let mut held = Vec::new();
    for i in 0..FILES {
        held.push(dht::data_bricks(&ctx, &vol, &format!("d1/f-{i}")).await?);
    }

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    let p = dht::rebalance(&ctx, &vol, Duration::from_secs(300)).await?;
    ensure!(dht::total_files(&p) > 0, "rebalance migrated no file: {p:?}");
    let skipped: u64 = p.iter().map(|n| n.skipped).sum();
    ensure!(skipped > 0, "rebalance skipped no hard-linked file: {p:?}");
    let new = &vol.bricks[3];
    let on_new = io::brick_files(&ctx, &new.node, &new.path).await?;
    ensure!(on_new.iter().any(|f| f.starts_with("d1/p-")), "no plain file of d1 was migrated to the added brick: {on_new:?}");
    for (i, was) in held.iter().enumerate() {
        ensure_eq!(&dht::data_bricks(&ctx, &vol, &format!("d1/f-{i}")).await?, was, "bricks holding d1/f-{i} (hard-linked) after the rebalance");
    }
    io::verify(&ctx, &client, &m.path, &plain).await?;

    let after = inodes(&ctx, &m).await?;
    for (i, (a, b)) in after.iter().zip(&before).enumerate() {
        ensure_eq!(a, b, "inode and link count of every name of d1/f-{i} after the rebalance");
    }
    for i in 0..FILES {
        let subs: Vec<usize> = {
            let mut s = Vec::new();
            for n in names(i) {
                s.push(dht::data_subvol(&ctx, &vol, &n).await?);
            }
            s
        };
        ensure!(subs.iter().all(|s| *s == subs[0]), "the names of d1/f-{i} have their data on different subvolumes: {subs:?}");
    }
    let mut all_names = Vec::new();
    for (i, s) in sums.iter().enumerate() {
        for n in names(i) {
            all_names.push(io::FileSum { name: n, ..s.clone() });
        }
    }
    io::verify(&ctx, &client, &m.path, &all_names).await?;

    for (i, group) in before.iter().enumerate() {
        fileops::hardlink(&ctx, &client, &format!("{}/d2/f-{i}", m.path), &format!("{}/new{i}", m.path)).await?;
        let st = fileops::stat(&ctx, &client, &format!("{}/d1/f-{i}", m.path), "%i %h").await?;
        let inode = group[0].split(' ').next().unwrap_or_default();
        ensure_eq!(st, format!("{inode} 5"), "inode and link count of d1/f-{i} after one more link");
    }
    Ok(())
}
