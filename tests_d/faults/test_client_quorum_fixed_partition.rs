//! Client quorum `fixed` with `quorum-count 1` on replica 3: a client that reaches only one brick
//! of three keeps writing (to that brick alone); switched to `auto` while still cut off, its
//! changes fail with "Transport endpoint is not connected"; reconnected, heal brings the other two
//! bricks level with no split-brain.
//!
//! Ported from glusto-tests
//! `tests/functional/afr/test_client_side_quorum_with_auto_option_overwrite_fixed.py` (the default
//! quorum-type of replica 3 is `auto`, junk values are refused, `fixed` with count 1 keeps I/O
//! going with two bricks of each set down, and setting `auto` back makes creation fail with
//! ENOTCONN). There the bricks are killed; here the client loses its path to two servers.
use crate::prelude::*;

pub const CASE: Case = Case::new(306, "client_quorum_fixed_count_partition", |ctx| {
    Box::pin(run(ctx))
})
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
    vol.set(&ctx, "network.ping-timeout", &PING_TIMEOUT.to_string())
        .await?;

    ensure_eq!(
        option(&ctx, &vol, "cluster.quorum-type").await?,
        "auto",
        "default cluster.quorum-type of a replica 3 volume"
    );
    for junk in ["123", "abcd", "fixxed", "Aauto"] {
        let out = ctx
            .exec(
                &vol.server,
                crate::gluster::gluster_cmd([
                    "volume",
                    "set",
                    vol.name.as_str(),
                    "cluster.quorum-type",
                    junk,
                ]),
            )
            .await?;
        ensure!(
            !out.success(),
            "cluster.quorum-type accepted the junk value {junk:?}"
        );
    }
    vol.set(&ctx, "cluster.quorum-type", "fixed").await?;
    vol.set(&ctx, "cluster.quorum-count", "1").await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let first = io::write_files(&ctx, &client, &m.path, &io::files("file", 10, 65_536)).await?;

    fault::partition(&ctx, std::slice::from_ref(&client), &[s2.clone(), s3.clone()]).await?;
    // One brick is quorum enough: writes go on, and land on that brick only.
    let second = io::write_files(
        &ctx,
        &client,
        &m.path,
        &io::files("second_file", 10, 65_536),
    )
    .await?;
    let reached = &vol.bricks[0];
    io::verify(&ctx, &reached.node, &reached.path, &second).await?;
    for b in &vol.bricks[1..] {
        let leaked = io::present(&ctx, &b.node, &b.path, &second).await?;
        ensure!(
            leaked.is_empty(),
            "brick {} got files written while the client could not reach it: {leaked:?}",
            b.spec()
        );
    }

    // Back to `auto` while still cut off: one brick of three is no quorum.
    vol.set(&ctx, "cluster.quorum-type", "auto").await?;
    let refused = wait_for(
        &ctx,
        "the client to apply quorum-type auto (a create fails)",
        Duration::from_secs(120),
        Duration::from_secs(1),
        || async {
            let out = mount::attempt(&ctx, &client, &m.path, "mkdir $M/newdir", OP_LIMIT).await?;
            Ok(if out.success() {
                // Undo it so that the next try creates again.
                mount::attempt(&ctx, &client, &m.path, "rmdir $M/newdir", OP_LIMIT).await?;
                Poll::Pending("a directory could still be created".into())
            } else {
                Poll::Ready(out.stderr_str())
            })
        },
    )
    .await?;
    ensure!(
        refused.contains(ENOTCONN),
        "with quorum-type auto and one brick of three, mkdir failed, but not with ENOTCONN: \
         {refused}"
    );
    let out = mount::attempt(&ctx, &client, &m.path, "touch $M/myfile1.txt", OP_LIMIT).await?;
    ensure!(
        !out.success() && out.stderr_str().contains(ENOTCONN),
        "with quorum-type auto and one brick of three, creating a file should fail with \
         ENOTCONN: {}",
        out.stderr_str()
    );

    fault::heal_partition(&ctx).await?;
    wait_for(
        &ctx,
        "the client to regain quorum (a create succeeds)",
        Duration::from_secs(120),
        Duration::from_secs(1),
        || async {
            let out = mount::attempt(&ctx, &client, &m.path, "touch $M/myfile1.txt", OP_LIMIT).await?;
            Ok(if out.success() {
                Poll::Ready(())
            } else {
                Poll::Pending(out.stderr_str())
            })
        },
    )
    .await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(180)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    let all: Vec<io::FileSum> = first.into_iter().chain(second).collect();
    for b in &vol.bricks {
        io::verify(&ctx, &b.node, &b.path, &all).await?;
    }
    Ok(())
}

/// The value of one volume option (`volume get`).
async fn option(ctx: &Ctx, vol: &Volume, key: &str) -> Result<String, TestError> {
    let root = gluster_xml(ctx, &vol.server, ["volume", "get", &vol.name, key]).await?;
    root.find("volGetopts")
        .and_then(|g| g.find("Opt"))
        .and_then(|o| o.child_text("Value"))
        .map(str::to_string)
        .ok_or_else(|| TestError::Check(format!("`volume get {} {key}` shows no value", vol.name)))
}

