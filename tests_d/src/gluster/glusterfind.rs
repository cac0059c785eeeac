//! glusterfind (`/usr/bin/glusterfind` on the servers): sessions (`create`, `list`, `delete`),
//! `pre` and `query` whose output file is parsed into typed change records, and `post`.
//!
//! What glusterfind needs, found on GlusterFS 10.3 (Debian bookworm packages):
//! - It runs its brick-side crawler locally for bricks on the node where it runs, and over
//!   `ssh root@host` (then `scp` of the result) for bricks on any other node. The lab nodes run
//!   no sshd, so only volumes whose bricks are all on that node can be used: [`create`] and
//!   [`query`] refuse others with [`TestError::Skip`] and the reason.
//! - `create`, `pre` and `query` first make a per-session key pair with `ssh-keygen` (even when
//!   no brick is remote) and spread its public half with `gluster system:: copy file` and
//!   `system:: execute add_secret_pub` into root's `authorized_keys` on every server. The
//!   nodes have no `ssh-keygen` (openssh-client is not installed): when it is missing the key
//!   pair is made here with `openssl` (ed25519, the public half in OpenSSH form) where
//!   glusterfind looks for it, so it uses that one. The key is never used: no brick is remote.
//! - `system:: copy file` writes under `/var/lib/glusterd/glusterfind/.keys/` on every server;
//!   the Debian package does not ship that directory (the RPM does), so it is made on each.
//! - Incremental `pre`/`query` (without `--full`) run `changelog.py`, which imports the Python
//!   module `xattr` with pyxattr's API (`xattr.list`; Debian `python3-pyxattr`, not
//!   `python3-xattr`), not installed on the nodes: see [`changelog_crawler_missing`]. Full finds (`--full`, `brickfind.py`) need nothing more.
//! - `pre` without `--disable-partial` ignores a failed brick-side crawler and writes what it
//!   has (possibly nothing) with exit status 0; every `pre`/`query` here passes
//!   `--disable-partial` so such a failure is an error.
//!
//! Cleanup: a session is deleted at the end, with its working and log directories, its key
//! files and the `authorized_keys` lines its key added on every server; output files are
//! removed.
use std::fmt;

use gflab_agent::{shell, Command};

use super::mgmt::Attempt;
use super::volume::Volume;
use crate::ctx::{Cleanup, Node};
use crate::{Ctx, TestError};

/// Where glusterfind keeps sessions (`session_dir` of its `tool.conf`).
pub const SESSION_DIR: &str = "/var/lib/glusterd/glusterfind";
/// Its per-session working files (`working_dir`).
pub const WORKING_DIR: &str = "/var/lib/misc/glusterfsd/glusterfind";
/// Its logs (`log_dir`).
pub const LOG_DIR: &str = "/var/log/glusterfs/glusterfind";

/// A change record of a `pre`/`query` output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// Created (every entry of a full find).
    New,
    /// Data or metadata changed.
    Modify,
    /// Renamed (the record has the new path).
    Rename,
    /// Deleted.
    Delete,
}

impl Change {
    fn parse(word: &str) -> Option<Change> {
        match word {
            "NEW" => Some(Change::New),
            "MODIFY" => Some(Change::Modify),
            "RENAME" => Some(Change::Rename),
            "DELETE" => Some(Change::Delete),
            _ => None,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Change::New => "NEW",
            Change::Modify => "MODIFY",
            Change::Rename => "RENAME",
            Change::Delete => "DELETE",
        })
    }
}

/// One line of an output file: the change, the path (from the volume root, decoded) and for a
/// rename the new path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Record {
    /// What happened.
    pub change: Change,
    /// The path (the old one for a rename).
    pub path: String,
    /// The new path of a rename.
    pub new_path: Option<String>,
}

impl Record {
    /// A record of `change` for `path`.
    pub fn new(change: Change, path: &str) -> Record {
        Record {
            change,
            path: path.to_string(),
            new_path: None,
        }
    }
}

