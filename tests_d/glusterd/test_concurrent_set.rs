//! Concurrent `volume set` on two volumes from two servers at once: every one of the sets
//! succeeds (glusterd locks per volume, so neither loop is refused), each volume ends with the
//! value its loop set last, the same in `volume info` on every server, and glusterd still runs
//! everywhere with every peer connected.
//!
//! Ported from glusto-tests `tests/functional/glusterd/test_concurrent_set.py` (two volumes,
//! `volume set` in a loop on each from different nodes at the same time, all succeed, no
//! glusterd crash); here each loop alternates the value so the final one is observable. (On
//! 10.3 two such loops on the same volume collide: "Another transaction is in progress".)
use crate::prelude::*;

pub const CASE: Case = Case::new(774, "concurrent_set_two_volumes", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 0))
    .timeout_secs(600);

const ROUNDS: usize = 20;

/// A shell loop of `ROUNDS` (even) `volume set VOL KEY on|off`, alternating and ending with
/// `last`; it prints how many sets failed, and the first refusal.
fn set_loop(vol: &str, key: &str, last: &str) -> String {
    let first = if last == "on" { "off" } else { "on" };
    format!(
        "fail=0; for i in $(seq 1 {ROUNDS}); do \
           if [ $((i % 2)) -eq 1 ]; then v={first}; else v={last}; fi; \
           out=$(gluster --mode=script volume set {vol} {key} $v 2>&1) || \
             {{ fail=$((fail + 1)); [ $fail -eq 1 ] && echo \"first refusal: $out\"; }}; \
         done; echo \"failed=$fail\""
    )
}

fn failures(out: &str) -> Option<usize> {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("failed="))
        .and_then(|n| n.parse().ok())
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (s1, s2) = (ctx.server(1)?, ctx.server(2)?);
    let a = volume::create(&ctx, VolumeSpec::distribute(3)).await?;
    let b = volume::create(&ctx, VolumeSpec::distribute(3)).await?;
    // Each loop ends with the value that is not the option's default (10.3: read-ahead off,
    // write-behind on).
    let (ka, kb) = ("performance.read-ahead", "performance.write-behind");
    let (la, lb) = ("on", "off");
    for (v, k, last) in [(&a, ka, la), (&b, kb, lb)] {
        let now = v.get(&ctx, k).await?;
        ensure!(now != last, "{k} of {} is already {last} before the loops", v.name);
    }

    ctx.step(format!(
        "{ROUNDS} sets of {ka} on {} from {} while {ROUNDS} sets of {kb} on {} run from {}",
        a.name,
        s1.name(),
        b.name,
        s2.name()
    ));
    let (oa, ob) = tokio::join!(
        ctx.sh(&s1, set_loop(&a.name, ka, la)),
        ctx.sh(&s2, set_loop(&b.name, kb, lb))
    );
    for (out, v, from) in [(oa?, &a, &s1), (ob?, &b, &s2)] {
        ensure_eq!(
            failures(&out),
            Some(0),
            "failed volume sets on {} from {} (output: {})",
            v.name,
            from.name(),
            out.trim()
        );
    }

    for s in ctx.servers() {
        ensure!(
            glusterd::is_running(&ctx, &s).await?,
            "glusterd on {} is not running after the concurrent sets",
            s.name()
        );
        for (v, k, last) in [(&a, ka, la), (&b, kb, lb)] {
            let info = volume::info(&ctx, &s, &v.name).await?;
            ensure_eq!(
                info.options.get(k).map(String::as_str),
                Some(last),
                "{k} of {} in volume info on {} after the last set ({last})",
                v.name,
                s.name()
            );
        }
    }
    peer::wait_connected(&ctx, Duration::from_secs(30)).await?;
    Ok(())
}

