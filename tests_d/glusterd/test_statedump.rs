//! `volume statedump` makes every brick process write a dump file in its node's statedump
//! directory, named after the brick path and the process, holding the brick's server translator
//! section with the brick's own path.
//!
//! Ported from glusto-tests
//! `tests/functional/glusterd/test_glusterd_statedump_with_server_and_client_quorum_set.py` (a
//! statedump of the volume's bricks is taken and a dump file is found for each brick).
use crate::prelude::*;

pub const CASE: Case = Case::new(757, "statedump_per_brick", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::replicate(3)).await?;
    vol.start_and_wait(&ctx).await?;
    let status = vol.status(&ctx).await?;
    let dumps = mgmt::statedump(&ctx, &vol).await?;
    ensure_eq!(dumps.len(), vol.bricks.len(), "dump files");
    for (b, d) in vol.bricks.iter().zip(&dumps) {
        let pid = status
            .iter()
            .find(|s| s.path == b.path && s.host == b.node.host())
            .and_then(|s| s.pid)
            .ok_or_else(|| TestError::Check(format!("no pid for brick {}", b.spec())))?;
        let name = d.path.rsplit('/').next().unwrap_or_default();
        ensure!(
            name.starts_with(&format!("{}.{pid}.dump.", mgmt::brick_dump_prefix(&b.path))),
            "dump {} of brick {} is not named after the brick and its pid {pid}",
            d.path,
            b.spec()
        );
        let text = d.text(&ctx).await?;
        ensure!(
            text.contains("DUMP-START-TIME") && text.contains("DUMP-END-TIME"),
            "dump {} is not a complete statedump",
            d.path
        );
        let posix = mgmt::dump_sections(&text, "storage/posix");
        ensure!(
            !posix.is_empty(),
            "dump {} has no storage/posix section",
            d.path
        );
        let named = text.contains(&b.path);
        ensure!(named, "dump {} never names the brick path {}", d.path, b.path);
    }
    Ok(())
}
