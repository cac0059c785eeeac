//! Setting the virtual xattr `glusterfs.dht.nuke` on a directory through the mount removes the whole
//! tree at once: the directory vanishes from the mount and from every brick (moved into the brick's
//! `.glusterfs/landfill`, which the janitor then empties), while a sibling directory keeps its files
//! with their checksums. The same xattr on a regular file is refused and the file stays.
//!
//! Ported from glusto-tests `tests/functional/dht/test_nuke_happy_path.py` (a directory of
//! subdirectories and files, `setfattr -n glusterfs.dht.nuke`, gone from the mount, moved to
//! `.glusterfs/landfill` and deleted eventually), with the sibling's data and the file refusal
//! added.
use crate::prelude::*;

pub const CASE: Case = Case::new(736, "nuke_directory", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(3, 1))
    .timeout_secs(300);

const NUKE: &str = "glusterfs.dht.nuke";

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = hashing::volume_mounted(&ctx, VolumeSpec::distribute(3)).await?;
    let client = m.node.clone();
    ctx.sh(&client, format!("mkdir {0}/dir1 && cd {0}/dir1 && for i in $(seq 1 100); do mkdir d$i; echo $i > d$i/f; echo $i > f$i; done", m.path)).await?;
    let kept = io::write_files(&ctx, &client, &m.path, &io::files("keep/k", 20, 8 << 10)).await?;
    for b in &vol.bricks {
        ensure!(ctx.exec(&b.node, Command::shell(format!("test -d {}/dir1/d1", b.path))).await?.success(), "dir1/d1 missing on brick {} before the nuke", b.spec());
    }

    let file = format!("{}/keep/k-0", m.path);
    let on_file = ctx.exec(&client, Command::shell(format!("setfattr -n {NUKE} -v test {file}"))).await?;
    ensure!(!on_file.success(), "{NUKE} on a regular file was accepted");
    let err = on_file.stderr_str();
    ensure!(err.contains("Operation not supported"), "{NUKE} on a regular file refused with {err:?}, expected ENOTSUP");

    ctx.sh(&client, format!("setfattr -n {NUKE} -v test {}/dir1", m.path)).await?;
    let listed = ctx.sh(&client, format!("ls -A {}", m.path)).await?;
    let names: Vec<&str> = listed.split_whitespace().collect();
    ensure_eq!(names, vec!["keep"], "entries of the mount's root after nuking dir1");
    for b in &vol.bricks {
        let there = ctx.exec(&b.node, Command::shell(format!("test -e {}/dir1", b.path))).await?.success();
        ensure!(!there, "dir1 is still in brick {} after the nuke", b.spec());
    }
    for b in &vol.bricks {
        let landfill = format!("{}/.glusterfs/landfill", b.path);
        wait_for(&ctx, &format!("the landfill of {} to be emptied", b.spec()), Duration::from_secs(120), Duration::from_secs(2), || async {
            let left = ctx.sh(&b.node, format!("find {landfill} -mindepth 1 | wc -l")).await?;
            Ok(if left.trim() == "0" { Poll::Ready(()) } else { Poll::Pending(format!("{} entries left", left.trim())) })
        })
        .await?;
    }
    io::verify(&ctx, &client, &m.path, &kept).await?;
    Ok(())
}
