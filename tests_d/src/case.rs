//! What a test case declares: id, name, needs, ordering, timeout and body; and the registry of all cases.
use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::BoxFuture;
use gflab_agent::Capability;

use crate::{Ctx, TestError};

/// A test body: takes the context, returns a boxed future (`|ctx| Box::pin(run(ctx))`).
pub type Body = fn(Ctx) -> BoxFuture<'static, Result<(), TestError>>;

/// What a case needs from the nodes; unmet needs skip the case with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Minimum number of servers.
    pub servers: usize,
    /// Minimum number of clients.
    pub clients: usize,
    /// Capabilities every server must offer ([`Capability::ThinLvm`]).
    pub capabilities: &'static [Capability],
    /// The GlusterFS version (major, minor) every server must run at least.
    pub min_version: Option<(u32, u32)>,
    /// The GlusterFS version every server must run below.
    pub below_version: Option<(u32, u32)>,
}

impl Needs {
    /// Nothing at all.
    pub const NONE: Needs = Needs {
        servers: 0,
        clients: 0,
        capabilities: &[],
        min_version: None,
        below_version: None,
    };
    /// `servers` servers and `clients` clients.
    pub const fn nodes(servers: usize, clients: usize) -> Needs {
        Needs {
            servers,
            clients,
            capabilities: &[],
            min_version: None,
            below_version: None,
        }
    }
    /// Every server must run GlusterFS `major.minor` or later (read from the nodes).
    pub const fn gluster_at_least(self, major: u32, minor: u32) -> Needs {
        Needs {
            min_version: Some((major, minor)),
            ..self
        }
    }
    /// Every server must run a GlusterFS older than `major.minor`.
    pub const fn gluster_below(self, major: u32, minor: u32) -> Needs {
        Needs {
            below_version: Some((major, minor)),
            ..self
        }
    }
    /// Adds required server capabilities.
    pub const fn with(self, capabilities: &'static [Capability]) -> Needs {
        Needs {
            capabilities,
            ..self
        }
    }
}

/// One test case. Declared as `pub const CASE: Case = Case::new(...)...;` in its own file.
#[derive(Clone, Copy)]
pub struct Case {
    /// Unique numeric id (example 100-199, snapshot 200-299, ...).
    pub id: u32,
    /// Short name, words separated by underscores (`pool_formed`).
    pub name: &'static str,
    /// What the nodes must offer.
    pub needs: Needs,
    /// Ids of cases that must run before this one when both are selected.
    pub after: &'static [u32],
    /// How long the body may run before it is cancelled.
    pub timeout: Duration,
    /// Whether the case disturbs the whole lab (kills or restarts daemons, reboots or cuts off
    /// nodes, changes cluster-wide options, detaches peers): the parallel runner gives it a lab
    /// of its own and resets that lab afterwards.
    pub disruptive: bool,
    /// The volume types it runs over, one variant each (`301[disperse]`); empty: a single run.
    pub runs_on: &'static [crate::matrix::VolumeType],
    /// The test itself.
    pub body: Body,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("needs", &self.needs)
            .field("after", &self.after)
            .field("timeout", &self.timeout)
            .field("disruptive", &self.disruptive)
            .field("runs_on", &self.runs_on)
            .finish_non_exhaustive()
    }
}

impl Case {
    /// Default per-case timeout.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

    /// A case with no needs, no ordering and the default timeout.
    pub const fn new(id: u32, name: &'static str, body: Body) -> Case {
        Case {
            id,
            name,
            needs: Needs::NONE,
            after: &[],
            timeout: Case::DEFAULT_TIMEOUT,
            disruptive: false,
            runs_on: &[],
            body,
        }
    }
    /// Marks the case disruptive: it never shares a lab, and the lab is reset after it.
    pub const fn disruptive(self) -> Case {
        Case {
            disruptive: true,
            ..self
        }
    }
    /// Runs the case once per volume type (see [`crate::matrix`]).
    pub const fn runs_on(self, types: &'static [crate::matrix::VolumeType]) -> Case {
        Case {
            runs_on: types,
            ..self
        }
    }
    /// Sets what the case needs.
    pub const fn needs(self, needs: Needs) -> Case {
        Case { needs, ..self }
    }
    /// Runs after these ids (when they are selected too).
    pub const fn after(self, after: &'static [u32]) -> Case {
        Case { after, ..self }
    }
    /// Sets the timeout in seconds.
    pub const fn timeout_secs(self, secs: u64) -> Case {
        Case {
            timeout: Duration::from_secs(secs),
            ..self
        }
    }
}

