//! `volume status` of a created but not started volume is refused from another server, in text
//! ("Volume X is not started") and in XML (a non-zero `opRet` with the same reason); once the
//! volume is started from that server, both forms answer there and the XML lists the brick,
//! which lives on the first server, online with a PID and a port that are those of the brick
//! process running there (its `--brick-port`).
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_volume_status_xml.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(776, "status_xml_before_start", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(2, 0))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s2) = (ctx.server(0)?, ctx.server(1)?);
    let vol = volume::create(&ctx, VolumeSpec::distribute(1)).await?;
    ensure_eq!(vol.bricks[0].node.name(), s1.name(), "the brick's server");
    let not_started = format!("Volume {} is not started", vol.name);

    let text = mgmt::attempt(&ctx, &s2, ["volume", "status", vol.name.as_str()]).await?;
    ensure!(
        !text.ok && text.says(&not_started),
        "volume status of a volume never started, from {}: want a refusal saying {not_started:?}, got ok={} {:?}",
        s2.name(),
        text.ok,
        text.message
    );
    match gluster_xml(&ctx, &s2, ["volume", "status", vol.name.as_str()]).await {
        Ok(root) => {
            return Err(TestError::Check(format!(
                "volume status --xml of a volume never started answered opRet 0: {:?}",
                root.child_text("opErrstr")
            )))
        }
        Err(TestError::Parse { message, .. }) | Err(TestError::Command { stderr: message, .. }) => {
            ensure!(
                message.contains("is not started"),
                "volume status --xml refused without saying the volume is not started: {message}"
            )
        }
        Err(e) => return Err(e),
    }

    gluster(&ctx, &s2, ["volume", "start", vol.name.as_str()]).await?;
    vol.wait_online(&ctx, Duration::from_secs(60)).await?;
    let text = mgmt::attempt(&ctx, &s2, ["volume", "status", vol.name.as_str()]).await?;
    ensure!(text.ok, "volume status after the start, from {}: {}", s2.name(), text.message);
    let root = gluster_xml(&ctx, &s2, ["volume", "status", vol.name.as_str()]).await?;
    let bricks = volume::parse_status(&root);
    ensure_eq!(bricks.len(), 1, "bricks in volume status --xml from {}", s2.name());
    let b = &bricks[0];
    ensure_eq!(b.spec(), vol.bricks[0].spec(), "the brick in volume status --xml");
    ensure!(b.online, "the brick is not online in volume status --xml: {b:?}");
    let pids = mgmt::pids(&ctx, &s1, "glusterfsd").await?;
    ensure!(
        b.pid.is_some_and(|p| pids.contains(&p)),
        "the brick's PID in volume status --xml ({:?}) is not a glusterfsd on {} ({pids:?})",
        b.pid,
        s1.name()
    );
    let port = b.port.ok_or_else(|| TestError::Check(format!("no port for the brick: {b:?}")))?;
    let pid = b.pid.unwrap_or_default();
    let args = ctx.sh(&s1, format!("ps -o args= -p {pid}")).await?;
    ensure!(
        args.contains(&format!("--brick-port {port}")),
        "the brick process {pid} on {} was not started on port {port}: {:?}",
        s1.name(),
        args.trim()
    );
    Ok(())
}
