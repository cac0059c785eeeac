//! The topology file: a strict, versioned TOML description of a lab.
//!
//! ```toml
//! version = 1
//! name = "2x2"
//! release = "bookworm"     # bookworm (GlusterFS 10.3) | trixie (GlusterFS 11.1)
//! subnet = "auto"          # "auto" or an IPv4 CIDR such as "10.210.3.0/24" (no reserved range)
//! pool = true              # form the trusted pool
//! [servers]
//! count = 2
//! bricks = 2               # bricks per server
//! brick_kind = "dir"       # dir | thin-lvm (snapshots)
//! kind = "container"       # container | kernel-vm (picked for thin-lvm where the host lacks dm-thin)
//! [clients]
//! count = 2
//! ```
//!
//! Every key is checked; every problem is reported with file, line and column, all at once.
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sha2::{Digest, Sha256};
use toml_edit::{ImDocument, Item, Table};

/// The only topology format version this build understands.
pub const VERSION: i64 = 1;

/// A Debian release a lab runs; it decides the GlusterFS version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Release {
    /// Debian 12, GlusterFS 10.3.
    Bookworm,
    /// Debian 13, GlusterFS 11.1.
    Trixie,
}

impl Release {
    /// Every supported release, default first.
    pub const ALL: [Release; 2] = [Release::Bookworm, Release::Trixie];

    /// The Debian suite name.
    pub fn as_str(self) -> &'static str {
        match self {
            Release::Bookworm => "bookworm",
            Release::Trixie => "trixie",
        }
    }

    /// The GlusterFS version this release ships.
    pub fn glusterfs(self) -> &'static str {
        match self {
            Release::Bookworm => "10.3",
            Release::Trixie => "11.1",
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Release {
    type Err = String;
    fn from_str(s: &str) -> Result<Release, String> {
        Release::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown release {s:?} (expected bookworm or trixie)"))
    }
}

/// An IPv4 network in CIDR notation, host bits zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    /// Network address.
    pub addr: Ipv4Addr,
    /// Prefix length (0..=32).
    pub prefix: u8,
}

impl Ipv4Cidr {
    /// The netmask as an integer.
    fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        }
    }
    /// Number of addresses in the network.
    pub fn size(self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }
    /// The `n`-th address of the network (0 = the network address).
    pub fn host(self, n: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr).wrapping_add(n))
    }
    /// Whether the two networks share any address.
    pub fn overlaps(self, other: Ipv4Cidr) -> bool {
        let m = self.mask() & other.mask();
        u32::from(self.addr) & m == u32::from(other.addr) & m
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Ipv4Cidr, String> {
        let (a, p) = s
            .split_once('/')
            .ok_or_else(|| format!("malformed subnet {s:?}: expected ADDRESS/PREFIX"))?;
        let addr: Ipv4Addr = a
            .parse()
            .map_err(|_| format!("malformed subnet {s:?}: {a:?} is not an IPv4 address"))?;
        let prefix: u8 = p
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("malformed subnet {s:?}: prefix {p:?} is not 0..=32"))?;
        let cidr = Ipv4Cidr { addr, prefix };
        if u32::from(addr) & !cidr.mask() != 0 {
            return Err(format!(
                "malformed subnet {s:?}: host bits set (did you mean {}/{prefix}?)",
                Ipv4Addr::from(u32::from(addr) & cidr.mask())
            ));
        }
        Ok(cidr)
    }
}

/// An IPv4 range a lab network must not overlap, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservedRange {
    /// The range.
    pub network: Ipv4Cidr,
    /// What the range is (`loopback`).
    pub name: &'static str,
    /// Why no lab network can use it.
    pub why: &'static str,
}

