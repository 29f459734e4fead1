//! `devfault`: explain, list and check the error codes of Sony BRAVIA displays and LG ThinQ
//! Connect appliances.

mod apis;
mod areas;
mod check;
mod decode;
mod diagnose;
mod explain;
mod explainer;
mod lint;
mod list;
mod render;
mod serve;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The emulator allocates per request from many threads at once; glibc's malloc spent a quarter
/// of its CPU time there, in arena locks (see the README's speed section).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Diagnose one captured response (raw HTTP or a bare body): code, meaning, violations.
    Decode(decode::Args),
    /// Start the virtual BRAVIA display(s) and the admin API on loopback.
    // Boxed: its many listener options make it far larger than the other variants.
    Serve(Box<serve::Args>),
    /// Audit a whole capture (HAR 1.2 or NDJSON): every failed exchange explained, every
    /// protocol violation flagged, and a summary.
    Check(check::Args),
}

/// What a command tells `main`: the exit status it ends with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the command ran, and the answer is "not found", "problems found" or "the
    /// response is an error".
    NotFound,
    /// Exit 3: a protocol violation was found.
    Violation,
    /// Exit 2 after the output: part of the input could not be read (reported in place).
    Unreadable,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Buffered: `check` can print millions of lines; flushed before exit below.
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let result = match cli.command {
        Command::Explain(args) => explain::run(&args, &mut out),
        Command::List(args) => list::run(&args, &mut out),
        Command::Areas(args) => areas::run(&args, &mut out),
        Command::Lint(args) => lint::run(&args, &mut out),
        Command::Decode(args) => decode::run(&args, &mut out),
        Command::Check(args) => check::run(&args, &mut out),
        Command::Serve(args) => serve::run(&args, &mut out),
    }
    .and_then(|outcome| out.flush().map(|()| outcome).map_err(anyhow::Error::from));
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::NotFound) => ExitCode::from(1),
        Ok(Outcome::Violation) => ExitCode::from(3),
        Ok(Outcome::Unreadable) => ExitCode::from(2),
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