/// Decodes glusterfind's `%XX` escapes (paths are encoded unless `--no-encode`).
pub fn decode(path: &str) -> String {
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses an output file written with field separator `sep` (glusterfind's default is one
/// space) and the default tags; `encoded`: the paths are `%XX`-encoded (no `--no-encode`).
/// Lines that are not a known tag followed by a path are an error naming the line.
pub fn parse_outfile(text: &str, sep: &str, encoded: bool) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.splitn(3, sep);
        let tag = parts.next().unwrap_or_default();
        let change = Change::parse(tag).ok_or_else(|| format!("unknown tag in {line:?}"))?;
        let path = parts.next().ok_or_else(|| format!("no path in {line:?}"))?;
        let dec = |p: &str| {
            let p = p.trim_start_matches('/');
            if encoded {
                decode(p)
            } else {
                p.to_string()
            }
        };
        out.push(Record {
            change,
            path: dec(path),
            new_path: parts.next().map(dec),
        });
    }
    out.sort();
    Ok(out)
}

/// What a full find lists (`--type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `--type f`: everything but directories.
    Files,
    /// `--type d`: directories only.
    Dirs,
    /// `--type both` (the default).
    Both,
}

impl Kind {
    fn arg(self) -> &'static str {
        match self {
            Kind::Files => "f",
            Kind::Dirs => "d",
            Kind::Both => "both",
        }
    }
}

/// Options of `pre` and `query`.
#[derive(Debug, Clone, Copy)]
pub struct Find {
    /// `--full`: every entry of the bricks as NEW (otherwise the changes since the session time,
    /// from the changelogs).
    pub full: bool,
    /// `--type` (passed when `full` or not `Both`; glusterfind takes f/d only with `--full`).
    pub kind: Kind,
    /// `--regenerate-outfile` (a `pre` again without a `post` in between).
    pub regenerate: bool,
}

impl Find {
    /// A full find of every type.
    pub const FULL: Find = Find {
        full: true,
        kind: Kind::Both,
        regenerate: false,
    };
    /// The changes since the session time.
    pub const CHANGES: Find = Find {
        full: false,
        kind: Kind::Both,
        regenerate: false,
    };
    /// This find of `kind` entries only.
    pub fn kind(self, kind: Kind) -> Find {
        Find { kind, ..self }
    }
    /// This find with `--regenerate-outfile`.
    pub fn regenerate(self) -> Find {
        Find {
            regenerate: true,
            ..self
        }
    }
    fn args(&self) -> Vec<String> {
        let mut a = vec!["--disable-partial".to_string()];
        if self.full {
            a.push("--full".into());
        }
        if self.full || self.kind != Kind::Both {
            a.extend(["--type".to_string(), self.kind.arg().into()]);
        }
        if self.regenerate {
            a.push("--regenerate-outfile".into());
        }
        a
    }
}

/// A glusterfind session this test created (deleted at the end).
#[derive(Debug, Clone)]
pub struct Session {
    /// Its name.
    pub name: String,
    /// The volume.
    pub volume: String,
    /// The server glusterfind runs on (every brick of the volume is there).
    pub node: Node,
}

/// Runs `glusterfind ARGS` on `node` and returns its answer whatever the exit status. The log
/// directory glusterfind makes for the command (even a refused one) is removed at the end.
pub async fn attempt<I, S>(ctx: &Ctx, node: &Node, args: I) -> Result<Attempt, TestError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let args: Vec<String> = args.into_iter().map(Into::into).collect();
    if let Some(dir) = log_dir_of(&args) {
        let d = shell::quote(&dir);
        ctx.defer(Cleanup::Command {
            node: node.clone(),
            command: Command::shell(format!(
                "rm -rf {d}; rmdir \"$(dirname {d})\" 2>/dev/null; true"
            )),
        });
    }
    let out = ctx
        .exec(node, Command::new("glusterfind").args(args))
        .await?;
    Ok(Attempt {
        ok: out.success(),
        message: format!("{}{}", out.stdout_str(), out.stderr_str())
            .trim()
            .to_string(),
    })
}

/// The log directory glusterfind makes for a command: `LOG_DIR/SESSION/VOLUME` (the session is
/// `default` for `query`; `list` uses its `--session`/`--volume` values). `None` when that
/// would be the log directory itself, shared by every test, or a path outside it.
pub fn log_dir_of(args: &[String]) -> Option<String> {
    let mode = args.first()?.as_str();
    let positional: Vec<&str> = args[1..]
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
            .unwrap_or("")
    };
    let (session, volume) = match mode {
        "create" | "delete" | "pre" | "post" => (*positional.first()?, *positional.get(1)?),
        "query" => ("default", *positional.first()?),
        "list" => (flag("--session"), flag("--volume")),
        _ => return None,
    };
    let parts: Vec<&str> = [session, volume]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() || parts.iter().any(|p| p.contains("..")) {
        return None;
    }
    Some(format!("{LOG_DIR}/{}", parts.join("/")))
}

