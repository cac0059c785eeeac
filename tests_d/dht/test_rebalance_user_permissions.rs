//! Rebalance keeps owners and permissions: directories and files that an unprivileged user made
//! (modes 0700/0750/0755 and 0600/0640/0644/0400) are migrated to an added brick with the same
//! owner, group and mode on the brick as on the mount, the mount shows the same tree (names,
//! modes, owners, contents) as before, the user still reads and writes its files and removes its
//! directories afterwards, and another user is still refused its private files.
//!
//! Ported from glusto-tests `tests/functional/dht/test_rebalance_preserve_user_permissions.py`
//! (a user's dirs and files, add-brick, rebalance: checksum, permissions, and the user creating
//! and deleting after it), checked on the bricks too.
use crate::prelude::*;

pub const CASE: Case = Case::new(720, "rebalance_user_permissions", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const DIR_MODES: [&str; 3] = ["700", "750", "755"];
const FILE_MODES: [&str; 4] = ["600", "640", "644", "400"];

/// `owner:group mode name` of every data file under a brick (link files and `.glusterfs` left out).
async fn owned_files(ctx: &Ctx, b: &Brick) -> Result<Vec<String>, TestError> {
    let out = ctx
        .sh(
            &b.node,
            format!(
                "cd {} && find . -path ./.glusterfs -prune -o -type f ! -perm -1000 -printf '%U:%G %m %P\\n' | sort",
                b.path
            ),
        )
        .await?;
    Ok(out.lines().map(str::to_string).collect())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    let owner = fileops::user(&ctx, &client, &ctx.unique("own").replace('-', "_"), 24117).await?;
    let other = fileops::user(&ctx, &client, &ctx.unique("oth").replace('-', "_"), 24118).await?;
    fileops::chmod(&ctx, &client, &m.path, 0o777).await?;
    let script = format!(
        "set -e; cd {p}; for d in 0 1 2; do mkdir u$d; for i in $(seq 0 11); do \
         head -c $((1024 * (i + 1))) /dev/urandom > u$d/f$i; \
         case $((i % 4)) in 0) m={f0};; 1) m={f1};; 2) m={f2};; *) m={f3};; esac; chmod $m u$d/f$i; done; done; \
         chmod {d0} u0; chmod {d1} u1; chmod {d2} u2",
        p = m.path,
        f0 = FILE_MODES[0],
        f1 = FILE_MODES[1],
        f2 = FILE_MODES[2],
        f3 = FILE_MODES[3],
        d0 = DIR_MODES[0],
        d1 = DIR_MODES[1],
        d2 = DIR_MODES[2],
    );
    fileops::as_user(&ctx, &client, &owner, &script).await?;
    let before = tree::of_mount(&ctx, &m, Scope::FULL).await?;
    let ids = format!("{}:{}", owner.uid, owner.gid);

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    let p = dht::rebalance(&ctx, &vol, Duration::from_secs(300)).await?;
    ensure!(dht::total_files(&p) > 0, "rebalance migrated no file: {p:?}");

    let mut on_bricks = Vec::new();
    for b in &vol.bricks {
        on_bricks.extend(owned_files(&ctx, b).await?);
    }
    ensure!(
        !owned_files(&ctx, &vol.bricks[2]).await?.is_empty(),
        "no file was migrated to the added brick {}",
        vol.bricks[2].spec()
    );
    on_bricks.sort();
    let on_mount = ctx
        .sh(&client, format!("cd {} && find . -type f -printf '%U:%G %m %P\\n' | sort", m.path))
        .await?;
    let on_mount: Vec<String> = on_mount.lines().map(str::to_string).collect();
    ensure_eq!(on_bricks, on_mount, "owner, mode and name of every file on the bricks and on the mount");
    ensure!(on_mount.len() == 36 && on_mount.iter().all(|l| l.starts_with(&ids)), "files should all be {ids}'s: {on_mount:?}");
    for (d, mode) in DIR_MODES.iter().enumerate() {
        for b in &vol.bricks {
            let st = fileops::stat(&ctx, &b.node, &format!("{}/u{d}", b.path), "%u:%g %a").await?;
            ensure_eq!(st, format!("{ids} {mode}"), "owner and mode of u{d} on {}", b.spec());
        }
    }
    tree::ensure_same(&before, &tree::of_mount(&ctx, &m, Scope::FULL).await?)?;

    // The owner still uses its files; another user is kept out of the private ones.
    fileops::as_user(&ctx, &client, &owner, &format!("cd {} && cat u0/f0 > /dev/null && echo x >> u1/f1 && touch u2/new", m.path)).await?;
    let out = mount::attempt(&ctx, &client, &m.path, &format!("setpriv --reuid={0} --regid={0} --clear-groups cat \"$M/u2/f0\"", other.uid), Duration::from_secs(60)).await?;
    ensure!(!out.success() && out.stderr_str().contains("Permission denied"), "another user reading u2/f0 (mode 0600) should get Permission denied: {}", out.stderr_str());
    fileops::as_user(&ctx, &client, &owner, &format!("cd {} && rm -rf u0 u1 u2", m.path)).await?;
    ensure_eq!(ctx.sh(&client, format!("ls -A {}", m.path)).await?.trim(), "", "entries left after the owner removed its directories");
    Ok(())
}
