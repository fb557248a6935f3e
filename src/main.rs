//! The `gameday` binary.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    gameday::cli::run(gameday::cli::Cli::parse())
}
