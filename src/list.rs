//! `devfault list`: the built-in registries as a table, JSON, CSV, Markdown or TOML.

use std::io::Write;

use anyhow::{Result, bail};
use clap::ValueEnum;
use devfault_core::{Class, Entry, Registry, Source};

use crate::Outcome;
use crate::apis::{Api, Lang};
use crate::render::{self, Style};

/// Arguments of `devfault list`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this API's codes (required for `--format toml`).
    #[arg(long, value_enum)]
    api: Option<Api>,
    /// Only this group: its id (`audio`) or its title in any language, ignoring case.
    #[arg(long)]
    group: Option<String>,
    /// Only this class.
    #[arg(long, value_parser = names(Class::ALL.iter().map(|c| c.as_str())))]
    class: Option<String>,
    /// Only documented or only observed rows.
    #[arg(long, value_parser = names(Source::ALL.iter().map(|s| s.as_str())))]
    source: Option<String>,
    /// Language of group titles.
    #[arg(long, value_enum, default_value_t)]
    lang: Lang,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Output of `list`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, ValueEnum)]
pub enum Format {
    /// A table for people, one section per group.
    #[default]
    Text,
    /// A JSON array of entries.
    Json,
    /// CSV with a header row.
    Csv,
    /// A Markdown table.
    Markdown,
    /// The registry in devfault's TOML format (one API, no filters): `devfault lint` reads it.
    Toml,
}

/// A parser that accepts these names and lists them in `--help` and in its refusals.
fn names(names: impl Iterator<Item = &'static str>) -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(names.map(clap::builder::PossibleValue::new))
}

/// Runs the command.
pub fn run(args: &Args, out: &mut impl Write) -> Result<Outcome> {
    let class: Option<Class> = args.class.as_deref().map(str::parse).transpose()?;
    let source: Option<Source> = args.source.as_deref().map(str::parse).transpose()?;
    if args.format == Format::Toml {
        let Some(api) = args.api else {
            bail!("--format toml exports one registry: add --api bravia or --api thinq");
        };
        if args.group.is_some() || class.is_some() || source.is_some() {
            bail!("--format toml exports a whole registry; drop --group, --class and --source");
        }
        write!(out, "{}", api.registry().to_toml())?;
        return Ok(Outcome::Success);
    }

    let registries: Vec<&'static Registry> =
        Api::selected(args.api).into_iter().map(Api::registry).collect();
    if let Some(group) = &args.group {
        let known = registries.iter().any(|r| r.groups().iter().any(|g| group_matches(g, group)));
        if !known {
            let ids: Vec<String> =
                registries.iter().flat_map(|r| r.groups().iter().map(|g| g.id.clone())).collect();
            bail!("no group {group:?}; groups: {}", ids.join(", "));
        }
    }
    let selected: Vec<(&Registry, Vec<&Entry>)> = registries
        .iter()
        .map(|&registry| {
            let rows = registry
                .entries()
                .iter()
                .filter(|e| class.is_none_or(|c| e.class == c))
                .filter(|e| source.is_none_or(|s| e.source == s))
                .filter(|e| {
                    args.group.as_deref().is_none_or(|wanted| {
                        registry.group(&e.group).is_some_and(|g| group_matches(g, wanted))
                    })
                })
                .collect();
            (registry, rows)
        })
        .collect();
    let count: usize = selected.iter().map(|(_, rows)| rows.len()).sum();

    match args.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = selected
                .iter()
                .flat_map(|(r, rows)| rows.iter().map(|e| render::entry_json(r, e, args.lang)))
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        }
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(&mut *out);
            csv.write_record(FIELDS)?;
            for (registry, rows) in &selected {
                for entry in rows {
                    csv.write_record(flat_fields(registry, entry, args.lang))?;
                }
            }
            csv.flush()?;
        }
        Format::Markdown => {
            writeln!(out, "| {} |", FIELDS.join(" | "))?;
            writeln!(out, "|{}", "---|".repeat(FIELDS.len()))?;
            for (registry, rows) in &selected {
                for entry in rows {
                    let cells: Vec<String> = flat_fields(registry, entry, args.lang)
                        .iter()
                        .map(|c| render::markdown_cell(c))
                        .collect();
                    writeln!(out, "| {} |", cells.join(" | "))?;
                }
            }
        }
        Format::Text => write_text(out, &selected, args.lang)?,
        Format::Toml => unreachable!("handled above"),
    }
    if count == 0 {
        eprintln!("devfault: no code matches these filters");
        return Ok(Outcome::NotFound);
    }
    Ok(Outcome::Success)
}

/// Columns of the CSV and Markdown forms: the JSON fields, in the same order.
const FIELDS: [&str; 12] = [
    "api",
    "code",
    "reason",
    "message",
    "explanation",
    "http_status",
    "group",
    "area",
    "class",
    "retry",
    "source",
    "advice",
];

fn flat_fields(registry: &Registry, entry: &Entry, lang: Lang) -> [String; 12] {
    [
        registry.api().to_owned(),
        registry.space().format(entry.code),
        entry.reason.clone(),
        entry.message.clone(),
        entry.explanation.clone(),
        entry.http_status.as_u16().to_string(),
        registry
            .group(&entry.group)
            .map_or(entry.group.clone(), |g| g.title(lang.tag()).to_owned()),
        registry.area_of(entry.code).map(|a| a.name.clone()).unwrap_or_default(),
        entry.class.to_string(),
        entry.retry.to_string(),
        entry.source.to_string(),
        entry.advice.clone(),
    ]
}

fn group_matches(group: &devfault_core::Group, wanted: &str) -> bool {
    let wanted = wanted.trim();
    group.id.eq_ignore_ascii_case(wanted)
        || group.titles.values().any(|t| t.trim().to_lowercase() == wanted.to_lowercase())
}

fn write_text(
    out: &mut impl Write,
    selected: &[(&Registry, Vec<&Entry>)],
    lang: Lang,
) -> Result<()> {
    let style = Style::for_stdout();
    for (registry, rows) in selected {
        if rows.is_empty() {
            continue;
        }
        writeln!(out, "{}", style.bold(&format!("{} ({})", registry.name(), registry.api())))?;
        writeln!(
            out,
            "{}",
            style.dim("     code  http  class              retry               message")
        )?;
        for group in registry.groups() {
            let in_group: Vec<&&Entry> = rows.iter().filter(|e| e.group == group.id).collect();
            if in_group.is_empty() {
                continue;
            }
            writeln!(out, "  {}", style.bold(group.title(lang.tag())))?;
            for entry in in_group {
                writeln!(
                    out,
                    "    {:>5}  {}  {:<17}  {:<18}  {}",
                    registry.space().format(entry.code),
                    entry.http_status.as_u16(),
                    entry.class.as_str(),
                    entry.retry.as_str(),
                    entry.message,
                )?;
            }
        }
    }
    Ok(())
}
