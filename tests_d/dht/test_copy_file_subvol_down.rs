//! Copying a renamed file onto an existing one with DHT subvolumes down: the source's data is on
//! one subvolume (cached), its name hashes to a second (a link file there) and the destination's
//! name to the third. The copy works with every subvolume up and with only the source's hashed
//! subvolume down (the destination then holds the source's data, on its own subvolume); it fails
//! whenever the source's cached subvolume or the destination's hashed one is down. After each
//! case the bricks come back and the source still reads with its checksum.
//!
//! Ported from glusto-tests `tests/functional/dht/test_copy_file_subvol_down.py` (its six cases,
//! each on a fresh pair of files here), checked with the data copied.
use crate::prelude::*;

pub const CASE: Case = Case::new(727, "copy_file_subvol_down", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(500);

/// Which subvolumes are down during a copy, and whether it must succeed.
struct Down {
    what: &'static str,
    src_cached: bool,
    src_hashed: bool,
    dest_hashed: bool,
    works: bool,
}

const CASES: [Down; 6] = [
    Down { what: "all up", src_cached: false, src_hashed: false, dest_hashed: false, works: true },
    Down { what: "source cached and destination hashed down", src_cached: true, src_hashed: false, dest_hashed: true, works: false },
    Down { what: "source cached down", src_cached: true, src_hashed: false, dest_hashed: false, works: false },
    Down { what: "source hashed and destination hashed down", src_cached: false, src_hashed: true, dest_hashed: true, works: false },
    Down { what: "source hashed down", src_cached: false, src_hashed: true, dest_hashed: false, works: true },
    Down { what: "destination hashed down", src_cached: false, src_hashed: false, dest_hashed: true, works: false },
];

fn take(pool: &mut Vec<String>, s: usize) -> Result<String, TestError> {
    pool.pop().ok_or_else(|| TestError::Check(format!("no more probe names hash to subvolume {s}")))
}

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    let mut pools = dht::names_by_subvol(&ctx, &vol, &m, "", "n", 90).await?;
    for (k, case) in CASES.iter().enumerate() {
        ctx.step(format!("case {k}: {}", case.what));
        let src = io::write_files(&ctx, &client, &m.path, &[(format!("src{k}"), 50_000)]).await?.remove(0);
        let cached = dht::data_subvol(&ctx, &vol, &src.name).await?;
        let (hashed, dest_hashed) = ((cached + 1) % 3, (cached + 2) % 3);
        let renamed = take(&mut pools[hashed], hashed)?;
        let dest = take(&mut pools[dest_hashed], dest_hashed)?;
        fileops::rename(&ctx, &client, &format!("{}/{}", m.path, src.name), &format!("{}/{renamed}", m.path)).await?;
        ctx.sh(&client, format!("touch {}/{dest}", m.path)).await?;
        ensure_eq!(dht::links(&ctx, &vol, &renamed).await?.iter().map(|l| l.0).collect::<Vec<_>>(), vec![hashed], "link file of {renamed} (renamed src{k})");
        ensure_eq!(dht::data_subvol(&ctx, &vol, &dest).await?, dest_hashed, "subvolume of {dest}");

        let mut down: Vec<usize> = Vec::new();
        for (on, s) in [(case.src_cached, cached), (case.src_hashed, hashed), (case.dest_hashed, dest_hashed)] {
            if on {
                down.push(s);
            }
        }
        for &s in &down {
            brick::kill(&ctx, &vol, s).await?;
        }
        let out = mount::attempt(&ctx, &client, &m.path, &format!("cd \"$M\" && cp -r {renamed} {dest}"), Duration::from_secs(60)).await?;
        ensure_eq!(out.success(), case.works, "cp {renamed} {dest} succeeded, with {} (bricks {down:?} down); stderr: {}", case.what, out.stderr_str().trim());
        if !down.is_empty() {
            brick::bring_back(&ctx, &vol).await?;
            dht::wait_client_up(&ctx, &m, &vol, Duration::from_secs(60)).await?;
        }
        let moved = io::FileSum { name: renamed.clone(), ..src.clone() };
        io::verify(&ctx, &client, &m.path, std::slice::from_ref(&moved)).await?;
        if case.works {
            io::verify(&ctx, &client, &m.path, &[io::FileSum { name: dest.clone(), ..src.clone() }]).await?;
            ensure_eq!(dht::data_subvol(&ctx, &vol, &dest).await?, dest_hashed, "subvolume holding {dest} after the copy");
        }
    }
    Ok(())
}
