//! `devfault areas`: the allocation of a code space, or where one code falls.

use std::io::Write;

use anyhow::{Context, Result};
use clap::ValueEnum;
use devfault_core::{Hole, Registry};
use serde_json::json;

use crate::Outcome;
use crate::apis::{Api, Lang};
use crate::render::{self, Style};

/// Arguments of `devfault areas`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A code to place (`41850`); without it, the whole allocation table.
    code: Option<String>,
    /// The API whose code space to show.
    #[arg(long, value_enum, default_value = "bravia")]
    api: Api,
    /// Language of group titles (in the listing of a code's entry).
    #[arg(long, value_enum, default_value_t)]
    lang: Lang,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Output of `areas`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, ValueEnum)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// JSON.
    Json,
}

/// Runs the command.
pub fn run(args: &Args, out: &mut impl Write) -> Result<Outcome> {
    let registry = args.api.registry();
    match &args.code {
        Some(text) => {
            let code = registry.space().parse(text.trim()).with_context(|| {
                format!("cannot place {text:?} in the {} code space", registry.api())
            })?;
            place(registry, code, args, out)?;
        }
        None => table(registry, args.format, out)?,
    }
    Ok(Outcome::Success)
}

fn hole_json(registry: &Registry, hole: &Hole<'_>) -> serde_json::Value {
    let _ = registry;
    json!({
        "start": hole.start,
        "end": hole.end,
        "parent": hole.parent.map(|a| a.name.as_str()),
        "before": hole.before.map(|a| a.name.as_str()),
        "after": hole.after.map(|a| a.name.as_str()),
    })
}

fn table(registry: &Registry, format: Format, out: &mut impl Write) -> Result<()> {
    let documented = |start: u32, end: u32| {
        let mut codes: Vec<u32> = registry
            .entries()
            .iter()
            .filter(|e| {
                e.source == devfault_core::Source::Documented && start <= e.code && e.code <= end
            })
            .map(|e| e.code)
            .collect();
        codes.dedup();
        codes.len()
    };
    let holes = registry.holes();
    if format == Format::Json {
        let areas: Vec<serde_json::Value> = registry
            .areas()
            .iter()
            .enumerate()
            .map(|(i, a)| {
                json!({"name": a.name, "start": a.start, "end": a.end, "depth": registry.depth(i), "documented_codes": documented(a.start, a.end)})
            })
            .collect();
        let holes: Vec<serde_json::Value> = holes.iter().map(|h| hole_json(registry, h)).collect();
        let value = json!({
            "api": registry.api(),
            "code_space": {"min": registry.space().min, "max": registry.space().max, "written_as": registry.space().to_string()},
            "areas": areas,
            "holes": holes,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }

    let style = Style::for_stdout();
    let space = registry.space();
    writeln!(out, "{}", style.bold(&format!("{} — code space: {space}", registry.name())))?;
    // Areas and holes in code order; a hole sits one level below its parent.
    let mut rows: Vec<(u32, u32, usize, String, String)> = registry
        .areas()
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let n = documented(a.start, a.end);
            let count = if n == 0 {
                String::new()
            } else {
                format!("{n} documented code{}", if n == 1 { "" } else { "s" })
            };
            (a.start, u32::MAX - a.end, registry.depth(i), a.name.clone(), count)
        })
        .collect();
    for hole in &holes {
        let depth = hole.parent.map_or(0, |p| {
            registry.areas().iter().position(|a| a == p).map_or(0, |i| registry.depth(i) + 1)
        });
        let n = documented(hole.start, hole.end);
        let count = if n == 0 {
            String::new()
        } else {
            format!("{n} documented code{}", if n == 1 { "" } else { "s" })
        };
        rows.push((hole.start, u32::MAX - hole.end, depth, style.dim("(unallocated)"), count));
    }
    rows.sort_by_key(|r| (r.0, r.1));
    for (start, inverted_end, depth, name, count) in rows {
        let range = format!("{}–{}", space.format(start), space.format(u32::MAX - inverted_end));
        let name = format!("{}{}", "  ".repeat(depth), name);
        let line = format!("  {range:>11}  {name:<32} {count}");
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn place(registry: &Registry, code: u32, args: &Args, out: &mut impl Write) -> Result<()> {
    let location = registry.locate(code);
    let written = registry.space().format(code);
    let entry = registry.get(code);
    if args.format == Format::Json {
        let value = json!({
            "api": registry.api(),
            "code": registry.space().to_json(code),
            "path": location.path.iter().map(|a| json!({"name": a.name, "start": a.start, "end": a.end})).collect::<Vec<_>>(),
            "hole": location.hole.as_ref().map(|h| hole_json(registry, h)),
            "entry": entry.map(|e| render::entry_json(registry, e, args.lang)),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    let line = match (&location.hole, render::area_path(registry, code)) {
        (Some(hole), _) => {
            format!("{written} falls in {}", render::hole_sentence(registry.space(), hole))
        }
        (None, Some(path)) => format!("{written} lies in {path}"),
        (None, None) => format!("{written} lies outside every area"),
    };
    writeln!(out, "{line}.")?;
    match entry {
        Some(entry) => writeln!(
            out,
            "{} {written} is listed: {} (see `devfault explain {}:{written}`).",
            registry.api(),
            entry.reason,
            registry.api()
        )?,
        None => writeln!(out, "{} lists no code {written}.", registry.name())?,
    }
    Ok(())
}
