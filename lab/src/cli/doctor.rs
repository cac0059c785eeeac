//! `gflab doctor`: checks the host and the engine, and says what each problem affects.
use crate::doctor::{self, Status};
use crate::facts::HostPaths;
use crate::runtime::EngineKind;

/// Arguments of `gflab doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Print the checks as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `gflab doctor`: exit 0 when nothing is a problem (warnings have fallbacks), else 1.
pub async fn run(args: DoctorArgs) -> anyhow::Result<i32> {
    let endpoint = crate::runtime::docker::default_engine();
    let answer = match crate::runtime::docker::DockerRuntime::connect_to(&endpoint).await {
        Ok(rt) => doctor::ask_engine(&rt).await,
        Err(crate::runtime::RuntimeError::Unreachable { message }) => Err(message
            .strip_prefix(&format!("{endpoint}: "))
            .map(str::to_string)
            .unwrap_or(message)),
        Err(e) => Err(e.to_string()),
    };
    let kind = answer.as_ref().map(|i| i.kind).unwrap_or_default();
    let local = endpoint.starts_with("unix://");
    let engine = doctor::EngineSeen {
        podman_installed: std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .any(|d| d.join("podman").is_file()),
        podman_init: (kind == EngineKind::Podman && local).then(doctor::podman_init_here),
        endpoint,
        answer,
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let paths = HostPaths::for_engine(kind);
    let release = crate::topology::Release::ALL[0];
    let vmlinuz = crate::images::vm::boot_cache_dir(release).join("vmlinuz");
    let kvm = doctor::kvm_boot_probe(&paths.dev_kvm, &vmlinuz).await;
    let checks = doctor::run_checks(&paths, &engine, &status, &kvm);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
    } else {
        print!("{}", doctor::render(&checks));
    }
    Ok(i32::from(
        checks.iter().any(|c| c.status == Status::Problem),
    ))
}
