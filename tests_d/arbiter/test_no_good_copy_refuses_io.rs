//! Where replica 2 would split the brain, the arbiter refuses: with client and daemon heals off,
//! the first data brick goes down and the file is appended to (the second data brick and the
//! arbiter now blame the first); once it is back, the second data brick goes down. The only good
//! copy is gone and the arbiter will not serve data, so appending, reading, and reading or setting
//! a user xattr through the mount all fail (ENOTCONN or EIO) instead of creating a split-brain.
//! Heal cannot finish while the good copy is down; it does once it returns, and the file then
//! reads back with every successful write, is writable again, is identical on both data bricks,
//! empty on the arbiter, and no AFR counter is left.
//!
//! Ported from GlusterFS `tests/basic/afr/arbiter.t` (second part: the same sequence of kills and
//! writes, `! cat`, `! getfattr`, `! setfattr` with the only source down, heal with the daemon on,
//! no pending heals, the file readable and appendable afterwards).
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(501, "no_good_copy_refuses_io", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .runs_on(&[VolumeType::Arbiter])
    .timeout_secs(300);

/// The errors arbiter.t accepts for I/O without a good data copy.
const REFUSALS: &[&str] = &["Transport endpoint is not connected", "Input/output error"];

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.set(&ctx, "performance.write-behind", "off").await?;
    vol.set(&ctx, "performance.stat-prefetch", "off").await?;
    heal::set_self_heal(&ctx, &vol, false, false).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let file = format!("{}/file", m.path);
    ctx.sh(&client, format!("echo hello >> {file}")).await?;
    fileops::set_user_xattr(&ctx, &client, &file, "name", "value1").await?;

    brick::kill(&ctx, &vol, 0).await?;
    ctx.sh(&client, format!("echo 'b0 down, b1 and the arbiter are sources' >> {file}"))
        .await?;
    fileops::set_user_xattr(&ctx, &client, &file, "name", "value2").await?;
    for i in [1, 2] {
        let p = xattr::on_brick(&ctx, &vol.bricks[i], "file").await?.afr(&vol.name, 0).unwrap_or_default();
        ensure!(
            p.data > 0 && p.metadata > 0,
            "{} should blame brick #0 for data and metadata while it is down: {p:?}",
            vol.bricks[i].spec()
        );
    }
    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    brick::kill(&ctx, &vol, 1).await?;

    for (what, line) in [
        ("append", "echo 'b1 down: must fail' >> \"$M/file\""),
        ("read", "cat \"$M/file\""),
        ("getfattr", "getfattr -n user.name \"$M/file\""),
        ("setfattr", "setfattr -n user.name -v value3 \"$M/file\""),
    ] {
        let out = mount::attempt(&ctx, &client, &m.path, line, Duration::from_secs(60)).await?;
        let err = out.stderr_str();
        ensure!(
            !out.success(),
            "{what} succeeded with only the stale data brick and the arbiter up: {}",
            out.stdout_str().trim()
        );
        ensure!(
            REFUSALS.iter().any(|r| err.contains(r)),
            "{what} failed, but not with ENOTCONN or EIO: {}",
            err.trim()
        );
    }

    // The daemon cannot heal without the good copy: the entry stays pending.
    vol.set(&ctx, "cluster.self-heal-daemon", "on").await?;
    heal::trigger(&ctx, &vol).await?;
    let pending = heal::info(&ctx, &vol).await?;
    ensure!(
        pending.iter().any(|b| b.entries.unwrap_or(0) > 0),
        "heal info shows nothing pending while the only good copy is down: {pending:?}"
    );

    brick::bring_back(&ctx, &vol).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    let text = ctx.sh(&client, format!("cat {file}")).await?;
    ensure_eq!(
        text,
        "hello\nb0 down, b1 and the arbiter are sources\n",
        "contents of the file after heal"
    );
    let name = ctx.sh(&client, format!("getfattr --only-values -n user.name {file}")).await?;
    ensure_eq!(name, "value2", "user.name after heal");
    ctx.sh(&client, format!("echo append >> {file}")).await?;
    arbiter::ensure_healed(&ctx, &vol, &m).await?;
    Ok(())
}
