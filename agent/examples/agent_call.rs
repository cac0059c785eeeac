//! Talks to a running agent by hand:
//! `cargo run -p gflab-agent --example agent_call -- ADDR SECRET_FILE ping`
//! `... exec 'SHELL LINE'` or `... service NAME start|stop|restart|status`.
use std::path::Path;

use gflab_agent::{Client, ClientOptions, Command, Secret, ServiceAction};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, secret, verb, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: agent_call ADDR SECRET_FILE ping | exec LINE | service NAME ACTION".into(),
        );
    };
    let secret = Secret::read_file(Path::new(secret))?;
    let client = Client::connect(addr, secret, ClientOptions::default()).await?;
    match (verb.as_str(), rest) {
        ("ping", []) => println!("{:#?}", client.ping().await?),
        ("exec", [line]) => {
            let out = client.exec(Command::shell(line.clone())).await?;
            print!("{}", out.stdout_str());
            eprint!("{}", out.stderr_str());
            eprintln!("[{:?} in {:?}]", out.status, out.duration);
        }
        ("service", [name, action]) => {
            let action = match action.as_str() {
                "start" => ServiceAction::Start,
                "stop" => ServiceAction::Stop,
                "restart" => ServiceAction::Restart,
                "status" => ServiceAction::Status,
                other => return Err(format!("unknown action {other}").into()),
            };
            println!("{:?}", client.service(name, action).await?);
        }
        _ => {
            return Err(
                "usage: agent_call ADDR SECRET_FILE ping | exec LINE | service NAME ACTION".into(),
            )
        }
    }
    Ok(())
}
