//! No data loss from a rename tried while the only copy of the file is on a brick that is down:
//! with client-side heals off, a file is created with the first data brick down, the second data
//! brick goes down and the first comes back, and the file is renamed (the first data brick and
//! the arbiter are up; only the arbiter knows the name, and it holds no data). The rename either
//! goes through or is refused with ENOTCONN or EIO (both seen, depending on what the client has
//! cached); when refused it is made again once healed. When every brick is back and the client
//! heals on, a lookup of the tree heals it: no split-brain, nothing pending, the renamed file on
//! both data bricks has the contents first written and the old name is gone.
//!
//! Ported from glusto-tests
//! `tests/functional/arbiter/test_no_data_loss_arbiter_vol_after_rename_file.py` (the same
//! sequence, heal triggered from the mount with `find | getfattr`, md5sum of the renamed file on
//! the data bricks equal to the mount's). The source renames with a script that walks the
//! directory and whose result it does not tie to the file; here the rename is made on the file.
//! Runs on 1 x (2 + 1).
use crate::gluster::arbiter;
use crate::prelude::*;

pub const CASE: Case = Case::new(504, "rename_with_data_bricks_down_in_turn", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.runs_on(&[VolumeType::Arbiter])
.timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    heal::set_self_heal(&ctx, &vol, true, false).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    ctx.sh(&client, format!("mkdir {}/test_dir", m.path)).await?;

    brick::kill(&ctx, &vol, 0).await?;
    let sums = io::write_files(&ctx, &client, &m.path, &io::files("test_dir/testfile0", 1, 100_000))
        .await?;
    brick::kill(&ctx, &vol, 1).await?;
    gluster(&ctx, &vol.server, ["volume", "start", &vol.name, "force"]).await?;
    // Only brick #0 comes back: start force restarts every dead brick, so kill #1 again.
    brick::wait_online(&ctx, &vol, Duration::from_secs(60)).await?;
    brick::kill(&ctx, &vol, 1).await?;
    let dir = format!("{}/test_dir", m.path);
    let mv = "mv \"$M/test_dir/testfile0-0\" \"$M/test_dir/testfile0_a\"";
    let out = mount::attempt(&ctx, &client, &m.path, mv, Duration::from_secs(60)).await?;
    let err = out.stderr_str();
    // Whether the client lets the rename through depends on what it has cached of the brick
    // that came back; what must hold is that a refusal says so and that no data is lost.
    let renamed = out.success();
    ensure!(
        renamed
            || ["Transport endpoint is not connected", "Input/output error"]
                .iter()
                .any(|e| err.contains(e)),
        "the rename failed, but not with ENOTCONN or EIO: {}",
        err.trim()
    );
    ctx.step(format!("rename with the good copy down: {}", if renamed { "done" } else { "refused" }));

    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    heal::set_self_heal(&ctx, &vol, true, true).await?;
    ctx.sh(
        &client,
        format!("cd {dir} && find . | xargs getfattr -d -m . -e hex >/dev/null"),
    )
    .await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(120)).await?;
    if !renamed {
        for i in [0, 1] {
            let b = &vol.bricks[i];
            io::verify(&ctx, &b.node, &b.path, &sums).await?;
        }
        fileops::rename(&ctx, &client, &format!("{dir}/testfile0-0"), &format!("{dir}/testfile0_a"))
            .await?;
    }
    let after = vec![io::FileSum {
        name: "test_dir/testfile0_a".into(),
        ..sums[0].clone()
    }];
    for i in [0, 1] {
        let b = &vol.bricks[i];
        io::verify(&ctx, &b.node, &b.path, &after).await?;
    }
    io::verify(&ctx, &client, &m.path, &after).await?;
    let gone = io::present(&ctx, &client, &m.path, &sums).await?;
    ensure!(gone.is_empty(), "the old name is still there after the rename: {gone:?}");
    arbiter::ensure_healed(&ctx, &vol, &m).await?;
    Ok(())
}
