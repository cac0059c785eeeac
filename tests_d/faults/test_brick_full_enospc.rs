//! A replica 3 volume on small bricks: a write larger than the bricks fails with ENOSPC ("No space
//! left on device"), the mount survives it (the file can still be stat'ed, earlier data reads
//! back), and once files are deleted writes succeed again. Port of GlusterFS
//! `tests/bugs/replicate/bug-1561129-enospc.t` (a write past the bricks' size fails and the file is
//! still stat'able); the exact error text is what `tests/bugs/replicate/issue-1254-prioritize-enospc.t`
//! expects.
use gflab_agent::shell::quote;

use crate::prelude::*;

pub const CASE: Case = Case::new(312, "brick_full_enospc_then_space_freed", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.timeout_secs(400);

/// Size of each brick's filesystem.
const BRICK_MIB: u32 = 32;
/// What ENOSPC reads as.
const ENOSPC: &str = "No space left on device";

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3).brick_size_mib(BRICK_MIB)).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let first = io::write_files(&ctx, &client, &m.path, &io::files("before", 2, 4 << 20)).await?;

    // Twice the bricks' size: replica 3 puts every byte on each brick, so it cannot fit.
    let big = format!("{}/big", m.path);
    ctx.step(format!(
        "write {} MiB into a volume of {BRICK_MIB} MiB bricks",
        2 * BRICK_MIB
    ));
    let out = ctx
        .exec(
            &client,
            Command::shell(format!(
                "dd if=/dev/zero of={} bs=1M count={} conv=fsync",
                quote(&big),
                2 * BRICK_MIB
            )),
        )
        .await?;
    ensure!(
        !out.success(),
        "writing {} MiB onto {BRICK_MIB} MiB bricks succeeded",
        2 * BRICK_MIB
    );
    ensure!(
        out.stderr_str().contains(ENOSPC),
        "the oversized write failed, but not with ENOSPC: {}",
        out.stderr_str().trim()
    );
    // The bricks are full, the mount is alive.
    for b in &vol.bricks {
        let avail = avail_kib(&ctx, &b.node, &b.path).await?;
        ensure!(
            avail < 1024,
            "brick {} still has {avail} KiB free after the failed write",
            b.spec()
        );
    }
    ctx.sh(&client, format!("stat {}", quote(&big))).await?;
    io::verify(&ctx, &client, &m.path, &first).await?;
    // Free the space: writes succeed again (the bricks notice freed space within seconds).
    ctx.sh(
        &client,
        format!("rm -f {}", quote(&big)),
    )
    .await?;
    // A brick frees the blocks once its last reference to the file goes, a moment after `rm`.
    for b in &vol.bricks {
        wait_for(
            &ctx,
            &format!("brick {} to have space again", b.spec()),
            Duration::from_secs(60),
            Duration::from_secs(1),
            || async {
                let avail = avail_kib(&ctx, &b.node, &b.path).await?;
                Ok(if avail > 8 * 1024 {
                    Poll::Ready(())
                } else {
                    Poll::Pending(format!("only {avail} KiB free after the big file was deleted"))
                })
            },
        )
        .await?;
    }
    // Small files: the freed space must also hold their copies that heal may still owe a brick.
    let after = wait_for(
        &ctx,
        "a write to succeed after space was freed",
        Duration::from_secs(60),
        Duration::from_secs(2),
        || async {
            io::write_files(&ctx, &client, &m.path, &io::files("after", 2, 1 << 20))
                .await
                .map(Poll::Ready)
        },
    )
    .await?;
    let all: Vec<io::FileSum> = first.into_iter().chain(after).collect();
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    for b in &vol.bricks {
        io::verify(&ctx, &b.node, &b.path, &all).await?;
    }
    Ok(())
}

/// Free KiB of the filesystem that holds `path` on `node`.
async fn avail_kib(ctx: &Ctx, node: &Node, path: &str) -> Result<u64, TestError> {
    let out = ctx
        .sh(node, format!("df -k --output=avail {} | tail -n 1", quote(path)))
        .await?;
    out.trim().parse().map_err(|_| TestError::Parse {
        node: node.name().to_string(),
        command: format!("df -k --output=avail {path}"),
        message: format!("not a number: {out:?}"),
    })
}
