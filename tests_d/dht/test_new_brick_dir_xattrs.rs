//! User xattrs of directories reach a newly added brick: directories with a custom xattr (each its
//! own value) are created on the brick added by `add-brick` by a lookup from the mount with the
//! same xattr and value, a directory whose xattr was removed before the expansion gets none, and
//! after a rebalance they keep them and have a complete layout over the three bricks.
//!
//! Ported from glusto-tests
//! `tests/functional/dht/test_healing_of_custom_xattrs_on_newly_added_bricks.py` (directories with
//! a custom xattr, add-brick, rebalance, lookup, the xattr on every brick). Here the lookup comes
//! before the rebalance: on GlusterFS 10.3 the rebalance processes of the three nodes then create
//! the directories on the new brick concurrently, and one of them failed its fix-layout when it
//! looked a directory up before the other had set its gfid (`buf->ia_gfid is null`, ENODATA).
use crate::prelude::*;

pub const CASE: Case = Case::new(724, "new_brick_dir_xattrs", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(400);

const DIRS: usize = 20;

/// `user.foo` of every `dI` under `root` on `node` (`-` where it has none), one line per directory.
async fn values(ctx: &Ctx, node: &Node, root: &str) -> Result<Vec<String>, TestError> {
    let out = ctx
        .sh(
            node,
            format!(
                "cd {root} && for i in $(seq 0 {last}) gone; do v=$(getfattr --only-values -n user.foo d$i 2>/dev/null) || v=-; echo \"d$i $v\"; done",
                last = DIRS - 1
            ),
        )
        .await?;
    Ok(out.lines().map(str::to_string).collect())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(2)).await?;
    let client = m.node.clone();
    ctx.sh(
        &client,
        format!(
            "set -e; cd {}; for i in $(seq 0 {last}); do mkdir d$i; touch d$i/f; setfattr -n user.foo -v value$i d$i; done; \
             mkdir dgone; setfattr -n user.foo -v x dgone; setfattr -x user.foo dgone",
            m.path,
            last = DIRS - 1
        ),
    )
    .await?;
    let mut want: Vec<String> = (0..DIRS).map(|i| format!("d{i} value{i}")).collect();
    want.push("dgone -".into());
    ensure_eq!(values(&ctx, &client, &m.path).await?, want, "user.foo of the directories on the mount");
    for b in &vol.bricks {
        ensure_eq!(values(&ctx, &b.node, &b.path).await?, want, "user.foo of the directories on {}", b.spec());
    }

    let vol = dht::add_bricks(&ctx, &vol, &[ctx.server(2)?], &[&m]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    ctx.sh(&client, format!("ls -lR {} > /dev/null", m.path)).await?;
    let new = &vol.bricks[2];
    ensure_eq!(values(&ctx, &new.node, &new.path).await?, want, "user.foo of the directories on the added brick {} after a lookup", new.spec());
    dht::rebalance(&ctx, &vol, Duration::from_secs(300)).await?;
    ensure_eq!(values(&ctx, &new.node, &new.path).await?, want, "user.foo of the directories on the added brick {} after the rebalance", new.spec());
    for i in 0..DIRS {
        let r = dht::ensure_layout_complete(&ctx, &vol, &format!("d{i}")).await?;
        ensure_eq!(r.len(), 3, "subvolumes with a range on d{i}");
    }
    ensure_eq!(values(&ctx, &client, &m.path).await?, want, "user.foo of the directories on the mount after the expansion");
    Ok(())
}