/// Every range a lab network must not overlap: the engine refuses them or nothing can reach them.
pub const RESERVED_RANGES: [ReservedRange; 5] = [
    ReservedRange {
        network: Ipv4Cidr {
            addr: Ipv4Addr::new(0, 0, 0, 0),
            prefix: 8,
        },
        name: "this network",
        why: "its addresses mean \"this host\" and are never assigned to an interface",
    },
    ReservedRange {
        network: Ipv4Cidr {
            addr: Ipv4Addr::new(127, 0, 0, 0),
            prefix: 8,
        },
        name: "loopback",
        why: "traffic to it never leaves the host",
    },
    ReservedRange {
        network: Ipv4Cidr {
            addr: Ipv4Addr::new(169, 254, 0, 0),
            prefix: 16,
        },
        name: "link-local",
        why: "it is never routed and holds cloud metadata services",
    },
    ReservedRange {
        network: Ipv4Cidr {
            addr: Ipv4Addr::new(224, 0, 0, 0),
            prefix: 4,
        },
        name: "multicast",
        why: "its addresses name groups, not hosts",
    },
    ReservedRange {
        network: Ipv4Cidr {
            addr: Ipv4Addr::new(240, 0, 0, 0),
            prefix: 4,
        },
        name: "reserved",
        why: "it is not assignable to hosts and ends with the broadcast address 255.255.255.255",
    },
];

/// The reserved ranges `net` overlaps, in address order.
pub fn reserved_overlaps(net: Ipv4Cidr) -> impl Iterator<Item = &'static ReservedRange> {
    RESERVED_RANGES
        .iter()
        .filter(move |r| r.network.overlaps(net))
}

/// Where the lab network's addresses come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubnetChoice {
    /// Pick a free /24 at `up` time.
    Auto,
    /// Use this network.
    Fixed(Ipv4Cidr),
}

/// How a server node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// A plain container.
    Container,
    /// A container running QEMU with the node's own kernel (for thin-LVM snapshots).
    KernelVm,
    /// A real machine from a hand-written node list (never in a topology file).
    Host,
}

impl NodeKind {
    /// Every kind.
    pub const ALL: [NodeKind; 3] = [NodeKind::Container, NodeKind::KernelVm, NodeKind::Host];

    /// The name used in topologies and labels.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Container => "container",
            NodeKind::KernelVm => "kernel-vm",
            NodeKind::Host => "host",
        }
    }
}

/// What a brick sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BrickKind {
    /// A directory under the brick root (a named volume).
    Dir,
    /// A thin LV with XFS (snapshots).
    ThinLvm,
}

/// A line and column in a file (both 1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text`.
    pub fn of(text: &str, offset: usize) -> Location {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Location { line, column }
    }
}

/// One thing wrong with a topology file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub location: Location,
    /// What (lowercase, names the key).
    pub message: String,
}

/// Why a topology could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// The file could not be read.
    #[error("failed to read topology {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file has problems; every one is listed.
    #[error("invalid topology {}:\n{}", .path.display(), render_problems(.path, .problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem, in file order.
        problems: Vec<Problem>,
    },
}

