//! The `gflab` binary: parse, dispatch, print `{:#}` errors, map to an exit code.
use clap::Parser;

fn main() {
    let cli = gflab::cli::Cli::parse();
    std::process::exit(gflab::cli::main(cli));
}
