//! Volume-level options cannot be set cluster-wide: `volume set all transport.listen-backlog 128`
//! and `volume set all performance.parallel-readdir on` are refused, no volume takes the value
//! (an existing volume keeps its own), and glusterd keeps running on every server with every
//! peer connected. On 10.3 the CLI says only "Error, Validation Failed"; the reason, "KEY is not
//! a global option", is in glusterd's log, where a new such line is checked for each key.
//!
//! Ported from glusto-tests
//! `tests/functional/glusterd/test_setting_volume_level_option_to_cluster.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(777, "volume_option_for_all_refused", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 0))
.timeout_secs(300);

/// What the CLI answers when a volume option is set for `all` (10.3).
const REFUSED: &str = "Error, Validation Failed";
const GLUSTERD_LOG: &str = "/var/log/glusterfs/glusterd.log";

/// Lines of glusterd's log on `server` saying `key` is not a global option.
async fn not_global_lines(ctx: &Ctx, server: &Node, key: &str) -> Result<usize, TestError> {
    let out = ctx
        .sh(
            server,
            format!("grep -c -F '{key} is not a global option' {GLUSTERD_LOG} || true"),
        )
        .await?;
    out.trim()
        .parse()
        .map_err(|_| TestError::Check(format!("grep -c printed {out:?}")))
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let s1 = ctx.server(0)?;
    let vol = volume::create(&ctx, VolumeSpec::distribute(3)).await?;
    let options = [
        ("transport.listen-backlog", "128"),
        ("performance.parallel-readdir", "on"),
    ];
    let mut before = Vec::new();
    for (key, value) in options {
        let old = vol.get(&ctx, key).await?;
        ensure!(old != value, "{key} of {} is already {value}", vol.name);
        before.push(old);
    }

    for ((key, value), old) in options.iter().zip(&before) {
        let logged = not_global_lines(&ctx, &s1, key).await?;
        let a = mgmt::set_attempt(&ctx, &s1, "all", key, value).await?;
        ensure!(
            !a.ok,
            "volume set all {key} {value} should be refused but succeeded: {}",
            a.message
        );
        ensure!(
            a.says(REFUSED),
            "volume set all {key} {value} refused without saying {REFUSED:?}: {}",
            a.message
        );
        ensure_eq!(
            not_global_lines(&ctx, &s1, key).await?,
            logged + 1,
            "lines \"{key} is not a global option\" in {GLUSTERD_LOG} on {} after the refusal",
            s1.name()
        );
        for s in ctx.servers() {
            ensure!(
                glusterd::is_running(&ctx, &s).await?,
                "glusterd on {} stopped after volume set all {key}",
                s.name()
            );
            ensure_eq!(
                mgmt::get(&ctx, &s, &vol.name, key).await?,
                old.clone(),
                "{key} of {} on {} after the refused volume set all",
                vol.name,
                s.name()
            );
        }
        peer::wait_connected(&ctx, Duration::from_secs(30)).await?;
    }
    Ok(())
}
