//! Heal after a brick returns, seen on the bricks: with one brick of each disperse set down,
//! files are rewritten with another size and chmod-ed; the dead brick's fragments keep the old
//! `trusted.ec.size` and a lower `trusted.ec.version` than the live bricks, which agree among
//! themselves. Once it is back, heal brings every brick of the set to the same size, version and
//! fragment length, and the mount reads the new data.
//!
//! Ported from glusto-tests `tests/functional/disperse/test_ec_version_healing_when_one_brick_down.py`
//! (files written, a brick of a set down, more writes, chmod/chown, bring it up, wait for heal,
//! `trusted.ec.version` and `trusted.ec.size` the same on every brick of the set). Its second
//! brick going down while the first heals is scenario 563.
use crate::prelude::*;

pub const CASE: Case = Case::new(552, "heal_ec_xattrs_after_brick_down", |ctx| {
    Box::pin(run(ctx))
})
.needs(Needs::nodes(3, 1))
.runs_on(VolumeType::DISPERSED)
.timeout_secs(600);

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let vol = volume::create(&ctx, ctx.matrix_spec()?).await?;
    vol.start_and_wait(&ctx).await?;
    let client = ctx.client(0)?;
    let m = mount::mount(&ctx, &client, &vol).await?;
    io::write_files(
        &ctx,
        &client,
        &m.path,
        &io::files("dir1/file", 10, 64 * 1024),
    )
    .await?;

    let down = brick::take_down(&ctx, &vol, Select::One).await?;
    let sums =
        io::write_files(&ctx, &client, &m.path, &io::files("dir1/file", 10, 150_000)).await?;
    ctx.sh(&client, format!("chmod 0777 {}/dir1/file-[2-5]", m.path))
        .await?;

    for s in &sums {
        let f = ec::fragments(&ctx, &vol, &s.name).await?;
        let dead = down
            .iter()
            .copied()
            .find(|d| brick::sets(&vol)[f.set].contains(d))
            .ok_or_else(|| TestError::Check(format!("no brick of set {} is down", f.set)))?;
        let stale = f.on(dead).ok_or_else(|| {
            TestError::Check(format!("{} has no fragment on the dead brick", s.name))
        })?;
        let live: Vec<&ec::Fragment> = f
            .bricks
            .iter()
            .filter(|(i, _)| *i != dead)
            .filter_map(|(_, x)| x.as_ref())
            .collect();
        ensure_eq!(
            live.len(),
            f.bricks.len() - 1,
            "live fragments of {}",
            s.name
        );
        // Data versions only: a metadata update may still sit under the client's eager lock.
        for x in &live {
            ensure!(
                x.size() == Some(s.size)
                    && x.version().map(|v| v.data) == live[0].version().map(|v| v.data),
                "live bricks of set {} disagree on {}: {}",
                f.set,
                s.name,
                f.describe()
            );
        }
        let (old, new) = (stale.version(), live[0].version());
        ensure!(
            stale.size() == Some(64 * 1024)
                && matches!((old, new), (Some(o), Some(n)) if o.data < n.data),
            "the dead brick #{dead} should keep the old size 65536 and an older data version \
             than the live bricks for {}: {}",
            s.name,
            f.describe()
        );
    }

    brick::bring_back(&ctx, &vol).await?;
    brick::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
    heal::wait_complete(&ctx, &vol, Duration::from_secs(300)).await?;
    for s in &sums {
        let f = ec::wait_healed(&ctx, &vol, &s.name, Duration::from_secs(60)).await?;
        let first = f.bricks[0].1.as_ref();
        ensure_eq!(
            first.map(|x| (x.size(), x.len)),
            Some((Some(s.size), ec::fragment_len(&vol.layout, s.size))),
            "size and fragment length of {} after heal",
            s.name
        );
    }
    io::verify(&ctx, &client, &m.path, &sums).await?;
    let mode = fileops::stat(&ctx, &client, &format!("{}/dir1/file-3", m.path), "%a").await?;
    ensure_eq!(mode, "777", "mode of dir1/file-3");
    Ok(())
}
