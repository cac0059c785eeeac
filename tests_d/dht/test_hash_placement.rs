//! A new file is created on the subvolume whose hash range, in its directory's layout, holds the
//! DHT hash of its name: for 26 names in the root and in two subdirectories (each with its own
//! layout) the data is on exactly that brick and on no other, and the client's
//! `trusted.glusterfs.pathinfo` names that brick. An rsync temporary name `.NAME.XXXXXX` is placed
//! by the hash of `NAME` (DHT's default `rsync-hash-regex`), not of the whole name. Directories
//! exist on every brick with one gfid.
//!
//! Ported from glusto-tests `tests/functional/dht/test_dht_hash_value.py` (files in the root and in
//! subdirectories, layout complete, each file on its hashed brick, same gfid on every brick) and
//! `test_verify_create_hash.py` (the hash of `file1` computed, the file only on the brick whose
//! range holds it, pathinfo names it); the hash is GlusterFS's Davies-Meyer function
//! (`hashing::dht_hash`).
use crate::prelude::*;

pub const CASE: Case = Case::new(732, "hash_placement", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const DIRS: [&str; 3] = ["", "A", "B"];

fn names() -> Vec<String> {
    (b'a'..=b'z').map(|c| format!("{}_0", c as char)).collect()
}

/// rsync temporary names: `.kept-N.Xy12Ab`.
fn temp_names() -> Vec<String> {
    (0..12).map(|i| format!(".kept-{i}.Xy12Ab")).collect()
}

fn rel(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") }
}

/// Which subvolume each data file of `dir` is on (from the first brick of each set).
async fn placement(ctx: &Ctx, vol: &Volume, dir: &str) -> Result<Vec<(String, usize)>, TestError> {
    let mut found = Vec::new();
    for (s, b) in vol.bricks.iter().enumerate() {
        let d = xattr::brick_path(b, dir);
        let out = ctx.sh(&b.node, format!("cd {d} && find . -maxdepth 1 -type f ! -perm -1000 -printf '%f\\n' | sort")).await?;
        found.extend(out.lines().map(|n| (n.to_string(), s)));
    }
    Ok(found)
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    let mut all: Vec<String> = names();
    all.extend(temp_names());
    ctx.sh(&client, format!("cd {} && mkdir A B", m.path)).await?;
    for dir in DIRS {
        let d = format!("{}/{}", m.path, dir);
        ctx.sh(&client, format!("cd {d} && for f in {}; do echo \"text of $f\" > \"$f\"; done", all.join(" "))).await?;
    }

    let mut moved_by_munging = 0;
    for dir in DIRS {
        let ranges = dht::ensure_layout_complete(&ctx, &vol, dir).await?;
        ctx.step(format!("layout of /{dir}: {ranges:?}"));
        let found = placement(&ctx, &vol, dir).await?;
        for name in &all {
            let hash = hashing::dht_hash(name);
            let want = hashing::subvol_of(&ranges, hash).ok_or_else(|| TestError::Check(format!("no range of /{dir} holds {hash:08x}")))?;
            let on: Vec<usize> = found.iter().filter(|(n, _)| n == name).map(|(_, s)| *s).collect();
            ensure_eq!(on, vec![want], "bricks holding {} (hash {hash:08x})", rel(dir, name));
            if name.starts_with('.') && hashing::subvol_of(&ranges, hashing::dm_hash(name.as_bytes())) != Some(want) {
                moved_by_munging += 1;
            }
        }
        ensure_eq!(found.len(), all.len(), "data files in /{dir} over the bricks");
    }
    ensure!(moved_by_munging > 0, "no rsync temporary name hashed whole would land elsewhere: the check of the regex proved nothing");

    // The client names the same brick.
    let ranges = dht::ensure_layout_complete(&ctx, &vol, "").await?;
    let out = ctx.sh(&client, format!("cd {} && for f in {}; do printf '%s ' \"$f\"; getfattr --only-values -n trusted.glusterfs.pathinfo \"$f\"; echo; done", m.path, names().join(" "))).await?;
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let (name, info) = line.split_once(' ').unwrap_or((line, ""));
        let want = hashing::subvol_of(&ranges, hashing::dht_hash(name)).unwrap_or(usize::MAX);
        let brick = &vol.bricks[want];
        ensure!(info.contains(&format!("{}:{}/{name}", brick.node.host(), brick.path)) || info.contains(&format!("{}/{name}", brick.path)),
            "pathinfo of {name} should name brick {} (hashed subvolume {want}), it is {info}", brick.spec());
    }

    for dir in ["A", "B"] {
        let gfids: Vec<String> = {
            let mut g = Vec::new();
            for b in &vol.bricks {
                g.push(xattr::gfid_on_brick(&ctx, b, dir).await?);
            }
            g
        };
        ensure!(gfids.iter().all(|g| *g == gfids[0]), "gfid of /{dir} differs between bricks: {gfids:?}");
    }
    Ok(())
}
