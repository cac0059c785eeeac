//! On a replicate volume, shards written while a brick was down are healed onto it: the
//! appended data lands in new shards on the bricks that are up, heal info lists entries, and
//! after the brick is back and heal completes every brick holds the base file with the new
//! file-size xattr and every shard with the same contents; the file reads back whole.
//!
//! Ported from GlusterFS `tests/bugs/shard/bug-1248887.t` (an append with a brick down, the
//! file-size xattr healed to the brick that missed it) and
//! `tests/bugs/replicate/bug-1408712.t` (shards created while a brick is down are healed, with
//! entry-heal indices for `/.shard`).
use crate::prelude::*;

pub const CASE: Case = Case::new(884, "replicate_heals_shards", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(500);

const MIB: u64 = 1 << 20;

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m, block) = shard::sharded_volume(&ctx, VolumeSpec::replicate(3), "4MB").await?;
    let client = m.node.clone();
    let f = format!("{}/f", m.path);
    io::write_files(&ctx, &client, &m.path, &[("f".to_string(), 8 * MIB)]).await?;
    let before = shard::ensure_layout(&ctx, &vol, &m, "f", 8 * MIB, block).await?;
    ensure_eq!(before.shards.indices(), vec![1], "shards of an 8 MiB file");

    let down = brick::take_down(&ctx, &vol, Select::One).await?;
    let d = down[0];
    ctx.step(format!("append 9 MiB with brick {d} down"));
    fileops::append(&ctx, &client, &f, 9 * MIB).await?;
    let size = 17 * MIB;
    let want = ctx.sh(&client, format!("sha256sum < {f}")).await?;
    let s = shard::shards(&ctx, &vol, &before.gfid).await?;
    for n in [2u64, 3, 4] {
        let on: Vec<usize> = s
            .by_index
            .get(&n)
            .map(|c| c.iter().map(|c| c.brick).collect())
            .unwrap_or_default();
        ensure!(
            !on.is_empty() && !on.contains(&d),
            "shard {n} written with brick {d} down is on bricks {on:?}"
        );
    }
    let stale = shard::bases(&ctx, &vol, "f").await?;
    let stale = stale.iter().find(|b| b.brick == d).and_then(|b| b.file_size);
    ensure!(
        stale.map(|s| s.size) == Some(8 * MIB),
        "file-size xattr of the base file on the down brick {d}: {stale:?} (wanted the old 8 MiB)"
    );
    ensure!(
        heal::pending_on_live(&ctx, &vol).await? > 0,
        "heal info lists nothing pending after writing with brick {d} down"
    );

    ctx.step(format!("bring brick {d} back and heal"));
    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    heal::trigger(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
    let after = shard::ensure_layout(&ctx, &vol, &m, "f", size, block).await?;
    ensure_eq!(after.shards.indices(), vec![1, 2, 3, 4], "shards after heal");
    let got = ctx.sh(&client, format!("sha256sum < {f}")).await?;
    ensure_eq!(got, want, "checksum of f after heal");
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    Ok(())
}