async fn run<I, S>(ctx: &Ctx, node: &Node, args: I) -> Result<String, TestError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Ok(ctx
        .run(node, Command::new("glusterfind").args(args))
        .await?
        .stdout_str())
}

/// Why glusterfind cannot run for `vol` from its server without ssh, if it cannot: a brick
/// on another node.
fn remote_bricks(vol: &Volume) -> Option<String> {
    let remote: Vec<String> = vol
        .bricks
        .iter()
        .filter(|b| b.node.name() != vol.server.name())
        .map(|b| b.spec())
        .collect();
    (!remote.is_empty()).then(|| {
        format!(
            "glusterfind reaches bricks on other nodes over ssh and the nodes run no sshd; \
             {} has bricks off {}: {remote:?}",
            vol.name,
            vol.server.name()
        )
    })
}

/// The OpenSSH public key line of the ed25519 key in PEM file `key` (made with openssl).
fn keypair_script(key: &str) -> String {
    let k = shell::quote(key);
    format!(
        "set -e\nmkdir -p \"$(dirname {k})\"\n\
         openssl genpkey -algorithm ed25519 -out {k} 2>/dev/null\nchmod 600 {k}\n\
         raw=$(openssl pkey -in {k} -pubout -outform DER | tail -c 32 | base64 -w0)\n\
         python3 -c 'import base64,struct,sys\n\
r=base64.b64decode(sys.argv[1]); t=b\"ssh-ed25519\"\n\
b=struct.pack(\">I\",len(t))+t+struct.pack(\">I\",len(r))+r\n\
print(\"ssh-ed25519 \"+base64.b64encode(b).decode()+\" \"+sys.argv[2])' \"$raw\" glusterfind > {k}.pub\n"
    )
}

/// Prepares what glusterfind needs for `session` on `vol` (see the module doc) and registers
/// the cleanup of what it leaves on the servers.
async fn prepare(ctx: &Ctx, vol: &Volume, session: &str) -> Result<(), TestError> {
    if let Some(why) = remote_bricks(vol) {
        return Err(TestError::Skip(why));
    }
    let node = &vol.server;
    let key_name = format!("{session}_{}_secret.pem", vol.name);
    let key = format!("{SESSION_DIR}/{session}/{}/{key_name}", vol.name);
    // Registered first, so it runs after the session's own deletion.
    for s in ctx.servers() {
        ctx.defer(Cleanup::Command {
            node: s.clone(),
            command: Command::shell(format!(
                "rm -f {SESSION_DIR}/.keys/{key_name}.pub; \
                 f=/root/.ssh/authorized_keys; \
                 if [ -f $f ]; then grep -v -F {tag} $f > $f.gflab || true; cat $f.gflab > $f; \
                 rm -f $f.gflab; fi",
                tag = shell::quote(&format!("{}-{session}", "gflab"))
            )),
        });
        ctx.sh(&s, format!("mkdir -p {SESSION_DIR}/.keys")).await?;
    }
    ctx.defer(Cleanup::Command {
        node: node.clone(),
        command: Command::shell(format!(
            "for d in {SESSION_DIR} {WORKING_DIR} {LOG_DIR}; do rm -rf $d/{session}/{v}; \
             rmdir $d/{session} 2>/dev/null; done; true",
            v = vol.name
        )),
    });
    let has_keygen = ctx
        .exec(node, Command::shell("command -v ssh-keygen"))
        .await?
        .success();
    let exists = ctx
        .exec(node, Command::new("test").args(["-f", key.as_str()]))
        .await?
        .success();
    if !has_keygen && !exists {
        ctx.step(format!(
            "{} has no ssh-keygen: the session key made with openssl",
            node.name()
        ));
        ctx.sh(node, keypair_script(&key)).await?;
        // Comment the public key so that cleanup finds its authorized_keys line.
        ctx.sh(
            node,
            format!(
                "sed -i 's/ glusterfind$/ gflab-{session}/' {}.pub",
                shell::quote(&key)
            ),
        )
        .await?;
    }
    Ok(())
}

