//! `gflab-agent`: the daemon (default mode) and `gflab-agent install`.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use gflab_agent::install::{self, InstallOptions};
use gflab_agent::server::{Server, ServerConfig, ServiceDef};
use gflab_agent::{reaper, Secret, ServiceAction};
use tokio_util::sync::CancellationToken;

/// gflab's node agent: runs commands, moves files and controls services for the gflab test runner.
#[derive(Debug, Parser)]
#[command(name = "gflab-agent", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Sub>,
    /// Address to listen on: an IP literal and a port (port 0 picks one; the first stdout line says
    /// which).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// The shared secret (raw bytes, at least 16).
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,
    /// A service the agent supervises itself (repeatable).
    #[arg(long = "service", value_name = "NAME=COMMAND_LINE")]
    services: Vec<ServiceDef>,
    /// Start this supervised service when the agent starts (repeatable).
    #[arg(long = "start", value_name = "NAME")]
    start: Vec<String>,
    /// Authenticated connections served at once.
    #[arg(long, default_value_t = 256)]
    max_connections: usize,
    /// Connections in their handshake at once (a new one evicts the oldest beyond this).
    #[arg(long, default_value_t = 64)]
    max_handshakes: usize,
    /// Connections from one address in their handshake at once.
    #[arg(long, default_value_t = 16)]
    max_handshakes_per_source: usize,
    /// Where supervised services' output goes (NAME.log).
    #[arg(long, default_value = "/var/log/gflab-agent")]
    service_log_dir: PathBuf,
    /// The audit log, one line per request (default: audit.log in --service-log-dir).
    #[arg(long, value_name = "PATH")]
    audit_log: Option<PathBuf>,
    /// Size in bytes at which the audit log is rotated (3 generations are kept).
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
    audit_max_bytes: u64,
    /// Milliseconds a connection has to complete the handshake.
    #[arg(long, default_value_t = 3000)]
    handshake_timeout_ms: u64,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Install this binary, the secret and a systemd unit on this host, and start the agent.
    Install {
        /// The secret to install at /etc/gflab/secret.
        #[arg(long, value_name = "PATH")]
        secret_file: PathBuf,
        /// Address the installed agent listens on.
        #[arg(long, value_name = "ADDR:PORT", default_value = install::DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// Prefix for every installed path (for staging; systemd is only used with `/`).
        #[arg(long, default_value = "/")]
        root: PathBuf,
        /// Only lay the files down; do not enable or start anything.
        #[arg(long)]
        no_start: bool,
        /// A service the detached agent supervises, on hosts without systemd (repeatable).
        #[arg(long = "service", value_name = "NAME=COMMAND_LINE")]
        services: Vec<ServiceDef>,
        /// A supervised service the detached agent starts (repeatable).
        #[arg(long = "start", value_name = "NAME")]
        start: Vec<String>,
    },
}

fn main() -> ExitCode {
    if reaper::needed() {
        let code = reaper::run(std::env::args_os().collect());
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    reaper::unblock_signals();
    let cli = Cli::parse();
    let color = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Sub::Install {
        secret_file,
        listen,
        root,
        no_start,
        services,
        start,
    }) = cli.command
    {
        check_start(&services, &start)?;
        let mut daemon_args = Vec::new();
        for s in &services {
            daemon_args.extend([
                "--service".to_string(),
                format!("{}={}", s.name, s.command_line),
            ]);
        }
        for name in start {
            daemon_args.extend(["--start".to_string(), name]);
        }
        let binary = std::env::current_exe().context("failed to locate the running binary")?;
        let opts = InstallOptions {
            secret_file,
            listen,
            binary,
            start: !no_start && root == std::path::Path::new("/"),
            root,
            daemon_args,
        };
        for line in install::install(&opts)? {
            println!("{line}");
        }
        return Ok(());
    }
    let Some(listen) = cli.listen else {
        bail!("missing --listen ADDR:PORT\nhint: gflab-agent --listen 0.0.0.0:7411 --secret-file /etc/gflab/secret");
    };
    let Some(secret_file) = cli.secret_file else {
        bail!("missing --secret-file PATH\nhint: the secret is 32 random bytes written by gflab (mode 0600)");
    };
    check_start(&cli.services, &cli.start)?;
    let secret = Secret::read_file(&secret_file)?;
    let mut config = ServerConfig::new(secret);
    config.max_connections = cli.max_connections.max(1);
    config.max_handshakes = cli.max_handshakes.max(1);
    config.max_handshakes_per_source = cli.max_handshakes_per_source.max(1);
    config.handshake_timeout = Duration::from_millis(cli.handshake_timeout_ms.max(1));
    config.services = cli.services;
    config.service_log_dir = cli.service_log_dir;
    config.audit_log = cli.audit_log;
    config.audit_max_bytes = cli.audit_max_bytes.max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("failed to start the runtime")?;
    runtime.block_on(serve(listen, config, cli.start, secret_file))
}

/// Every `--start NAME` names a `--service`.
fn check_start(services: &[ServiceDef], start: &[String]) -> anyhow::Result<()> {
    for name in start {
        if !services.iter().any(|s| &s.name == name) {
            bail!("--start {name}: no such service; define it with --service {name}=COMMAND_LINE");
        }
    }
    Ok(())
}

async fn serve(
    listen: SocketAddr,
    config: ServerConfig,
    start: Vec<String>,
    secret_file: PathBuf,
) -> anyhow::Result<()> {
    let server = Server::bind(listen, config).await?;
    let secret = server.secret();
    let addr = server.local_addr()?;
    {
        // A closed stdout (nobody waiting for the line) is no reason to stop serving.
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, "listening on {addr}").and_then(|()| out.flush()) {
            tracing::warn!(error = %e, "failed to print the listening address on stdout");
        }
    }
    tracing::info!(%addr, pid = std::process::id(), "gflab-agent serving");
    let supervisor = server.supervisor();
    for name in &start {
        // A service that fails to start is reported, and the agent keeps serving so it can be examined.
        match supervisor.control(name, ServiceAction::Start).await {
            Ok(s) => tracing::info!(service = %name, pid = ?s.pid, "started at boot"),
            Err(e) => tracing::error!("{e}"),
        }
    }
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    let drain = CancellationToken::new();
    let drain_trigger = drain.clone();
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int), Ok(mut hup), Ok(mut usr2)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
            signal(SignalKind::user_defined2()),
        ) else {
            tracing::error!("failed to install signal handlers");
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                // SIGUSR2: being replaced (an upgrade): drain, then exit.
                _ = usr2.recv() => {
                    tracing::info!("SIGUSR2: draining for a replacement");
                    drain_trigger.cancel();
                }
                // SIGHUP re-reads the secret file (rotation): new connections must prove the new
                // secret, open ones keep their keys. A bad file keeps the old secret. A closing
                // terminal or ssh session never stops the agent.
                _ = hup.recv() => match Secret::read_file(&secret_file) {
                    Ok(s) => {
                        secret.replace(s);
                        tracing::info!(file = %secret_file.display(), "SIGHUP: secret reloaded");
                    }
                    Err(e) => tracing::error!("SIGHUP: kept the current secret: {e}"),
                },
            }
        }
        tracing::info!("shutting down");
        trigger.cancel();
    });
    server
        .run_draining(shutdown, drain, Duration::from_secs(60))
        .await;
    supervisor.stop_all().await;
    Ok(())
}
