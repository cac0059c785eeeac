//! Client quorum `auto` on replica 3: a client that can reach only one brick of three gets
//! "Transport endpoint is not connected" for every change and every read; once it reaches the
//! bricks again, writes succeed and heal info is clean.
//!
//! Ported from glusto-tests `tests/functional/afr/test_client_side_quorum_with_auto_option.py`
//! (with two of three bricks gone, file and directory creation, links, appends, overwrites,
//! truncation, reads, stat and ls fail with ENOTCONN), with the quorum coming back as in
//! `tests/functional/afr/test_write_io_mount_point_resumed_quorum_restored.py` (writes succeed
//! again once the bricks are back). There the bricks are killed; here the servers keep running
//! and only the client loses its path to two of them.
use crate::prelude::*;

pub const CASE: Case = Case::new(302, "client_quorum_auto_partition", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(600)
.disruptive();

/// The ping timeout set on the volume, so that the client gives up on the unreachable bricks
/// quickly (dropped packets never reset a connection).
const PING_TIMEOUT: u64 = 10;
/// What AFR answers when client quorum is not met.
const ENOTCONN: &str = "Transport endpoint is not connected";
/// How long one file operation may hang on an unreachable brick before the test gives up on it.
const OP_LIMIT: Duration = Duration::from_secs(90);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s2, s3) = (ctx.server(1)?, ctx.server(2)?);
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.set(&ctx, "cluster.quorum-type", "auto").await?;
    vol.set(&ctx, "network.ping-timeout", &PING_TIMEOUT.to_string())
        .await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let before = io::write_files(&ctx, &client, &m.path, &io::files("file", 10, 65_536)).await?;

    fault::partition(&ctx, std::slice::from_ref(&client), &[s2.clone(), s3.clone()]).await?;
    // The first operations hang until the ping timer gives the two bricks up.
    let lost = wait_for(
        &ctx,
        "the client to lose quorum (a change fails)",
        Duration::from_secs(180),
        Duration::from_secs(1),
        || async {
            let out = mount::attempt(&ctx, &client, &m.path, "touch $M/probe", OP_LIMIT).await?;
            Ok(if out.success() {
                Poll::Pending("a change still succeeds".into())
            } else {
                Poll::Ready(out.stderr_str())
            })
        },
    )
    .await?;
    ensure!(
        lost.contains(ENOTCONN),
        "a change failed without quorum, but not with ENOTCONN: {lost}"
    );

    // The servers are fine: every brick is online as the pool sees it.
    let st = vol.status(&ctx).await?;
    ensure!(
        st.iter().filter(|b| b.online).count() == vol.bricks.len(),
        "a brick process went down although only the client was cut off: {st:?}"
    );

    let ops = [
        (
            "create a file",
            "dd if=/dev/urandom of=$M/test_file bs=1M count=1",
        ),
        ("create a directory", "mkdir $M/user1"),
        ("make a hard link", "ln $M/file-0 $M/file-0_hwlink"),
        ("make a symbolic link", "ln -s $M/file-1 $M/file-1_swlink"),
        ("append to a file", "cat $M/file-0 >> $M/file-1"),
        ("overwrite a file", "echo 'Modify Contents' > $M/file-1"),
        ("truncate a file", "truncate -s 0 $M/file-1"),
        ("read a file", "cat $M/file-1 > /dev/null"),
        ("stat a file", "stat $M/file-1"),
        ("stat the mount root", "stat $M"),
        ("list the mount root", "ls $M"),
    ];
    for (what, line) in ops {
        let out = mount::attempt(&ctx, &client, &m.path, line, OP_LIMIT).await?;
        let err = out.stderr_str();
        ensure!(
            !out.success(),
            "without quorum, `{line}` ({what}) succeeded on {}",
            client.name()
        );
        ensure!(
            err.contains(ENOTCONN),
            "without quorum, `{line}` ({what}) failed, but not with ENOTCONN: {err}"
        );
    }

    fault::heal_partition(&ctx).await?;
    wait_for(
        &ctx,
        "the client to regain quorum (a change succeeds)",
        Duration::from_secs(120),
        Duration::from_secs(1),
        || async {
            let out = mount::attempt(&ctx, &client, &m.path, "touch $M/probe", OP_LIMIT).await?;
            Ok(if out.success() {
                Poll::Ready(())
            } else {
                Poll::Pending(out.stderr_str())
            })
        },
    )
    .await?;
    let after = io::write_files(&ctx, &client, &m.path, &io::files("after", 10, 65_536)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    let all: Vec<io::FileSum> = before.into_iter().chain(after).collect();
    for b in &vol.bricks {
        io::verify(&ctx, &b.node, &b.path, &all).await?;
    }
    Ok(())
}