/// `glusterfind create SESSION VOLUME` from the volume's server, after [`prepare`]; the session
/// is deleted at the end. A volume with a brick off that server is skipped with the reason.
pub async fn create(ctx: &Ctx, vol: &Volume, what: &str) -> Result<Session, TestError> {
    let name = ctx.unique(what);
    prepare(ctx, vol, &name).await?;
    ctx.defer(Cleanup::Command {
        node: vol.server.clone(),
        command: Command::shell(format!(
            "glusterfind list --session {name} >/dev/null 2>&1 || exit 0; \
             glusterfind delete {name} {}",
            vol.name
        )),
    });
    run(
        ctx,
        &vol.server,
        ["create", name.as_str(), vol.name.as_str()],
    )
    .await?;
    Ok(Session {
        name,
        volume: vol.name.clone(),
        node: vol.server.clone(),
    })
}

/// One row of `glusterfind list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Session name.
    pub session: String,
    /// Volume.
    pub volume: String,
    /// `SESSION TIME` as printed (`2026-12-07 04:56:44`, the node's local time).
    pub time: String,
}

/// Parses `glusterfind list` output (a header, a rule, one row per session; `No sessions
/// found.` when there is none).
pub fn parse_list(text: &str) -> Vec<Listed> {
    text.lines()
        .skip_while(|l| !l.starts_with("---"))
        .skip(1)
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let session = w.next()?.to_string();
            let volume = w.next()?.to_string();
            let time = w.collect::<Vec<_>>().join(" ");
            Some(Listed {
                session,
                volume,
                time,
            })
        })
        .collect()
}

/// `glusterfind list [--session S] [--volume V]` on `node`, parsed; an error when it fails (an
/// unknown session).
pub async fn list(
    ctx: &Ctx,
    node: &Node,
    session: Option<&str>,
    volume: Option<&str>,
) -> Result<Vec<Listed>, TestError> {
    let mut args = vec!["list".to_string()];
    if let Some(s) = session {
        args.extend(["--session".into(), s.to_string()]);
    }
    if let Some(v) = volume {
        args.extend(["--volume".into(), v.to_string()]);
    }
    Ok(parse_list(&run(ctx, node, args).await?))
}

impl Session {
    /// This session's row of `glusterfind list`, if listed.
    pub async fn listed(&self, ctx: &Ctx) -> Result<Option<Listed>, TestError> {
        Ok(list(ctx, &self.node, None, None)
            .await?
            .into_iter()
            .find(|l| l.session == self.name && l.volume == self.volume))
    }

    /// The session time glusterfind keeps (seconds since the epoch, its `status` file).
    pub async fn time(&self, ctx: &Ctx) -> Result<u64, TestError> {
        let path = format!("{SESSION_DIR}/{}/{}/status", self.name, self.volume);
        let out = ctx.sh(&self.node, format!("cat {path}")).await?;
        out.trim().parse().map_err(|_| TestError::Parse {
            node: self.node.name().to_string(),
            command: format!("cat {path}"),
            message: format!("not a number: {out:?}"),
        })
    }

    /// `glusterfind pre SESSION VOLUME OUTFILE [find options]`: the output file parsed.
    pub async fn pre(&self, ctx: &Ctx, find: Find) -> Result<Vec<Record>, TestError> {
        let out = outfile(ctx, &self.node, "pre");
        let mut args = vec!["pre".to_string()];
        args.extend(find.args());
        args.extend([self.name.clone(), self.volume.clone(), out.clone()]);
        run(ctx, &self.node, args).await?;
        read_outfile(ctx, &self.node, &out).await
    }

    /// `glusterfind pre` with these options, whatever it answers (for refusals).
    pub async fn pre_attempt(&self, ctx: &Ctx, find: Find) -> Result<Attempt, TestError> {
        let out = outfile(ctx, &self.node, "pre");
        let mut args = vec!["pre".to_string()];
        args.extend(find.args());
        args.extend([self.name.clone(), self.volume.clone(), out]);
        attempt(ctx, &self.node, args).await
    }

    /// `glusterfind post SESSION VOLUME`.
    pub async fn post(&self, ctx: &Ctx) -> Result<(), TestError> {
        run(ctx, &self.node, ["post", &self.name, &self.volume])
            .await
            .map(|_| ())
    }

    /// `glusterfind post`, whatever it answers.
    pub async fn post_attempt(&self, ctx: &Ctx) -> Result<Attempt, TestError> {
        attempt(ctx, &self.node, ["post", &self.name, &self.volume]).await
    }

