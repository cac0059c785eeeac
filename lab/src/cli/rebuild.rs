//! Tests are compiled into `gflab`, so after editing a test or the library the binary would run
//! the old code. Run from a source checkout's target directory, `gflab test` first rebuilds when a
//! source is newer than the binary (`cargo build -p gflab`, only what changed), says so, and runs
//! the new binary with the same arguments. `GFLAB_NO_REBUILD=1` turns it off.
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Set in the environment of the re-executed binary (and by users to turn the rebuild off).
const NO_REBUILD: &str = "GFLAB_NO_REBUILD";
/// The workspace this binary was built from.
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The newest source under `dir` (`.rs` and `Cargo.toml` files, or every file when `all`), with
/// its time.
fn newest(dir: &Path, all: bool, best: &mut Option<(SystemTime, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_dir() {
            let name = e.file_name();
            if name != "target" && !name.to_string_lossy().starts_with('.') {
                newest(&path, all, best);
            }
        } else if all
            || path.extension().is_some_and(|x| x == "rs")
            || path.file_name().is_some_and(|n| n == "Cargo.toml")
        {
            if let Ok(m) = meta.modified() {
                if best.as_ref().is_none_or(|(t, _)| m > *t) {
                    *best = Some((m, path));
                }
            }
        }
    }
}

/// The source newer than `built`, if any, among the crates compiled into `gflab`.
pub fn changed_source(workspace: &Path, built: SystemTime) -> Option<PathBuf> {
    let mut best = None;
    for dir in ["tests_d", "lab", "agent"] {
        newest(&workspace.join(dir), false, &mut best);
    }
    // Image recipes and scripts are compiled in too.
    newest(&workspace.join("images"), true, &mut best);
    for f in ["Cargo.toml", "Cargo.lock"] {
        if let Ok(m) = std::fs::metadata(workspace.join(f)).and_then(|m| m.modified()) {
            if best.as_ref().is_none_or(|(t, _)| m > *t) {
                best = Some((m, workspace.join(f)));
            }
        }
    }
    best.filter(|(t, _)| *t > built).map(|(_, p)| p)
}

/// Rebuilds and re-executes when this binary is older than its sources; returns when nothing is
/// to be done (not in a checkout, up to date, or turned off). Fails when the build fails.
pub fn maybe_rebuild() -> anyhow::Result<()> {
    if std::env::var_os(NO_REBUILD).is_some() {
        return Ok(());
    }
    let workspace = Path::new(WORKSPACE);
    let Ok(exe) = std::env::current_exe() else {
        return Ok(());
    };
    // Only a binary cargo put in a target directory: `<target>/debug/gflab` or `release`.
    let (Some(profile_dir), true) = (exe.parent(), workspace.join("Cargo.toml").is_file()) else {
        return Ok(());
    };
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let Some(target_dir) = profile_dir.parent() else {
        return Ok(());
    };
    if !matches!(profile, "debug" | "release") || !target_dir.join("CACHEDIR.TAG").exists() {
        return Ok(());
    }
    let Ok(built) = std::fs::metadata(&exe).and_then(|m| m.modified()) else {
        return Ok(());
    };
    let Some(changed) = changed_source(workspace, built) else {
        return Ok(());
    };
    let shown = changed.strip_prefix(workspace).unwrap_or(&changed);
    eprintln!(
        "gflab: {} changed since this binary was built; rebuilding first (cargo build -p gflab{}; \
         {NO_REBUILD}=1 skips this)",
        shown.display(),
        if profile == "release" {
            " --release"
        } else {
            ""
        }
    );
    let mut cargo = std::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()));
    cargo
        .arg("build")
        .arg("-p")
        .arg("gflab")
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir);
    if profile == "release" {
        cargo.arg("--release");
    }
    let status = cargo.status().map_err(|e| {
        anyhow::anyhow!("failed to run cargo to rebuild gflab: {e}\nhint: {NO_REBUILD}=1 runs this binary as it is")
    })?;
    if !status.success() {
        anyhow::bail!("rebuilding gflab failed ({status}); fix the build, or run the old binary with {NO_REBUILD}=1");
    }
    let err = std::process::Command::new(&exe)
        .args(std::env::args_os().skip(1))
        .env(NO_REBUILD, "1")
        .exec();
    Err(anyhow::anyhow!(
        "failed to run the rebuilt {}: {err}",
        exe.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_newer_than_the_binary_is_named() {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(d.path().join("tests_d/afr")).expect("mkdir");
        std::fs::create_dir_all(d.path().join("lab/target")).expect("mkdir");
        std::fs::write(d.path().join("tests_d/afr/test_a.rs"), "").expect("write");
        std::fs::write(d.path().join("tests_d/afr/notes.md"), "").expect("write");
        let later = SystemTime::now() + std::time::Duration::from_secs(3600);
        assert_eq!(changed_source(d.path(), later), None, "nothing newer");
        let earlier = SystemTime::now() - std::time::Duration::from_secs(3600);
        assert_eq!(
            changed_source(d.path(), earlier),
            Some(d.path().join("tests_d/afr/test_a.rs")),
            "a .rs file, not any file"
        );
        std::fs::create_dir_all(d.path().join("images/builder")).expect("mkdir");
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(d.path().join("images/builder/build.sh"), "").expect("write");
        assert_eq!(
            changed_source(d.path(), earlier),
            Some(d.path().join("images/builder/build.sh")),
            "any file of the image recipes"
        );
    }
}
