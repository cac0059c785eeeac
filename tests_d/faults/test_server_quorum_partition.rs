//! Server quorum: a server cut off from the other two loses quorum, so its glusterd stops its
//! brick and refuses volume operations, while the two that still see each other keep the volume
//! writable; once the cut is healed every brick is back and the cut-off one catches up.
//!
//! Ported from glusterfs `tests/bugs/glusterd/validating-server-quorum.t` (bug-1345727: bricks
//! of a node without quorum are brought down; bug-913555: with one node of three gone the volume
//! stays up and writable) and `tests/bugs/glusterd/quorum-validation.t` (volume operations are
//! refused while quorum is not met, accepted once it is back). There the node is lost by killing
//! its glusterd; here by cutting its network.
use crate::gluster::gluster_cmd;
use crate::prelude::*;

pub const CASE: Case = Case::new(301, "server_quorum_minority_partition", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.timeout_secs(900)
.disruptive();

/// How long glusterd may take to see a peer gone (TCP keepalive and user timeout) and act on it.
const NOTICE: Duration = Duration::from_secs(180);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s2, cut) = (ctx.server(0)?, ctx.server(1)?, ctx.server(2)?);
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    // The default ratio (more than half) makes two of three a quorum.
    vol.set(&ctx, "cluster.server-quorum-type", "server")
        .await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    let before = io::write_files(&ctx, &client, &m.path, &io::files("before", 4, 100_000)).await?;
    ensure!(
        brick::processes_on(&ctx, &cut, &vol).await? == 1,
        "the brick of {} is not running before the cut",
        cut.name()
    );

    fault::partition(&ctx, std::slice::from_ref(&cut), &[s1.clone(), s2.clone()]).await?;

    // The majority sees the cut-off server go.
    wait_for(
        &ctx,
        &format!("{} to see {} disconnected", s1.name(), cut.name()),
        NOTICE,
        Duration::from_secs(2),
        || async {
            let peers = peer::status(&ctx, &s1).await?;
            Ok(match peers.iter().find(|p| p.is(cut.host())) {
                Some(p) if !p.connected => Poll::Ready(()),
                Some(_) => Poll::Pending("still connected".into()),
                None => Poll::Pending("not listed".into()),
            })
        },
    )
    .await?;
    // The cut-off server lost quorum: its glusterd stops the brick.
    wait_for(
        &ctx,
        &format!("glusterd on {} to stop its brick of {}", cut.name(), vol.name),
        NOTICE,
        Duration::from_secs(2),
        || async {
            Ok(match brick::processes_on(&ctx, &cut, &vol).await? {
                0 => Poll::Ready(()),
                n => Poll::Pending(format!("{n} brick process(es) still running")),
            })
        },
    )
    .await?;
    let cut_brick = &vol.bricks[2];
    let st = volume_status_on(&ctx, &cut, &vol).await?;
    ensure!(
        !st.iter()
            .any(|b| b.path == cut_brick.path && b.host == cut.host() && b.online),
        "volume status on {} still shows its brick online without quorum: {st:?}",
        cut.name()
    );

    // Volume operations on the cut-off server are refused for want of quorum.
    for args in [
        vec!["volume", "set", &vol.name, "performance.write-behind", "off"],
        vec!["volume", "start", &vol.name, "force"],
    ] {
        let out = ctx
            .exec(&cut, gluster_cmd(args.iter().copied()).timeout(NOTICE))
            .await?;
        let text = format!("{}{}", out.stdout_str(), out.stderr_str());
        ensure!(
            !out.success(),
            "`gluster {}` succeeded on {} without quorum: {text}",
            args.join(" "),
            cut.name()
        );
        ensure!(
            text.to_lowercase().contains("quorum not met"),
            "`gluster {}` on {} failed, but not for quorum: {text}",
            args.join(" "),
            cut.name()
        );
    }
    ensure!(
        brick::processes_on(&ctx, &cut, &vol).await? == 0,
        "`volume start force` on {} started its brick without quorum",
        cut.name()
    );

    // The majority keeps serving: its bricks stay up and the client writes through them.
    let st = vol.status(&ctx).await?;
    for b in &vol.bricks[..2] {
        ensure!(
            st.iter()
                .any(|s| s.path == b.path && s.host == b.node.host() && s.online),
            "brick {} of the majority is not online: {st:?}",
            b.spec()
        );
    }
    let during = io::write_files(&ctx, &client, &m.path, &io::files("during", 6, 100_000)).await?;
    for b in &vol.bricks[..2] {
        io::verify(&ctx, &b.node, &b.path, &during).await?;
    }
    let pending = heal::info(&ctx, &vol).await?;
    ensure!(
        pending.iter().any(|b| b.entries.unwrap_or(0) > 0),
        "heal info shows nothing pending for the brick that missed the writes: {pending:?}"
    );

    fault::heal_partition(&ctx).await?;
    peer::wait_connected(&ctx, NOTICE).await?;
    // Quorum is back: glusterd on the cut-off server starts its brick again by itself.
    vol.wait_online(&ctx, NOTICE).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(240)).await?;
    heal::ensure_no_split_brain(&ctx, &vol).await?;
    let all: Vec<io::FileSum> = before.into_iter().chain(during).collect();
    for b in &vol.bricks {
        io::verify(&ctx, &b.node, &b.path, &all).await?;
    }
    // And the server that was refused may change the volume again.
    gluster(
        &ctx,
        &cut,
        ["volume", "set", &vol.name, "performance.write-behind", "off"],
    )
    .await?;
    Ok(())
}


/// `volume status` as `node` sees it.
async fn volume_status_on(
    ctx: &Ctx,
    node: &Node,
    vol: &Volume,
) -> Result<Vec<volume::BrickStatus>, TestError> {
    let root = gluster_xml(ctx, node, ["volume", "status", &vol.name]).await?;
    Ok(volume::parse_status(&root))
}