/// A case as found in `tests_d/<component>/<file>`.
#[derive(Debug, Clone, Copy)]
pub struct Registered {
    /// Folder name under `tests_d/`.
    pub component: &'static str,
    /// Source file, relative to the workspace (`tests_d/example/test_pool.rs`).
    pub file: &'static str,
    /// The case itself.
    pub case: &'static Case,
}

/// A problem with the set of registered cases.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Two files declare the same id.
    #[error("duplicate test id {id}: declared in {first} and in {second}")]
    DuplicateId {
        /// The id.
        id: u32,
        /// The first file declaring it.
        first: String,
        /// The second file declaring it.
        second: String,
    },
    /// A name is empty or has characters other than letters, digits, `_` and `-`.
    #[error("invalid test name {name:?} in {file}: use letters, digits, `_` and `-`")]
    BadName {
        /// The name.
        name: String,
        /// Its file.
        file: String,
    },
    /// A case lists itself or an unknown id in `after`.
    #[error("test {id} in {file} runs after unknown or own id {after}")]
    BadAfter {
        /// The case.
        id: u32,
        /// Its file.
        file: String,
        /// The offending id.
        after: u32,
    },
}

/// Checks a set of cases: unique ids, sane names, `after` pointing at other known ids.
pub fn validate(cases: &[Registered]) -> Result<(), Vec<RegistryError>> {
    let mut errors = Vec::new();
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    for r in cases {
        if let Some(first) = seen.insert(r.case.id, r.file) {
            errors.push(RegistryError::DuplicateId {
                id: r.case.id,
                first: first.to_string(),
                second: r.file.to_string(),
            });
        }
        let name_ok = !r.case.name.is_empty()
            && r.case
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !name_ok {
            errors.push(RegistryError::BadName {
                name: r.case.name.to_string(),
                file: r.file.to_string(),
            });
        }
    }
    for r in cases {
        for &a in r.case.after {
            if a == r.case.id || !seen.contains_key(&a) {
                errors.push(RegistryError::BadAfter {
                    id: r.case.id,
                    file: r.file.to_string(),
                    after: a,
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop(_: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
        Box::pin(async { Ok(()) })
    }
    static A: Case = Case::new(1, "a", noop);
    static B: Case = Case::new(1, "b", noop).after(&[7]);
    static C: Case = Case::new(2, "bad name", noop);

    #[test]
    fn duplicate_ids_name_both_files() {
        let cases = [
            Registered {
                component: "x",
                file: "tests_d/x/test_a.rs",
                case: &A,
            },
            Registered {
                component: "x",
                file: "tests_d/x/test_b.rs",
                case: &B,
            },
            Registered {
                component: "x",
                file: "tests_d/x/test_c.rs",
                case: &C,
            },
        ];
        let errors = validate(&cases).expect_err("invalid");
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert!(
            text.contains(
                &"duplicate test id 1: declared in tests_d/x/test_a.rs and in tests_d/x/test_b.rs"
                    .to_string()
            ),
            "{text:?}"
        );
        assert!(text.iter().any(|t| t.contains("\"bad name\"")), "{text:?}");
        assert!(
            text.iter().any(|t| t.contains("unknown or own id 7")),
            "{text:?}"
        );
    }

    #[test]
    fn the_registry_is_valid() {
        if let Err(errors) = validate(crate::CASES) {
            let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            panic!("invalid test registry:\n{}", text.join("\n"));
        }
    }
}
