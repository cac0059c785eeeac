//! `glusterfind query --full` lists the volume's files without a session and leaves none
//! behind (`glusterfind list` shows no session for the volume), each written file listed as
//! NEW with its name; a query of an unknown volume and queries with unknown options are
//! refused, and so is a query naming neither `--full` nor `--since-time`.
//!
//! The volume has its one brick on the server glusterfind runs on (no sshd on the nodes; see
//! `gluster::glusterfind`).
//!
//! Ported from glusto-tests `tests/functional/glusterfind/test_gfind_query_cli.py`.
use crate::prelude::*;
use glusterfind::{Change, Find, Record};

pub const CASE: Case = Case::new(894, "query_without_session", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(1, 1))
    .timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::distribute(1)).await?;
    let files: Vec<(String, u64)> = (1..=10).map(|i| (format!("file{i}"), 1 << 20)).collect();
    io::write_files(&ctx, &m.node, &m.path, &files).await?;
    let mut want: Vec<Record> = files.iter().map(|(n, _)| Record::new(Change::New, n)).collect();
    want.sort();

    let got = glusterfind::query(&ctx, &vol, Find::FULL).await?;
    ensure_eq!(got, want, "records of query --full");
    let node = vol.server.clone();
    let a = glusterfind::attempt(&ctx, &node, ["list", "--volume", &vol.name]).await?;
    ensure!(
        !a.ok && a.says("Invalid Session"),
        "glusterfind list --volume after a query should find no session: ok={}, {}",
        a.ok,
        a.message
    );

    ctx.step("refusals");
    let out = "/tmp/gflab-glusterfind/never-written.txt";
    let a = glusterfind::attempt(&ctx, &node, ["query", "gflab-no-such-volume", out, "--full"]).await?;
    ensure!(!a.ok && a.says("Invalid Volume"), "query of an unknown volume: ok={}, {}", a.ok, a.message);
    for opt in ["--dbug", "--noencod", "--fll", "--disablepartial", "--namespc"] {
        let a = glusterfind::attempt(&ctx, &node, ["query", &vol.name, out, opt]).await?;
        ensure!(!a.ok, "query with the unknown option {opt} was accepted: {}", a.message);
    }
    let a = glusterfind::attempt(&ctx, &node, ["query", &vol.name, out, "--full", "--type", "n"]).await?;
    ensure!(!a.ok && a.says("invalid choice"), "query --type n: ok={}, {}", a.ok, a.message);
    let a = glusterfind::attempt(&ctx, &node, ["query", &vol.name, out]).await?;
    ensure!(
        !a.ok && a.says("--since-time"),
        "a query with neither --full nor --since-time: ok={}, {}",
        a.ok,
        a.message
    );
    let exists = ctx.exec(&node, Command::new("test").args(["-e", out])).await?.success();
    ensure!(!exists, "a refused query wrote {out}");
    Ok(())
}
