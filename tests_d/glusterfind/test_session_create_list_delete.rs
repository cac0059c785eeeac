//! A glusterfind session is created on a volume, listed by `glusterfind list` (all sessions,
//! `--session`, `--volume`) with its volume and session time, and deleted; what glusterfind
//! refuses is refused with its reason: a second session of the same name (unless `--force`), an
//! unknown volume, a stopped volume, invalid session names and the reserved `default`, unknown
//! options, `list` of an unknown session, `delete` of a session that is gone.
//!
//! The volume has its one brick on the server glusterfind runs on: glusterfind reaches bricks on
//! other nodes over ssh, and the nodes run no sshd (see `gluster::glusterfind`).
//!
//! Ported from glusto-tests `tests/functional/glusterfind/test_gfind_create_cli.py`,
//! `test_gfind_list_cli.py` and `test_gfind_delete_cli.py`.
use crate::prelude::*;

pub const CASE: Case = Case::new(890, "session_create_list_delete", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(1, 0))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, VolumeSpec::distribute(1)).await?;
    let node = vol.server.clone();
    let stopped = glusterfind::attempt(&ctx, &node, ["create", "gflabstopped", &vol.name]).await?;
    ensure!(
        !stopped.ok && stopped.says("is not online"),
        "create on a volume that is not started: ok={}, {}",
        stopped.ok,
        stopped.message
    );
    vol.start_and_wait(&ctx).await?;

    let s = glusterfind::create(&ctx, &vol, "gfs").await?;
    let row = s.listed(&ctx).await?.ok_or_else(|| {
        TestError::Check(format!("glusterfind list does not show {} on {}", s.name, s.volume))
    })?;
    ensure!(
        row.time.len() == 19 && row.time.chars().nth(4) == Some('-'),
        "session time of {} as listed: {:?}",
        s.name,
        row.time
    );
    for (session, volume) in [(Some(s.name.as_str()), None), (None, Some(vol.name.as_str()))] {
        let rows = glusterfind::list(&ctx, &node, session, volume).await?;
        ensure_eq!(rows, vec![row.clone()], "glusterfind list --session {session:?} --volume {volume:?}");
    }
    let other = glusterfind::attempt(&ctx, &node, ["list", "--volume", "gflab-no-such-volume"]).await?;
    ensure!(!other.ok, "list --volume of a volume without session was accepted: {}", other.message);

    ctx.step("refusals");
    let cases: [(&[&str], &str); 6] = [
        (&["create", &s.name, &vol.name], "already created"),
        (&["create", "gflabother", "gflab-no-such-volume"], "Invalid Volume"),
        (&["create", "x", &vol.name], "at least 2 characters"),
        (&["create", "bad.name", &vol.name], "can only contain"),
        (&["create", "default", &vol.name], "Invalid session default"),
        (&["list", "--session", "gflab-no-such-session"], "Invalid Session"),
    ];
    for (args, why) in cases {
        let a = glusterfind::attempt(&ctx, &node, args.iter().copied()).await?;
        ensure!(
            !a.ok && a.says(why),
            "glusterfind {} should be refused saying {why:?}: ok={}, {}",
            args.join(" "),
            a.ok,
            a.message
        );
    }
    let a = glusterfind::attempt(&ctx, &node, ["create", &s.name, &vol.name, "--frce"]).await?;
    ensure!(!a.ok, "an unknown option (--frce) was accepted: {}", a.message);
    let a = glusterfind::attempt(&ctx, &node, ["delete", &s.name, &vol.name, "--dbug"]).await?;
    ensure!(!a.ok, "delete with an unknown option (--dbug) was accepted: {}", a.message);
    ensure!(s.listed(&ctx).await?.is_some(), "{} is gone after refused commands", s.name);

    ctx.step("create --force on the existing session is accepted");
    let a = glusterfind::attempt(&ctx, &node, ["create", &s.name, &vol.name, "--force"]).await?;
    ensure!(a.ok && a.says("created"), "create --force of {}: {}", s.name, a.message);

    ctx.step("delete");
    s.delete(&ctx).await?;
    ensure!(s.listed(&ctx).await?.is_none(), "{} still listed after delete", s.name);
    let a = glusterfind::attempt(&ctx, &node, ["list", "--session", &s.name]).await?;
    ensure!(!a.ok && a.says("Invalid Session"), "list --session of a deleted session: {}", a.message);
    let a = glusterfind::attempt(&ctx, &node, ["delete", &s.name, &vol.name]).await?;
    ensure!(!a.ok && a.says("Invalid session"), "delete of a deleted session: ok={}, {}", a.ok, a.message);
    Ok(())
}
