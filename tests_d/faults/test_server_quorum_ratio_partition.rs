//! Server quorum ratio: with `cluster.server-quorum-ratio 95` even the two servers that still
//! see each other (two of three) lack quorum when the third is cut off, so every brick goes down
//! and the client's writes fail; lowering the ratio to 51 on that side brings its bricks and the
//! writes back while the cut-off server stays down; healed, all bricks are up and in step.
//!
//! Ported from glusterfs `tests/bugs/glusterd/validating-server-quorum.t` (with the ratio at 95
//! and a node missing, bricks stay down on the nodes that are up; once enough nodes are back they
//! come up everywhere) and glusto-tests
//! `tests/functional/glusterd/test_brick_status_when_quorum_not_met.py` (bricks offline on the
//! nodes that are up while a 95% ratio is not met). There nodes are lost by stopping glusterd;
//! here by cutting one server's network.
use crate::gluster::gluster_cmd;
use crate::prelude::*;

pub const CASE: Case = Case::new(307, "server_quorum_ratio_partition", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.timeout_secs(900)
.disruptive();

/// How long glusterd may take to see a peer gone (TCP keepalive and user timeout) and act on it.
const NOTICE: Duration = Duration::from_secs(180);
/// What the client gets with every brick of the replica set down.
const ENOTCONN: &str = "Transport endpoint is not connected";
/// How long one write may hang before the test gives up on it.
const OP_LIMIT: Duration = Duration::from_secs(90);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s2, cut) = (ctx.server(0)?, ctx.server(1)?, ctx.server(2)?);
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.set(&ctx, "cluster.server-quorum-type", "server")
        .await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let before = io::write_files(&ctx, &client, &m.path, &io::files("before", 4, 100_000)).await?;

    // The ratio is pool-wide: put the default back whatever happens.
    ctx.defer(Cleanup::Command {
        node: s1.clone(),
        command: gluster_cmd(["volume", "reset", "all", "cluster.server-quorum-ratio"]),
    });
    gluster(
        &ctx,
        &s1,
        ["volume", "set", "all", "cluster.server-quorum-ratio", "95"],
    )
    .await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;

    fault::partition(
        &ctx,
        std::slice::from_ref(&cut),
        &[s1.clone(), s2.clone()],
    )
    .await?;
    // Two of three is short of 95%: every server stops its brick, the two connected ones too.
    for s in [&s1, &s2, &cut] {
        wait_bricks(&ctx, s, &vol, 0).await?;
    }
    let out = write(&ctx, &client, &m.path, "refused").await?;
    ensure!(
        !out.success() && out.stderr_str().contains(ENOTCONN),
        "with every brick stopped for want of quorum a write should fail with ENOTCONN; it \
         ended {:?}: {}",
        out.status,
        out.stderr_str()
    );
    let out = ctx
        .exec(
            &s1,
            gluster_cmd(["volume", "set", vol.name.as_str(), "performance.write-behind", "off"]),
        )
        .await?;
    let text = format!("{}{}", out.stdout_str(), out.stderr_str());
    ensure!(
        !out.success() && text.to_lowercase().contains("quorum not met"),
        "`volume set` on {} should be refused for quorum while the ratio is not met: {text}",
        s1.name()
    );

    // At 51%, two of three is a quorum again: their bricks come back, the cut-off one stays down.
    gluster(
        &ctx,
        &s1,
        ["volume", "set", "all", "cluster.server-quorum-ratio", "51"],
    )
    .await?;
    for s in [&s1, &s2] {
        wait_bricks(&ctx, s, &vol, 1).await?;
    }
    ensure_eq!(
        brick::processes_on(&ctx, &cut, &vol).await?,
        0,
        "brick processes on the cut-off {} while it is alone",
        cut.name()
    );
    let during = wait_for(
        &ctx,
        "the client to write again",
        Duration::from_secs(120),
        Duration::from_secs(2),
        || async {
            let files = io::files("during", 4, 100_000);
            Ok(match io::write_files(&ctx, &client, &m.path, &files).await {
                Ok(sums) => Poll::Ready(sums),
                Err(e) => Poll::Pending(e.to_string()),
            })
        },
    )
    .await?;
    for b in &vol.bricks[..2] {
        io::verify(&ctx, &b.node, &b.path, &during).await?;
    }

    fault::heal_partition(&ctx).await?;
    peer::wait_connected(&ctx, NOTICE).await?;
    vol.wait_online(&ctx, NOTICE).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    let all: Vec<io::FileSum> = before.into_iter().chain(during).collect();
    for b in &vol.bricks {
        io::verify(&ctx, &b.node, &b.path, &all).await?;
    }
    Ok(())
}

/// Waits until `node` runs `want` brick processes of `vol`.
async fn wait_bricks(ctx: &Ctx, node: &Node, vol: &Volume, want: usize) -> Result<(), TestError> {
    wait_for(
        ctx,
        &format!(
            "{} to run {want} brick process(es) of {}",
            node.name(),
            vol.name
        ),
        NOTICE,
        Duration::from_secs(2),
        || async {
            Ok(match brick::processes_on(ctx, node, vol).await? {
                n if n == want => Poll::Ready(()),
                n => Poll::Pending(format!("{n} running")),
            })
        },
    )
    .await
}


/// Writes 64 KiB into `dir/name` on `node`; returns the output whatever the exit status.
async fn write(
    ctx: &Ctx,
    node: &Node,
    dir: &str,
    name: &str,
) -> Result<gflab_agent::Output, TestError> {
    ctx.exec(
        node,
        Command::new("dd")
            .args([
                "if=/dev/urandom".to_string(),
                format!("of={dir}/{name}"),
                "bs=64k".into(),
                "count=1".into(),
                "conv=fsync".into(),
            ])
            .timeout(OP_LIMIT),
    )
    .await
}