fn render_problems(path: &Path, problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| {
            format!(
                "  {}:{}:{}: {}",
                path.display(),
                p.location.line,
                p.location.column,
                p.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Server settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Servers {
    /// How many servers (≥ 1).
    pub count: u32,
    /// Bricks per server (≥ 1).
    pub bricks: u32,
    /// What bricks sit on.
    pub brick_kind: BrickKind,
    /// How servers run.
    pub kind: NodeKind,
}

/// A validated topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Lab name (also the Docker label value and the state directory name).
    pub name: String,
    /// Debian release.
    pub release: Release,
    /// Lab network.
    pub subnet: SubnetChoice,
    /// Where `subnet` was written (for overlap errors found later, at `up`).
    pub subnet_location: Location,
    /// Servers.
    pub servers: Servers,
    /// How many clients (≥ 0).
    pub clients: u32,
    /// Form the trusted pool.
    pub pool: bool,
    /// `[glusterfs] src`: run a GlusterFS built from this source tree (absolute; written relative
    /// to the topology file) instead of the release's packaged one.
    pub glusterfs_src: Option<PathBuf>,
    /// The file it came from.
    pub source: PathBuf,
}

/// Largest number of nodes of one role (keeps names, ports and subnets sane).
pub const MAX_NODES: u32 = 64;

impl Topology {
    /// Reads and validates a topology file.
    pub fn load(path: &Path) -> Result<Topology, TopologyError> {
        let text = std::fs::read_to_string(path).map_err(|source| TopologyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Topology::parse(&text, path)
    }

    /// Validates topology text; `path` is used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Topology, TopologyError> {
        let mut c = Checker {
            text,
            problems: Vec::new(),
        };
        let topo = c.check(path);
        match topo {
            Some(t) if c.problems.is_empty() => Ok(t),
            _ => {
                let mut problems = c.problems;
                problems.sort_by_key(|p| (p.location.line, p.location.column));
                Err(TopologyError::Invalid {
                    path: path.to_path_buf(),
                    problems,
                })
            }
        }
    }

    /// A short content hash of everything that shapes the lab except its name.
    pub fn hash(&self) -> String {
        let subnet = match self.subnet {
            SubnetChoice::Auto => "auto".to_string(),
            SubnetChoice::Fixed(c) => c.to_string(),
        };
        let src = self
            .glusterfs_src
            .as_ref()
            .map(|p| format!(" glusterfs_src={}", p.display()))
            .unwrap_or_default();
        let canon = format!(
            "v{VERSION} release={} subnet={subnet} servers={} bricks={} brick_kind={:?} kind={:?} clients={} pool={}{src}",
            self.release,
            self.servers.count,
            self.servers.bricks,
            self.servers.brick_kind,
            self.servers.kind,
            self.clients,
            self.pool
        );
        let digest = Sha256::digest(canon.as_bytes());
        digest[..6].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Checks a lab name: used in Docker object names, labels and a directory name.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok_first = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok_rest = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if name.is_empty() || name.len() > 32 || !ok_first || !ok_rest {
        return Err(format!(
            "invalid lab name {name:?}: use 1-32 characters a-z 0-9 - _, starting with a letter or digit"
        ));
    }
    Ok(())
}

struct Checker<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, span: Option<Range<usize>>, message: impl Into<String>) {
        let location = Location::of(self.text, span.map_or(0, |s| s.start));
        self.problems.push(Problem {
            location,
            message: message.into(),
        });
    }

    fn check(&mut self, path: &Path) -> Option<Topology> {
        let doc = match ImDocument::parse(self.text) {
            Ok(d) => d,
            Err(e) => {
                let msg = e.message().trim().to_string();
                self.problem(e.span(), format!("malformed TOML: {msg}"));
                return None;
            }
        };
        let root = doc.as_table();
        self.unknown_keys(
            root,
            &[
                "version",
                "name",
                "release",
                "subnet",
                "pool",
                "servers",
                "clients",
                "glusterfs",
            ],
            "",
        );

        let version = self.int(root, "version", "", None);
        if let Some((v, span)) = version {
            if v != VERSION {
                self.problem(
                    span,
                    format!("unsupported version {v} (this gflab reads version {VERSION})"),
                );
            }
        }
        let name = self.string(root, "name", "", None).and_then(|(n, span)| {
            check_name(&n)
                .map_err(|m| self.problem(span.clone(), format!("name: {m}")))
                .ok()
                .map(|_| n)
        });
        let release = match self.string(root, "release", "", Some("bookworm")) {
            Some((r, span)) => match r.parse::<Release>() {
                Ok(r) => Some(r),
                Err(m) => {
                    self.problem(span, format!("release: {m}"));
                    None
                }
            },
            None => None,
        };
        let mut subnet_location = Location::default();
        let subnet = match self.string(root, "subnet", "", Some("auto")) {
            Some((s, span)) => {
                subnet_location = Location::of(self.text, span.clone().map_or(0, |s| s.start));
                if s == "auto" {
                    Some(SubnetChoice::Auto)
                } else {
                    match s.parse::<Ipv4Cidr>() {
                        Ok(c) => self.fixed_subnet(c, span),
                        Err(m) => {
                            self.problem(span, format!("subnet: {m}"));
                            None
                        }
                    }
                }
            }
            None => None,
        };
        let pool = self.boolean(root, "pool", "", Some(true));

        let servers = self.section(root, "servers", true).and_then(|t| {
            self.unknown_keys(t, &["count", "bricks", "brick_kind", "kind"], "servers.");
            let count = self.count(t, "count", "servers.", None, 1);
            let bricks = self.count(t, "bricks", "servers.", Some(1), 1);
            let brick_kind = match self.string(t, "brick_kind", "servers.", Some("dir")) {
                Some((k, _)) if k == "dir" => Some(BrickKind::Dir),
                Some((k, _)) if k == "thin-lvm" => Some(BrickKind::ThinLvm),
                Some((k, span)) => {
                    self.problem(
                        span,
                        format!("servers.brick_kind: unknown brick kind {k:?} (expected \"dir\" or \"thin-lvm\")"),
                    );
                    None
                }
                None => None,
            };
            let kind = match self.string(t, "kind", "servers.", Some("container")) {
                Some((k, _)) if k == "container" => Some(NodeKind::Container),
                Some((k, _)) if k == "kernel-vm" => Some(NodeKind::KernelVm),
                Some((k, span)) => {
                    self.problem(
                        span,
                        format!("servers.kind: unknown node kind {k:?} (expected \"container\" or \"kernel-vm\")"),
                    );
                    None
                }
                None => None,
            };
            Some(Servers {
                count: count?,
                bricks: bricks?,
                brick_kind: brick_kind?,
                kind: kind?,
            })
        });
        let clients = match self.section(root, "clients", false) {
            Some(t) => {
                self.unknown_keys(t, &["count"], "clients.");
                self.count(t, "count", "clients.", Some(0), 0)
            }
            None => Some(0),
        };
        let glusterfs_src = match self.section(root, "glusterfs", false) {
            Some(t) => {
                self.unknown_keys(t, &["src"], "glusterfs.");
                match self.string(t, "src", "glusterfs.", None) {
                    Some((dir, span)) => {
                        let base = path.parent().unwrap_or(Path::new("."));
                        let full = base.join(&dir);
                        if full.join("configure.ac").is_file() {
                            Some(Some(full))
                        } else {
                            self.problem(
                                span,
                                format!(
                                    "glusterfs.src: {} is not a GlusterFS source tree (no configure.ac there; the path is relative to the topology file)\n    hint: images/builder/glusterfs-source.sh DIR fetches Debian's upstream source",
                                    full.display()
                                ),
                            );
                            None
                        }
                    }
                    None => None,
                }
            }
            None => Some(None),
        };
        Some(Topology {
            name: name?,
            release: release?,
            subnet: subnet?,
            subnet_location,
            servers: servers?,
            clients: clients?,
            pool: pool?,
            glusterfs_src: glusterfs_src?,
            source: path.to_path_buf(),
        })
    }

    /// Checks a well-formed fixed subnet: big enough for a lab and clear of every reserved range.
    fn fixed_subnet(&mut self, c: Ipv4Cidr, span: Option<Range<usize>>) -> Option<SubnetChoice> {
        let mut ok = true;
        if c.prefix > 28 {
            self.problem(
                span.clone(),
                format!("subnet: {c} is too small (use a prefix of 28 or less)"),
            );
            ok = false;
        }
        let reserved: Vec<String> = reserved_overlaps(c)
            .map(|r| format!("{} ({}: {})", r.network, r.name, r.why))
            .collect();
        if !reserved.is_empty() {
            self.problem(
                span,
                format!(
                    "subnet: {c} overlaps {}\n    hint: use a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) or subnet = \"auto\"",
                    reserved.join(" and ")
                ),
            );
            ok = false;
        }
        ok.then_some(SubnetChoice::Fixed(c))
    }

    fn unknown_keys(&mut self, t: &Table, known: &[&str], prefix: &str) {
        let unknown: Vec<(String, Option<Range<usize>>)> = t
            .iter()
            .filter(|(k, _)| !known.contains(k))
            .map(|(k, _)| (k.to_string(), t.key(k).and_then(|k| k.span())))
            .collect();
        for (k, span) in unknown {
            self.problem(
                span,
                format!(
                    "unknown key {prefix}{k} (expected one of: {})",
                    known.join(", ")
                ),
            );
        }
    }

    /// The item of `key` with the best span for messages about its value.
    fn item<'t>(&self, t: &'t Table, key: &str) -> Option<(&'t Item, Option<Range<usize>>)> {
        let (k, item) = t.get_key_value(key)?;
        Some((item, item.span().or_else(|| k.span())))
    }

    fn missing(&mut self, t: &Table, key: &str, prefix: &str) {
        let span = t.span().or(Some(0..0));
        self.problem(span, format!("missing key {prefix}{key}"));
    }

    fn section<'t>(&mut self, root: &'t Table, key: &str, required: bool) -> Option<&'t Table> {
        match self.item(root, key) {
            Some((Item::Table(t), _)) => Some(t),
            Some((_, span)) => {
                self.problem(span, format!("{key}: expected a [{key}] table"));
                None
            }
            None => {
                if required {
                    self.problem(Some(0..0), format!("missing section [{key}]"));
                }
                None
            }
        }
    }

    fn string(
        &mut self,
        t: &Table,
        key: &str,
        prefix: &str,
        default: Option<&str>,
    ) -> Option<(String, Option<Range<usize>>)> {
        match self.item(t, key) {
            Some((item, span)) => match item.as_str() {
                Some(s) => Some((s.to_string(), span)),
                None => {
                    self.problem(span, format!("{prefix}{key}: expected a string"));
                    None
                }
            },
            None => match default {
                Some(d) => Some((d.to_string(), None)),
                None => {
                    self.missing(t, key, prefix);
                    None
                }
            },
        }
    }

    fn int(
        &mut self,
        t: &Table,
        key: &str,
        prefix: &str,
        default: Option<i64>,
    ) -> Option<(i64, Option<Range<usize>>)> {
        match self.item(t, key) {
            Some((item, span)) => match item.as_integer() {
                Some(v) => Some((v, span)),
                None => {
                    self.problem(span, format!("{prefix}{key}: expected an integer"));
                    None
                }
            },
            None => match default {
                Some(d) => Some((d, None)),
                None => {
                    self.missing(t, key, prefix);
                    None
                }
            },
        }
    }

    fn count(
        &mut self,
        t: &Table,
        key: &str,
        prefix: &str,
        default: Option<i64>,
        min: i64,
    ) -> Option<u32> {
        let (v, span) = self.int(t, key, prefix, default)?;
        if v < min || v > i64::from(MAX_NODES) {
            let what = if v < 0 { "negative" } else { "out of range" };
            self.problem(
                span,
                format!("{prefix}{key}: {what} count {v} (expected {min}..={MAX_NODES})"),
            );
            return None;
        }
        u32::try_from(v).ok()
    }

    fn boolean(
        &mut self,
        t: &Table,
        key: &str,
        prefix: &str,
        default: Option<bool>,
    ) -> Option<bool> {
        match self.item(t, key) {
            Some((item, span)) => match item.as_bool() {
                Some(b) => Some(b),
                None => {
                    self.problem(span, format!("{prefix}{key}: expected true or false"));
                    None
                }
            },
            None => match default {
                Some(d) => Some(d),
                None => {
                    self.missing(t, key, prefix);
                    None
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/topologies")
    }

    fn fixtures(prefix: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".toml"))
            })
            .collect();
        v.sort();
        v
    }

    /// Every `# expect: L:C: TEXT` line of an invalid fixture must match one reported problem.
    #[test]
    fn invalid_fixtures_report_every_problem_with_location() {
        let files = fixtures("invalid-");
        assert!(
            files.len() >= 8,
            "expected invalid fixtures, found {files:?}"
        );
        for f in files {
            let text = std::fs::read_to_string(&f).expect("read fixture");
            let expected: Vec<(usize, usize, String)> = text
                .lines()
                .filter_map(|l| l.strip_prefix("# expect: "))
                .map(|e| {
                    let mut it = e.splitn(3, ':');
                    let line = it.next().and_then(|s| s.trim().parse().ok()).expect("line");
                    let col = it.next().and_then(|s| s.trim().parse().ok()).expect("col");
                    (line, col, it.next().unwrap_or("").trim().to_string())
                })
                .collect();
            assert!(
                !expected.is_empty(),
                "{}: no '# expect:' lines",
                f.display()
            );
            let err =
                Topology::parse(&text, &f).expect_err(&format!("{} must be rejected", f.display()));
            let TopologyError::Invalid { problems, .. } = &err else {
                panic!("{}: unexpected error {err}", f.display());
            };
            let rendered = err.to_string();
            assert_eq!(
                problems.len(),
                expected.len(),
                "{}: expected {expected:?}\n got {rendered}",
                f.display()
            );
            for (line, col, text) in &expected {
                assert!(
                    problems.iter().any(|p| p.location.line == *line
                        && p.location.column == *col
                        && p.message.contains(text.as_str())),
                    "{}: expected {line}:{col}: {text}\n got {rendered}",
                    f.display()
                );
                let needle = format!("{}:{line}:{col}: ", f.display());
                assert!(
                    rendered.contains(&needle),
                    "message lacks {needle}: {rendered}"
                );
            }
        }
    }

    #[test]
    fn valid_fixtures_and_shipped_topologies_load() {
        let mut files = fixtures("valid-");
        assert!(!files.is_empty());
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies");
        for n in ["2x2.toml", "6x2.toml", "trixie-2x2.toml"] {
            files.push(shipped.join(n));
        }
        for f in files {
            Topology::load(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
    }

    #[test]
    fn glusterfs_src_is_relative_to_the_topology_and_must_be_a_source_tree() {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(d.path().join("src/gluster")).expect("mkdir");
        std::fs::write(d.path().join("src/gluster/configure.ac"), "").expect("write");
        std::fs::create_dir_all(d.path().join("topo")).expect("mkdir");
        let topo = d.path().join("topo/t.toml");
        let text = |src: &str| {
            format!(
                "version = 1\nname = \"a\"\n[servers]\ncount = 2\n[glusterfs]\nsrc = \"{src}\"\n"
            )
        };
        let t = Topology::parse(&text("../src/gluster"), &topo).expect("valid");
        assert_eq!(
            t.glusterfs_src.as_deref(),
            Some(d.path().join("topo/../src/gluster").as_path())
        );
        let plain = Topology::parse(
            &text("../src/gluster").replace("[glusterfs]\nsrc = \"../src/gluster\"\n", ""),
            &topo,
        )
        .expect("valid");
        assert_ne!(t.hash(), plain.hash(), "a build is part of the lab's shape");
        let err = Topology::parse(&text("../src/nope"), &topo).expect_err("refused");
        let msg = err.to_string();
        assert!(msg.contains("t.toml:6:7: glusterfs.src:"), "{msg}");
        assert!(msg.contains("not a GlusterFS source tree"), "{msg}");
        let err = Topology::parse(&text("../src/gluster").replace("src =", "source ="), &topo)
            .expect_err("refused");
        assert!(
            err.to_string().contains("unknown key glusterfs.source"),
            "{err}"
        );
    }

    #[test]
    fn defaults_are_applied_in_one_place() {
        let t = Topology::parse(
            "version = 1\nname = \"a\"\n[servers]\ncount = 3\n",
            Path::new("x"),
        )
        .expect("valid");
        assert_eq!(t.release, Release::Bookworm);
        assert_eq!(t.subnet, SubnetChoice::Auto);
        assert_eq!(t.servers.bricks, 1);
        assert_eq!(t.servers.brick_kind, BrickKind::Dir);
        assert_eq!(t.clients, 0);
        assert!(t.pool);
    }

    #[test]
    fn hash_ignores_name_but_not_shape() {
        let a = Topology::parse(
            "version = 1\nname = \"a\"\n[servers]\ncount = 2\n",
            Path::new("x"),
        )
        .expect("valid");
        let mut b = a.clone();
        b.name = "b".into();
        assert_eq!(a.hash(), b.hash());
        b.clients = 1;
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn cidr_parsing_and_overlap() {
        let a: Ipv4Cidr = "10.210.0.0/24".parse().expect("cidr");
        let b: Ipv4Cidr = "10.210.0.0/16".parse().expect("cidr");
        let c: Ipv4Cidr = "10.211.0.0/24".parse().expect("cidr");
        assert!(a.overlaps(b) && b.overlaps(a));
        assert!(!a.overlaps(c));
        assert_eq!(a.host(2).to_string(), "10.210.0.2");
        assert!("10.0.0.1/24".parse::<Ipv4Cidr>().is_err());
        assert!("10.0.0.0/33".parse::<Ipv4Cidr>().is_err());
        assert!("nonsense".parse::<Ipv4Cidr>().is_err());
    }

    /// The problems of a minimal topology with this subnet (empty when it is accepted).
    fn subnet_problems(subnet: &str) -> Vec<String> {
        let text =
            format!("version = 1\nname = \"a\"\nsubnet = \"{subnet}\"\n[servers]\ncount = 1\n");
        match Topology::parse(&text, Path::new("t.toml")) {
            Ok(t) => {
                assert_eq!(t.subnet, SubnetChoice::Fixed(subnet.parse().expect("cidr")));
                Vec::new()
            }
            Err(TopologyError::Invalid { problems, .. }) => {
                for p in &problems {
                    assert_eq!(
                        p.location,
                        Location {
                            line: 3,
                            column: 10
                        },
                        "{p:?}"
                    );
                }
                problems.into_iter().map(|p| p.message).collect()
            }
            Err(e) => panic!("{subnet}: unexpected error {e}"),
        }
    }

    #[test]
    fn subnets_overlapping_reserved_ranges_are_rejected_by_name() {
        let table = [
            ("0.0.0.0/24", "0.0.0.0/8 (this network"),
            ("0.255.255.0/24", "0.0.0.0/8 (this network"),
            ("127.0.0.0/24", "127.0.0.0/8 (loopback"),
            ("127.10.0.0/16", "127.0.0.0/8 (loopback"),
            ("126.0.0.0/7", "127.0.0.0/8 (loopback"),
            ("169.254.0.0/24", "169.254.0.0/16 (link-local"),
            ("169.254.255.240/28", "169.254.0.0/16 (link-local"),
            ("169.0.0.0/8", "169.254.0.0/16 (link-local"),
            ("224.0.0.0/24", "224.0.0.0/4 (multicast"),
            ("239.255.255.0/24", "224.0.0.0/4 (multicast"),
            ("240.0.0.0/24", "240.0.0.0/4 (reserved"),
            ("255.255.255.0/24", "240.0.0.0/4 (reserved"),
            ("224.0.0.0/3", "224.0.0.0/4 (multicast"),
            ("224.0.0.0/3", "and 240.0.0.0/4 (reserved"),
        ];
        for (subnet, range) in table {
            let problems = subnet_problems(subnet);
            assert_eq!(problems.len(), 1, "{subnet}: {problems:?}");
            let message = &problems[0];
            assert!(
                message.starts_with(&format!("subnet: {subnet} overlaps ")),
                "{subnet}: {message}"
            );
            assert!(
                message.contains(range),
                "{subnet}: expected {range} in {message}"
            );
            assert!(
                message.contains("\n    hint: "),
                "{subnet}: no hint in {message}"
            );
        }
    }

    #[test]
    fn private_and_other_public_subnets_are_accepted() {
        for subnet in [
            "10.0.0.0/8",
            "10.210.3.0/24",
            "172.16.0.0/12",
            "172.31.255.0/24",
            "192.168.0.0/16",
            "192.168.77.0/28",
            "1.0.0.0/24",
            "100.64.0.0/24",
            "126.255.255.0/24",
            "128.0.0.0/24",
            "169.253.0.0/24",
            "169.255.0.0/24",
            "198.18.0.0/24",
            "223.255.255.0/24",
        ] {
            assert_eq!(subnet_problems(subnet), Vec::<String>::new(), "{subnet}");
        }
    }

    #[test]
    fn a_small_reserved_subnet_reports_both_problems() {
        let problems = subnet_problems("127.0.0.0/30");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("too small"), "{problems:?}");
        assert!(problems[1].contains("(loopback"), "{problems:?}");
    }

    #[test]
    fn location_counts_lines_and_columns_from_one() {
        let t = "ab\ncde\n";
        assert_eq!(Location::of(t, 0), Location { line: 1, column: 1 });
        assert_eq!(Location::of(t, 4), Location { line: 2, column: 2 });
    }
}
