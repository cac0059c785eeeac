//! Disperse volume creation refuses impossible redundancies, each with its reason: redundancy 0
//! or negative ("must be greater than 0"), redundancy of half the bricks or more, or a data count
//! equal to the disperse count ("greater than or equal to 1 and less than 3 for a disperse 6
//! volume"), a disperse count below 3, and a disperse count that is not data + redundancy. No
//! volume is left behind by any refusal, and the valid 4+2 is accepted.
//!
//! Ported from glusto-tests `tests/functional/disperse/test_ec_validate_volume_creation.py`
//! (`test_invalid_usecase_one` to `_seven`: redundancy 0, 3, 4, 6 and -2 on disperse 6,
//! disperse-data 6 of 6 and 4 of 4 refused; `test_valid_usecase_one`: 6 with redundancy 2
//! accepted), with the CLI's messages (GlusterFS `cli/src/cli-cmd-parser.c`) checked.
use crate::prelude::*;

pub const CASE: Case = Case::new(565, "create_refuses_bad_redundancy", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.timeout_secs(300);

const RANGE: &str = "redundancy must be greater than or equal to 1 and less than";

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let cases: &[(&[&str], usize, &str)] = &[
        (
            &["disperse", "6", "redundancy", "0"],
            6,
            "redundancy must be greater than 0",
        ),
        (
            &["disperse", "6", "redundancy", "-2"],
            6,
            "redundancy must be greater than 0",
        ),
        (
            &["disperse", "6", "redundancy", "3"],
            6,
            "less than 3 for a disperse 6 volume",
        ),
        (&["disperse", "6", "redundancy", "4"], 6, RANGE),
        (&["disperse", "6", "redundancy", "6"], 6, RANGE),
        (&["disperse", "6", "disperse-data", "6"], 6, RANGE),
        (
            &["disperse", "4", "disperse-data", "4"],
            4,
            "less than 2 for a disperse 4 volume",
        ),
        (
            &["disperse", "2"],
            2,
            "disperse count must be greater than 2",
        ),
        (
            &["disperse", "6", "disperse-data", "4", "redundancy", "1"],
            6,
            "should be equal to sum of disperse-data count(4) and redundancy count(1)",
        ),
    ];
    let server = ctx.server(0)?;
    for (words, bricks, reason) in cases {
        let t = volume::attempt_create(&ctx, words, *bricks, true, None).await?;
        ensure!(
            !t.accepted(),
            "gluster created a volume with `{}`",
            words.join(" ")
        );
        ensure!(
            t.message().contains(reason),
            "`{}` was refused, but not for \"{reason}\": {}",
            words.join(" "),
            t.message()
        );
        ensure!(
            !volume::list(&ctx, &server).await?.contains(&t.name),
            "the refused `{}` left volume {} behind",
            words.join(" "),
            t.name
        );
    }
    let ok =
        volume::attempt_create(&ctx, &["disperse", "6", "redundancy", "2"], 6, true, None).await?;
    ensure!(
        ok.accepted(),
        "disperse 6 redundancy 2 was refused: {}",
        ok.message()
    );
    let info = volume::info(&ctx, &server, &ok.name).await?;
    ensure_eq!(
        (
            info.type_str.as_str(),
            info.disperse_count,
            info.redundancy_count
        ),
        ("Disperse", 6, 2),
        "volume info of the valid 4+2"
    );
    Ok(())
}
