//! `devfault lint`: check registry files in devfault's TOML format.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use devfault_core::Registry;

use crate::Outcome;

/// Arguments of `devfault lint`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Registry files to check (the format is in the README; `devfault list --api bravia
    /// --format toml` writes one).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Largest registry file read (bytes; K, M, G suffixes). A registry of every code of an API
    /// is tens of KiB; the cap bounds lint's memory (about 50 times the file's size).
    #[arg(long, value_name = "SIZE", default_value = "4M", value_parser = size)]
    max_size: u64,
}

/// A `--max-size` (bytes, or with a K, M or G suffix).
fn size(text: &str) -> Result<u64, String> {
    devfault_core::capture::parse_size(text)
}

/// A file's text, refused (before it is read) when it is over `max` bytes.
fn read_capped(path: &std::path::Path, max: u64) -> Result<String> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > max {
        bail!(
            "{} is larger than the {} cap (--max-size); raise it to lint a larger registry",
            path.display(),
            devfault_core::capture::Bytes(max)
        );
    }
    String::from_utf8(bytes)
        .with_context(|| format!("cannot read {}: not UTF-8 text", path.display()))
}

/// Runs the command: every problem of every file, as `FILE:LINE: message`.
pub fn run(args: &Args, out: &mut impl Write) -> Result<Outcome> {
    let mut outcome = Outcome::Success;
    for path in &args.files {
        let text = read_capped(path, args.max_size)?;
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
