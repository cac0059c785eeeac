//! Directory permissions and owners changed while a brick is down are healed onto it by DHT once
//! it is back: the root set to 0444 reaches every brick; with one brick down it is set back to
//! 0755 and a subdirectory gets a new owner and mode 0700, which the live bricks take and the down
//! brick does not; after the brick returns, a lookup from the mount brings the root's mode and the
//! subdirectory's owner and mode to it, and the mount shows them.
//!
//! Ported from glusto-tests `tests/functional/dht/test_verify_permissions_on_root_dir_when_brick_down.py`
//! (root mode 444, a brick killed, mode 755, the live bricks changed, the returned brick healed)
//! with the owner and mode of a subdirectory from `test_dir_change_perm.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(722, "dir_attr_heal", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const DOWN: usize = 1;

/// `stat -c FORMAT` of `rel` on every brick.
async fn on_bricks(ctx: &Ctx, vol: &Volume, rel: &str, format: &str) -> Result<Vec<String>, TestError> {
    let mut all = Vec::new();
    for b in &vol.bricks {
        all.push(fileops::stat(ctx, &b.node, &xattr::brick_path(b, rel), format).await?);
    }
    Ok(all)
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("mkdir {0}/sub && touch {0}/sub/f", m.path)).await?;
    ensure_eq!(on_bricks(&ctx, &vol, "/", "%a").await?, vec!["755"; 3], "mode of the root on the bricks at the start");
    fileops::chmod(&ctx, &client, &m.path, 0o444).await?;
    ensure_eq!(on_bricks(&ctx, &vol, "/", "%a").await?, vec!["444"; 3], "mode of the root on the bricks after chmod 444");

    brick::kill(&ctx, &vol, DOWN).await?;
    fileops::chmod(&ctx, &client, &m.path, 0o755).await?;
    fileops::chown(&ctx, &client, &format!("{}/sub", m.path), 4321, 4322).await?;
    fileops::chmod(&ctx, &client, &format!("{}/sub", m.path), 0o700).await?;
    let mut want_root = vec!["755"; 3];
    want_root[DOWN] = "444";
    ensure_eq!(on_bricks(&ctx, &vol, "/", "%a").await?, want_root, "mode of the root on the bricks with brick #{DOWN} down");
    let mut want_sub = vec!["4321:4322 700"; 3];
    want_sub[DOWN] = "0:0 755";
    ensure_eq!(on_bricks(&ctx, &vol, "sub", "%u:%g %a").await?, want_sub, "owner and mode of sub on the bricks with brick #{DOWN} down");

    brick::bring_back(&ctx, &vol).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    let what = format!("brick #{DOWN} to get the root's mode and sub's owner and mode back by lookups");
    wait_for(&ctx, &what, Duration::from_secs(60), Duration::from_secs(2), || async {
        ctx.sh(&client, format!("stat {0} {0}/sub > /dev/null; ls -l {0} > /dev/null", m.path)).await?;
        let root = on_bricks(&ctx, &vol, "/", "%a").await?;
        let sub = on_bricks(&ctx, &vol, "sub", "%u:%g %a").await?;
        Ok(if root == vec!["755"; 3] && sub == vec!["4321:4322 700"; 3] {
            Poll::Ready(())
        } else {
            Poll::Pending(format!("root {root:?}, sub {sub:?}"))
        })
    })
    .await?;
    ensure_eq!(fileops::stat(&ctx, &client, &m.path, "%a").await?, "755", "mode of the root on the mount");
    ensure_eq!(fileops::stat(&ctx, &client, &format!("{}/sub", m.path), "%u:%g %a").await?, "4321:4322 700", "owner and mode of sub on the mount");
    Ok(())
}
