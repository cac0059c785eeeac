//! A full find with `--type f` lists every non-directory (regular and hidden files, block and
//! character devices, a FIFO, both names of a hard link, a symlink), `--type d` only the
//! directories (hidden ones too), `--type both` all of them, for `pre` of a session and for
//! `query` alike; `--type` without `--full` is refused.
//!
//! The volume has its one brick on the server glusterfind runs on (no sshd on the nodes; see
//! `gluster::glusterfind`).
//!
//! Ported from glusto-tests `tests/functional/glusterfind/test_gfind_type_option.py`.
use crate::prelude::*;
use glusterfind::{Change, Find, Kind, Record};

pub const CASE: Case = Case::new(892, "full_type_option", |ctx| Box::pin(run(ctx)))
    .needs(Needs::nodes(1, 1))
    .timeout_secs(300);

const FILES: [&str; 9] = [
    "file",
    ".hiddenfile",
    "blockfile",
    "charfile",
    "pipefile",
    "fileforhardlink",
    "hardlinkfile",
    "fileforsoftlink",
    "softlinkfile",
];
const DIRS: [&str; 3] = ["dir", ".hiddendir", "dir/inner"];

async fn run(ctx: Ctx) -> Result<(), TestError> {
    let (vol, m) = mount::volume_mounted(&ctx, VolumeSpec::distribute(1)).await?;
    ctx.sh(
        &m.node,
        format!(
            "set -e; cd {}; mkdir -p dir/inner .hiddendir; echo a > file; echo b > .hiddenfile; \
             mknod blockfile b 1 5; mknod charfile c 1 5; mkfifo pipefile; \
             echo c > fileforhardlink; ln fileforhardlink hardlinkfile; \
             echo d > fileforsoftlink; ln -s fileforsoftlink softlinkfile",
            m.path
        ),
    )
    .await?;
    let records = |names: &[&str]| {
        let mut r: Vec<Record> = names.iter().map(|n| Record::new(Change::New, n)).collect();
        r.sort();
        r
    };
    let both: Vec<&str> = FILES.iter().chain(DIRS.iter()).copied().collect();
    let expect = [
        (Kind::Files, records(&FILES)),
        (Kind::Dirs, records(&DIRS)),
        (Kind::Both, records(&both)),
    ];

    let s = glusterfind::create(&ctx, &vol, "gfs").await?;
    for (i, (kind, want)) in expect.iter().enumerate() {
        let find = Find::FULL.kind(*kind);
        let find = if i > 0 { find.regenerate() } else { find };
        let got = s.pre(&ctx, find).await?;
        ensure_eq!(&got, want, "records of pre --full --type {kind:?}");
    }
    for (kind, want) in &expect {
        let got = glusterfind::query(&ctx, &vol, Find::FULL.kind(*kind)).await?;
        ensure_eq!(&got, want, "records of query --full --type {kind:?}");
    }
    let a = s
        .pre_attempt(&ctx, Find { full: false, kind: Kind::Files, regenerate: true })
        .await?;
    ensure!(
        !a.ok && a.says("can only be used with --full"),
        "pre --type f without --full should be refused saying so: ok={}, {}",
        a.ok,
        a.message
    );
    Ok(())
}
