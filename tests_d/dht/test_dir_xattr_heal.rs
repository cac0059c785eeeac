//! A user xattr of a directory follows DHT's rules with a subvolume down: it cannot be set on a
//! directory whose name hashes to the down subvolume (its metadata source; the setfattr fails
//! with "Transport endpoint is not connected"), while on another directory it is set, changed and
//! removed on the mount and every live brick (the down brick keeps nothing), and
//! `trusted.glusterfs.pathinfo` answers for both. When the brick returns, a lookup heals the last
//! value onto it and the first directory takes xattrs again, on every brick.
//!
//! Ported from glusto-tests `tests/functional/dht/test_custom_xattr_healing_for_dir.py`
//! (`test_custom_xattr_with_subvol_down_dir_exists`).
use crate::prelude::*;

pub const CASE: Case = Case::new(723, "dir_xattr_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const DOWN: usize = 1;

/// `user.foo` of `path` on `node`, `None` when it has none.
async fn foo(ctx: &Ctx, node: &Node, path: &str) -> Result<Option<String>, TestError> {
    let out = ctx
        .exec(node, Command::new("getfattr").args(["--absolute-names", "--only-values", "-n", "user.foo", path]))
        .await?;
    Ok(out.success().then(|| out.stdout_str()))
}

/// `user.foo` of `rel` on every brick.
async fn foo_on_bricks(ctx: &Ctx, vol: &Volume, rel: &str) -> Result<Vec<Option<String>>, TestError> {
    let mut all = Vec::new();
    for b in &vol.bricks {
        all.push(foo(ctx, &b.node, &xattr::brick_path(b, rel)).await?);
    }
    Ok(all)
}

/// What the bricks should hold while `DOWN` is down: `value` on the live ones, nothing on it.
fn live(value: Option<&str>) -> Vec<Option<String>> {
    (0..3).map(|i| if i == DOWN { None } else { value.map(str::to_string) }).collect()
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    let by = dht::names_by_subvol(&ctx, &vol, &m, "", "dir", 40).await?;
    let pick = |s: usize| by[s].first().cloned().ok_or_else(|| TestError::Check(format!("no name of 40 hashes to subvolume {s}: {by:?}")));
    let (up, hashed_down) = (pick(0)?, pick(DOWN)?);
    let (pu, pd) = (format!("{}/{up}", m.path), format!("{}/{hashed_down}", m.path));
    ctx.sh(&client, format!("mkdir {pu} {pd}")).await?;

    brick::kill(&ctx, &vol, DOWN).await?;
    let out = mount::attempt(&ctx, &client, &m.path, &format!("setfattr -n user.foo -v bar2 \"$M/{hashed_down}\""), Duration::from_secs(60)).await?;
    ensure!(!out.success(), "setting user.foo on {hashed_down} (hashed to the down subvolume {DOWN}) succeeded");
    ensure!(out.stderr_str().contains("Transport endpoint is not connected"), "setfattr on {hashed_down} should fail with ENOTCONN: {}", out.stderr_str());

    for value in ["bar2", "ABC"] {
        fileops::set_user_xattr(&ctx, &client, &pu, "foo", value).await?;
        ctx.sh(&client, format!("ls -lR {pu} > /dev/null")).await?;
        ensure_eq!(foo(&ctx, &client, &pu).await?.as_deref(), Some(value), "user.foo of {up} on the mount");
        ensure_eq!(foo_on_bricks(&ctx, &vol, &up).await?, live(Some(value)), "user.foo of {up} on the bricks with #{DOWN} down");
    }
    ctx.run(&client, Command::new("setfattr").args(["-x", "user.foo", &pu])).await?;
    ensure_eq!(foo(&ctx, &client, &pu).await?, None, "user.foo of {up} on the mount after removing it");
    ensure_eq!(foo_on_bricks(&ctx, &vol, &up).await?, vec![None; 3], "user.foo of {up} on the bricks after removing it");
    for p in [&pu, &pd] {
        let info = ctx.sh(&client, format!("getfattr --absolute-names --only-values -n trusted.glusterfs.pathinfo {p}")).await?;
        ensure!(info.contains("POSIX"), "trusted.glusterfs.pathinfo of {p} names no brick: {info}");
    }
    fileops::set_user_xattr(&ctx, &client, &pu, "foo", "star1").await?;
    ensure_eq!(foo_on_bricks(&ctx, &vol, &up).await?, live(Some("star1")), "user.foo of {up} on the bricks with #{DOWN} down");

    brick::bring_back(&ctx, &vol).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    let all = vec![Some("star1".to_string()); 3];
    wait_for(&ctx, &format!("user.foo of {up} healed onto brick #{DOWN} by a lookup"), Duration::from_secs(60), Duration::from_secs(2), || async {
        ctx.sh(&client, format!("ls -lR {} > /dev/null", m.path)).await?;
        let got = foo_on_bricks(&ctx, &vol, &up).await?;
        Ok(if got == all { Poll::Ready(()) } else { Poll::Pending(format!("{got:?}")) })
    })
    .await?;
    ensure_eq!(foo(&ctx, &client, &pu).await?.as_deref(), Some("star1"), "user.foo of {up} on the mount after the heal");
    fileops::set_user_xattr(&ctx, &client, &pd, "foo", "back").await?;
    ensure_eq!(foo_on_bricks(&ctx, &vol, &hashed_down).await?, vec![Some("back".to_string()); 3], "user.foo of {hashed_down} once its hashed subvolume is back");
    Ok(())
}
