//! Disperse creation checks the layout beyond the redundancy: a brick count that is not a
//! multiple of the disperse count is refused ("not a multiple of disperse count", even with
//! force); two bricks of one set on a server are refused without `force` (the message says to
//! use it) and accepted with it; a set spread over three servers needs no force; a data count
//! that is not a power of two asks whether to go on (answering no creates nothing, script mode
//! creates it); and with no redundancy given the CLI proposes the optimal one and uses it.
//!
//! Ported from glusto-tests `tests/functional/disperse/test_ec_validate_volume_creation.py`
//! (`test_insufficient_brick_servers`: fewer servers than bricks fails without force and
//! succeeds with it) and the questions of `cli_cmd_create_disperse_check` in GlusterFS
//! `cli/src/cli-cmd-parser.c`, the brick-count check of its volume-create parser, and glusterd's
//! same-server check.
use crate::prelude::*;

pub const CASE: Case = Case::new(566, "create_checks_layout_and_force", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.timeout_secs(300);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let server = ctx.server(0)?;
    let refused = |t: &volume::CreateAttempt, what: &str, reason: &str| -> Result<(), TestError> {
        ensure!(!t.accepted(), "gluster accepted {what}");
        ensure!(
            t.message().contains(reason),
            "{what} was refused, but not for \"{reason}\": {}",
            t.message()
        );
        Ok(())
    };

    let t =
        volume::attempt_create(&ctx, &["disperse", "6", "redundancy", "2"], 8, true, None).await?;
    refused(
        &t,
        "8 bricks for disperse 6",
        "not a multiple of disperse count",
    )?;

    let t =
        volume::attempt_create(&ctx, &["disperse", "6", "redundancy", "2"], 6, false, None).await?;
    refused(
        &t,
        "a 4+2 set with two bricks per server, without force",
        "force",
    )?;
    let t =
        volume::attempt_create(&ctx, &["disperse", "6", "redundancy", "2"], 6, true, None).await?;
    ensure!(
        t.accepted(),
        "force did not override the placement: {}",
        t.message()
    );

    let t =
        volume::attempt_create(&ctx, &["disperse", "3", "redundancy", "1"], 3, false, None).await?;
    ensure!(
        t.accepted(),
        "2+1 over three servers was refused: {}",
        t.message()
    );

    let words = ["disperse", "5", "redundancy", "2"];
    let t = volume::attempt_create(&ctx, &words, 5, true, Some("n")).await?;
    refused(&t, "3+2 answered no", "This configuration is not optimal")?;
    ensure!(
        !volume::list(&ctx, &server).await?.contains(&t.name),
        "answering no still created {}",
        t.name
    );
    let t = volume::attempt_create(&ctx, &words, 5, true, None).await?;
    ensure!(
        t.accepted(),
        "3+2 in script mode was refused: {}",
        t.message()
    );

    let t = volume::attempt_create(&ctx, &["disperse", "6"], 6, true, Some("y")).await?;
    ensure!(
        t.accepted()
            && t.message()
                .contains("The optimal redundancy for this configuration is 2"),
        "disperse 6 without redundancy should propose 2 and create: {}",
        t.message()
    );
    let info = volume::info(&ctx, &server, &t.name).await?;
    ensure_eq!(info.redundancy_count, 2, "redundancy chosen for disperse 6");
    Ok(())
}
