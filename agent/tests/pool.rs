//! A pool over a node list of real in-process agents.
mod common;

use gflab_agent::{Command, NodeEntry, NodeList, Pool, Role};

fn entry(name: &str, role: Role, agent: String) -> NodeEntry {
    NodeEntry {
        name: name.into(),
        role,
        host: name.into(),
        agent,
        brick_root: None,
        ssh: None,
        capabilities: vec![],
        glusterfs: None,
    }
}

#[tokio::test]
async fn run_all_runs_on_every_node_in_order() {
    let a = common::start().await;
    // Every node of a lab shares one secret: start the others with the first one's.
    let secret = a.secret.clone();
    let b = common::start_with(|c| c.secret = secret.clone()).await;
    let c = common::start_with(|c| c.secret = secret.clone()).await;
    let list = NodeList {
        lab: "t".into(),
        secret_file: "secret".into(),
        nodes: vec![
            entry("server1", Role::Server, a.addr.to_string()),
            entry("server2", Role::Server, b.addr.to_string()),
            entry("client1", Role::Client, c.addr.to_string()),
        ],
    };
    let pool = Pool::connect(&list, a.secret.clone(), common::opts())
        .await
        .unwrap();
    assert_eq!(pool.nodes.len(), 3);
    assert_eq!(pool.client("server2").unwrap().addr(), b.addr.to_string());
    assert!(pool.client("nope").is_none());
    let results = pool
        .run_all(Command::shell("echo $GFLAB_NODE_TEST").env("GFLAB_NODE_TEST", "hi"))
        .await;
    let names: Vec<_> = results.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["server1", "server2", "client1"]);
    for (_, r) in results {
        assert_eq!(r.unwrap().stdout_str(), "hi\n");
    }
}

#[tokio::test]
async fn connect_names_every_unreachable_node() {
    let a = common::start().await;
    // Ports that were just free: nothing listens there.
    let dead1 = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dead2 = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let list = NodeList {
        lab: "t".into(),
        secret_file: "secret".into(),
        nodes: vec![
            entry("server1", Role::Server, a.addr.to_string()),
            entry("server2", Role::Server, dead1.to_string()),
            entry("client1", Role::Client, dead2.to_string()),
        ],
    };
    let err = Pool::connect(&list, a.secret.clone(), common::opts())
        .await
        .unwrap_err();
    let names: Vec<_> = err.unreachable.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["server2", "client1"]);
    let text = err.to_string();
    assert!(
        text.contains("2 node(s)") && text.contains(&dead1.to_string()),
        "{text}"
    );
}
