//! Every snapshot case needs thin-LVM bricks: against a node list whose servers lack the
//! `thin-lvm` capability (a lab with directory bricks) each one is skipped with that reason, and
//! with the capability on every server none is.
use gflab::runner::needs::unmet;
use gflab_agent::{Capability, NodeEntry, Role};

fn node(name: &str, role: Role, caps: &[Capability]) -> NodeEntry {
    NodeEntry {
        name: name.into(),
        role,
        host: name.into(),
        agent: "127.0.0.1:1".into(),
        brick_root: (role == Role::Server).then(|| "/bricks".into()),
        ssh: None,
        capabilities: caps.to_vec(),
        glusterfs: None,
    }
}

fn snapshot_cases() -> Vec<&'static gflab_tests::Registered> {
    let cases: Vec<_> = gflab_tests::CASES
        .iter()
        .filter(|r| r.component == "snapshot")
        .collect();
    assert!(
        cases.len() >= 12,
        "only {} snapshot cases registered",
        cases.len()
    );
    cases
}

#[test]
fn snapshot_cases_are_skipped_without_thin_lvm_with_the_reason() {
    let dir_lab = [
        node("server1", Role::Server, &[]),
        node("server2", Role::Server, &[]),
        node("client1", Role::Client, &[]),
    ];
    for r in snapshot_cases() {
        let why = unmet(&r.case.needs, &dir_lab)
            .unwrap_or_else(|| panic!("{} would run without thin-lvm bricks", r.case.name));
        assert!(why.contains("thin-lvm"), "{}: {why}", r.case.name);
        assert!(why.contains("server1, server2"), "{}: {why}", r.case.name);
    }
    // One server without it is enough to skip.
    let half = [
        node("server1", Role::Server, &[Capability::ThinLvm]),
        node("server2", Role::Server, &[]),
        node("client1", Role::Client, &[]),
    ];
    for r in snapshot_cases() {
        let why = unmet(&r.case.needs, &half).expect("skipped");
        assert!(why.contains("server2 lack"), "{why}");
    }
}

#[test]
fn snapshot_cases_run_on_the_snapshot_lab() {
    let snap_lab = [
        node("server1", Role::Server, &[Capability::ThinLvm]),
        node("server2", Role::Server, &[Capability::ThinLvm]),
        node("client1", Role::Client, &[]),
    ];
    for r in snapshot_cases() {
        assert_eq!(unmet(&r.case.needs, &snap_lab), None, "{}", r.case.name);
    }
}
