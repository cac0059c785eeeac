//! Node list files and secret files.
use std::os::unix::fs::PermissionsExt;

use gflab_agent::{Capability, NodeList, NodeListError, Role, Secret};

const VALID: &str = r#"
lab = "2x2"
secret_file = "secret"
[[node]]
name = "server1"
role = "server"
host = "server1"
agent = "127.0.0.1:49321"
brick_root = "/bricks"
capabilities = ["thin-lvm"]
[[node]]
name = "client1"
role = "client"
host = "client1"
agent = "127.0.0.1:49322"
"#;

#[test]
fn load_resolves_the_secret_next_to_the_list_and_save_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nodes.toml");
    std::fs::write(&path, VALID).unwrap();
    let list = NodeList::load(&path).unwrap();
    assert_eq!(list.lab, "2x2");
    assert_eq!(list.secret_file, dir.path().join("secret"));
    assert_eq!(list.with_role(Role::Server).count(), 1);
    assert_eq!(list.nodes[0].brick_root.as_deref(), Some("/bricks"));
    assert_eq!(list.nodes[0].capabilities, [Capability::ThinLvm]);
    assert!(list.nodes[1].capabilities.is_empty());
    let copy = dir.path().join("copy.toml");
    list.save(&copy).unwrap();
    let text = std::fs::read_to_string(&copy).unwrap();
    assert!(text.contains("secret_file = \"secret\""), "{text}");
    assert!(text.contains("capabilities = [\"thin-lvm\"]"), "{text}");
    assert_eq!(NodeList::load(&copy).unwrap(), list);
}

#[test]
fn errors_name_the_file_and_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.toml");
    let err = NodeList::load(&missing).unwrap_err();
    assert!(matches!(err, NodeListError::Read { .. }));
    assert!(err.to_string().contains("absent.toml"), "{err}");

    let path = dir.path().join("bad.toml");
    std::fs::write(&path, VALID.replace("brick_root", "brick_rot")).unwrap();
    let err = NodeList::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("bad.toml") && err.contains("brick_rot"),
        "{err}"
    );

    let bad = VALID
        .replace("\"127.0.0.1:49322\"", "\"127.0.0.1\"")
        .replace("name = \"client1\"", "name = \"server1\"");
    std::fs::write(&path, bad).unwrap();
    let err = NodeList::load(&path).unwrap_err().to_string();
    assert!(err.contains("node[1].name: duplicate node name"), "{err}");
    assert!(err.contains("node[1].agent"), "{err}");
}

#[test]
fn an_unknown_capability_names_the_file_the_node_and_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nodes.toml");
    std::fs::write(
        &path,
        VALID.replace("\"thin-lvm\"", "\"thin-lvm\", \"thick-lvm\""),
    )
    .unwrap();
    let err = NodeList::load(&path).unwrap_err();
    assert!(matches!(err, NodeListError::Parse { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "invalid node list {}: node[0].capabilities: server1 offers unknown capability \
             \"thick-lvm\" (known: thin-lvm, reboot)",
            path.display()
        )
    );
}

#[test]
fn secrets_are_written_0600_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    let s = Secret::generate();
    assert_eq!(s.expose().len(), 32);
    assert_ne!(s.expose(), Secret::generate().expose());
    s.write_file(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let back = Secret::read_file(&path).unwrap();
    assert_eq!(back.expose(), s.expose());
    assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    std::fs::write(&path, b"short").unwrap();
    let err = Secret::read_file(&path).unwrap_err().to_string();
    assert!(err.contains("too short") && err.contains("secret"), "{err}");
    let err = Secret::read_file(&dir.path().join("nope"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn a_secret_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    Secret::generate().write_file(&path).unwrap();
    for mode in [0o644, 0o640, 0o604, 0o660, 0o602] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = Secret::read_file(&path).unwrap_err().to_string();
        assert!(
            err.contains(&format!("has mode {mode:04o}"))
                && err.contains("refusing it")
                && err.contains("hint: chmod 600"),
            "{err}"
        );
    }
    for mode in [0o600, 0o400] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        Secret::read_file(&path).unwrap();
    }
}
