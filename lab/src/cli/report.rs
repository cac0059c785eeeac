//! `gflab report merge A.xml B.xml … -o all.xml`: joins the JUnit reports of shards into one and
//! prints its summary line (the same line `gflab test` prints).
use std::path::PathBuf;

/// `gflab report`.
#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// Join JUnit reports (of `gflab test --shard I/N` runs) into one.
    Merge(MergeArgs),
}

/// Arguments of `gflab report merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The reports to join.
    #[arg(required = true, value_name = "REPORT")]
    pub inputs: Vec<PathBuf>,
    /// Where the merged report goes.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

/// Runs `gflab report`; exit 1 when the merged report has failures.
pub fn run(c: ReportCommand) -> anyhow::Result<i32> {
    match c {
        ReportCommand::Merge(a) => {
            let counts = crate::runner::merge::merge(&a.inputs, &a.output)?;
            eprintln!(
                "merged {} report(s) into {}",
                a.inputs.len(),
                a.output.display()
            );
            println!("{}", counts.line());
            Ok(i32::from(counts.failed > 0))
        }
    }
}
