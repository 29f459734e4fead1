//! `devfault`: explain, list and check the error codes of Sony BRAVIA displays and LG ThinQ
//! Connect appliances.

mod apis;
mod areas;
mod explain;
mod lint;
mod list;
mod render;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The error-code systems of Sony BRAVIA displays and LG ThinQ Connect appliances.
#[derive(Parser, Debug)]
#[command(name = "devfault", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Explain a code or a message seen in a log: meaning, HTTP status, area, what to do next.
    Explain(explain::Args),
    /// List the codes of the built-in registries, filtered, as text, JSON, CSV, Markdown or TOML.
    List(list::Args),
    /// Show the allocation of a code space into areas, or where one code falls.
    Areas(areas::Args),
    /// Check registry files in devfault's TOML format and report every problem.
    Lint(lint::Args),
}

/// What a command tells `main`: the exit status it ends with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the command ran, and the answer is "not found" or "problems found".
    NotFound,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = match cli.command {
        Command::Explain(args) => explain::run(&args, &mut out),
        Command::List(args) => list::run(&args, &mut out),
        Command::Areas(args) => areas::run(&args, &mut out),
        Command::Lint(args) => lint::run(&args, &mut out),
    }
    .and_then(|outcome| out.flush().map(|()| outcome).map_err(anyhow::Error::from));
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::NotFound) => ExitCode::from(1),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("devfault: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// A reader that went away (`devfault list | head`) is not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
