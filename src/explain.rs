//! `devfault explain`: one code or message, explained.

use std::io::Write;

use anyhow::{Result, bail};
use clap::ValueEnum;
use devfault_core::{Entry, Registry};

use crate::Outcome;
use crate::apis::{Api, Lang};
use crate::render::{self, Style};

/// Arguments of `devfault explain`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A code (`40801`, `0000`, `bravia:40801`, `thinq:2304`) or a reason or message as seen in a
    /// log (`"not connected device"`).
    query: String,
    /// Look only in this API's registry.
    #[arg(long, value_enum)]
    api: Option<Api>,
    /// Language of group titles.
    #[arg(long, value_enum, default_value_t)]
    lang: Lang,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Output of `explain`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, ValueEnum)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// A JSON array of the matching entries.
    Json,
}

/// What a query found in one registry.
struct Found {
    registry: &'static Registry,
    rows: Vec<&'static Entry>,
}

/// Runs the command.
pub fn run(args: &Args, out: &mut impl Write) -> Result<Outcome> {
    let (apis, query) = split_query(&args.query, args.api)?;
    let as_code: Vec<(&'static Registry, Option<u32>)> = apis
        .iter()
        .map(|api| {
            let registry = api.registry();
            (registry, registry.space().parse(query).ok())
        })
        .collect();
    let code_shaped = as_code.iter().any(|(_, code)| code.is_some());
    let found: Vec<Found> = if code_shaped {
        as_code
            .iter()
            .filter_map(|(registry, code)| {
                Some(Found { registry, rows: registry.rows((*code)?).collect() })
            })
            .filter(|found| !found.rows.is_empty())
            .collect()
    } else {
        apis.iter()
            .map(|api| Found { registry: api.registry(), rows: api.registry().find_text(query) })
            .filter(|found| !found.rows.is_empty())
            .collect()
    };

    if found.is_empty() {
        if code_shaped {
            for (registry, code) in &as_code {
                if let Some(code) = code {
                    eprintln!("devfault: {}", not_listed(registry, *code));
                }
            }
        } else if !query.is_empty() && query.bytes().all(|b| b.is_ascii_digit()) {
            // A number no API takes as a code: say why for each, rather than search the texts.
            for api in &apis {
                if let Err(error) = api.registry().space().parse(query) {
                    eprintln!("devfault: {}: {error}", api.registry().api());
                }
            }
        } else {
            eprintln!(
                "devfault: no code has the reason or message {query:?} (matching ignores case); `devfault list` shows them all"
            );
        }
        if args.format == Format::Json {
            writeln!(out, "[]")?;
        }
        return Ok(Outcome::NotFound);
    }

    match args.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = found
                .iter()
                .flat_map(|f| f.rows.iter().map(|e| render::entry_json(f.registry, e, args.lang)))
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        }
        Format::Text => {
            let style = Style::for_stdout();
            let mut first = true;
            for found in &found {
                for entry in &found.rows {
                    if !first {
                        writeln!(out)?;
                    }
                    first = false;
                    write!(
                        out,
                        "{}",
                        render::entry_text(found.registry, entry, args.lang, &style)
                    )?;
                }
            }
        }
    }
    Ok(Outcome::Success)
}

/// Splits `bravia:40801` into the API and the code, and reconciles a prefix with `--api`.
pub(crate) fn split_query(query: &str, api: Option<Api>) -> Result<(Vec<Api>, &str)> {
    let query = query.trim();
    if query.is_empty() {
        bail!("give a code (40801, 0000, bravia:40801, thinq:2304) or a message to explain");
    }
    if let Some((prefix, rest)) = query.split_once(':')
        && let Some(prefixed) = Api::from_prefix(prefix.trim())
    {
        if let Some(api) = api.filter(|&api| api != prefixed) {
            bail!("{query:?} names {prefixed:?} but --api says {api:?}; give one of them");
        }
        return Ok((vec![prefixed], rest.trim()));
    }
    Ok((Api::selected(api), query))
}

/// Why a well-formed code has no entry: where it falls in the registry's areas.
fn not_listed(registry: &Registry, code: u32) -> String {
    let written = registry.space().format(code);
    let head = format!("{} code {written} is not in the registry", registry.name());
    let location = registry.locate(code);
    if let Some(hole) = &location.hole {
        return format!("{head}: it falls in {}", render::hole_sentence(registry.space(), hole));
    }
    match location.path.last() {
        Some(area) => {
            let listed: Vec<String> = registry
                .in_area(area)
                .filter(|e| e.source == devfault_core::Source::Documented)
                .map(|e| registry.space().format(e.code))
                .collect();
            let listed = if listed.is_empty() {
                "none of its codes is listed".to_owned()
            } else {
                format!("listed there: {}", listed.join(", "))
            };
            format!(
                "{head}: it lies in {}; {listed}",
                render::area_path(registry, code).unwrap_or_default()
            )
        }
        None => format!("{head}, and the registry defines no area for it"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_choose_the_api() {
        assert_eq!(split_query("bravia:40801", None).ok(), Some((vec![Api::Bravia], "40801")));
        assert_eq!(split_query(" LG:2304 ", None).ok(), Some((vec![Api::Thinq], "2304")));
        assert_eq!(split_query("2304", None).ok(), Some((vec![Api::Bravia, Api::Thinq], "2304")));
        assert!(split_query("bravia:1", Some(Api::Thinq)).is_err());
        assert!(split_query("   ", None).is_err());
        // A colon in a message is not a prefix.
        assert_eq!(
            split_query("Error: x", None).ok(),
            Some((vec![Api::Bravia, Api::Thinq], "Error: x"))
        );
    }

    #[test]
    fn an_unlisted_code_is_placed() {
        let bravia = devfault_bravia::registry();
        let hole = not_listed(bravia, 41850);
        assert!(hole.contains("unallocated hole (41800–41999)"), "{hole}");
        assert!(hole.contains("between Browser service area."), "{hole}");
        let inside = not_listed(bravia, 40802);
        assert!(inside.contains("Audio service area. (40800–40999)"), "{inside}");
        assert!(inside.contains("listed there: 40800, 40801"), "{inside}");
    }
}
