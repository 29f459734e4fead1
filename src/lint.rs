//! `devfault lint`: check registry files in devfault's TOML format.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use devfault_core::Registry;

use crate::Outcome;

/// Arguments of `devfault lint`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Registry files to check (the format is in the README; `devfault list --api bravia
    /// --format toml` writes one).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Runs the command: every problem of every file, as `FILE:LINE: message`.
pub fn run(args: &Args, out: &mut impl Write) -> Result<Outcome> {
    let mut outcome = Outcome::Success;
    for path in &args.files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        match Registry::from_toml(&text) {
            Ok(registry) => writeln!(
                out,
                "{}: ok — {} ({}), {}, {}, {}",
                path.display(),
                registry.name(),
                registry.api(),
                counted(registry.entries().len(), "entry", "entries"),
                counted(registry.areas().len(), "area", "areas"),
                counted(registry.groups().len(), "group", "groups"),
            )?,
            Err(problems) => {
                outcome = Outcome::NotFound;
                for problem in &problems {
                    match problem.line {
                        Some(line) => {
                            writeln!(out, "{}:{line}: {}", path.display(), problem.message)?
                        }
                        None => writeln!(out, "{}: {}", path.display(), problem.message)?,
                    }
                }
                let n = problems.len();
                writeln!(out, "{}: {n} problem{}", path.display(), if n == 1 { "" } else { "s" })?;
            }
        }
    }
    Ok(outcome)
}

/// `1 entry`, `2 entries`.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