    /// `glusterfind delete SESSION VOLUME`.
    pub async fn delete(&self, ctx: &Ctx) -> Result<(), TestError> {
        run(ctx, &self.node, ["delete", &self.name, &self.volume])
            .await
            .map(|_| ())
    }
}

/// A unique output file path on `node` under /tmp, removed at the end.
fn outfile(ctx: &Ctx, node: &Node, what: &str) -> String {
    let p = format!("/tmp/gflab-glusterfind/{}.txt", ctx.unique(what));
    ctx.defer(Cleanup::Command {
        node: node.clone(),
        command: Command::new("rm").args(["-f", p.as_str()]),
    });
    p
}

async fn read_outfile(ctx: &Ctx, node: &Node, path: &str) -> Result<Vec<Record>, TestError> {
    let text = ctx.sh(node, format!("cat {}", shell::quote(path))).await?;
    parse_outfile(&text, " ", true).map_err(|message| TestError::Parse {
        node: node.name().to_string(),
        command: format!("cat {path}"),
        message,
    })
}

/// `glusterfind query VOLUME OUTFILE [find options]` (no session: glusterfind's `default`),
/// from the volume's server, the output file parsed. Needs what [`create`] needs.
pub async fn query(ctx: &Ctx, vol: &Volume, find: Find) -> Result<Vec<Record>, TestError> {
    prepare(ctx, vol, "default").await?;
    let out = outfile(ctx, &vol.server, "query");
    let mut args = vec!["query".to_string(), vol.name.clone(), out.clone()];
    args.extend(find.args());
    if !find.full {
        args.extend(["--since-time".into(), "0".into()]);
    }
    run(ctx, &vol.server, args).await?;
    read_outfile(ctx, &vol.server, &out).await
}

/// Why glusterfind's incremental crawler (`changelog.py`) cannot run on `node`, if it cannot:
/// it imports the Python module `xattr` and calls `xattr.list`, the API of pyxattr (Debian
/// `python3-pyxattr`; `python3-xattr` is another module of the same name without `list`).
pub async fn changelog_crawler_missing(
    ctx: &Ctx,
    node: &Node,
) -> Result<Option<String>, TestError> {
    let out = ctx
        .exec(
            node,
            Command::new("python3").args(["-c", "import xattr; xattr.list"]),
        )
        .await?;
    Ok((!out.success()).then(|| {
        format!(
            "glusterfind's changelog crawler (changelog.py, every pre/query without --full) \
             needs the Python module xattr of pyxattr (Debian package python3-pyxattr), missing \
             on {}: {}",
            node.name(),
            out.stderr_str().trim().lines().last().unwrap_or_default()
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outfile_records() {
        assert_eq!(decode("a%2"), "a%2");
        let text = "NEW d\nNEW d/f\nNEW sp%20ace\nRENAME a%25b c\nDELETE gone\nMODIFY x\n";
        let r = parse_outfile(text, " ", true).unwrap();
        assert!(r.contains(&Record::new(Change::New, "sp ace")));
        assert!(r.contains(&Record {
            change: Change::Rename,
            path: "a%b".into(),
            new_path: Some("c".into())
        }));
        assert!(r.contains(&Record::new(Change::Delete, "gone")));
        assert!(parse_outfile("ADD x", " ", true).is_err());
        assert_eq!(decode("100%"), "100%");
    }

    #[test]
    fn log_dirs() {
        let a = |v: &[&str]| log_dir_of(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            a(&["create", "s", "v", "--force"]),
            Some(format!("{LOG_DIR}/s/v"))
        );
        assert_eq!(
            a(&["query", "v", "/tmp/o", "--full"]),
            Some(format!("{LOG_DIR}/default/v"))
        );
        assert_eq!(a(&["list", "--volume", "v"]), Some(format!("{LOG_DIR}/v")));
        assert_eq!(a(&["list"]), None);
    }

    #[test]
    fn list_rows() {
        let text = "SESSION                   VOLUME                    SESSION TIME\n\
                    ----------------------------------------------------\n\
                    s1                        gftest                    2026-12-07 04:56:44\n";
        assert_eq!(
            parse_list(text),
            vec![Listed {
                session: "s1".into(),
                volume: "gftest".into(),
                time: "2026-12-07 04:56:44".into()
            }]
        );
        assert!(parse_list("No sessions found.").is_empty());
    }
}
