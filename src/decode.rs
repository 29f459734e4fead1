//! `devfault decode`: one captured response, diagnosed.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use devfault_core::{Finding, HttpStatus, ReadingKind, parse_response};

use crate::Outcome;
use crate::apis::{Api, Lang};
use crate::diagnose::{self, Diagnosis};
use crate::render::{self, Style};

/// Arguments of `devfault decode`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A raw HTTP response (status line, headers, blank line, body, as `curl -i` prints it) or a
    /// bare body; `-` or nothing reads standard input.
    input: Option<PathBuf>,
    /// Which API's rules to decode by; `auto` tells from the body.
    #[arg(long, value_enum, default_value_t)]
    api: ApiChoice,
    /// The `x-message-id` the request carried (ThinQ): the reply's messageId must echo it.
    #[arg(long)]
    request_message_id: Option<String>,
    /// Language of group titles.
    #[arg(long, value_enum, default_value_t)]
    lang: Lang,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Largest input read (bytes; K, M, G suffixes): one response, headers and body. Larger
    /// input is refused (exit 2) without being read further.
    #[arg(long, value_name = "SIZE", default_value = "4M", value_parser = size)]
    max_size: u64,
}

/// A `--max-size` (bytes, or with a K, M or G suffix).
fn size(text: &str) -> Result<u64, String> {
    devfault_core::capture::parse_size(text)
}

/// `--api` of `decode` and `check`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, ValueEnum)]
pub enum ApiChoice {
    /// Tell the API from the exchange.
    #[default]
    Auto,
    /// Sony BRAVIA.
    Bravia,
    /// LG ThinQ Connect.
    Thinq,
}

impl ApiChoice {
    /// The API forced by the flag, if any.
    pub fn forced(self) -> Option<Api> {
        match self {
            ApiChoice::Auto => None,
            ApiChoice::Bravia => Some(Api::Bravia),
            ApiChoice::Thinq => Some(Api::Thinq),
        }
    }
}

/// Output of `decode`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, ValueEnum)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// One JSON object.
    Json,
}

/// The rule id of devfault's own note that a bare body's status was assumed.
const STATUS_ASSUMED: &str = "devfault.status-assumed";

/// Runs the command. Exit: 0 success, 1 error response, 3 protocol violation, 2 unreadable.
pub fn run(args: &Args, out: &mut impl Write) -> Result<crate::Outcome> {
    let (name, bytes) = read_input(args.input.as_deref(), args.max_size)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        bail!("{name} is empty: give a raw HTTP response or a response body");
    }
    let (status, headers, body) = if devfault_core::has_status_line(&bytes) {
        let response = parse_response(&bytes)
            .with_context(|| format!("{name} is not a readable HTTP response"))?;
        (Some(response.status), response.headers, response.body)
    } else {
        // A bare body has no headers to judge: give it the JSON Content-Type both APIs
        // specify, so only the body is judged (the finding below says so).
        (None, vec![("Content-Type".to_owned(), "application/json".to_owned())], bytes)
    };
    let (api, reason) = match args.api.forced() {
        Some(api) => (api, "--api".to_owned()),
        None => match diagnose::detect_body(&body) {
            Some(found) => found,
            None if status.is_none() => bail!(
                "{name} is neither an HTTP response nor a JSON body of either API (give a status line, or --api bravia|thinq)"
            ),
            None => bail!(
                "cannot tell which API sent this response from its body: add --api bravia or --api thinq"
            ),
        },
    };
    let message_id = args.request_message_id.as_deref();
    let diagnosis = match status {
        Some(status) => diagnose::diagnose(api, reason, status, &headers, &body, message_id),
        None => {
            // No status line: decode as 200, then, for an error that travels with another
            // status, again with the registry's status, so only the body is judged.
            let first = diagnose::diagnose(api, reason.clone(), 200, &headers, &body, message_id);
            if let ReadingKind::Unreadable { reason, .. } = &first.reading.kind {
                bail!(
                    "{name} has no status line and its body is not a {} protocol body: {reason}",
                    api.id(),
                );
            }
            let assumed =
                first.reading.entry.map(|e| e.http_status).filter(|s| *s != HttpStatus::OK);
            let mut diagnosis = match assumed {
                Some(status) => {
                    diagnose::diagnose(api, reason, status.as_u16(), &headers, &body, message_id)
                }
                None => first,
            };
            diagnosis.reading.findings.insert(
                0,
                Finding::tolerated(
                    STATUS_ASSUMED,
                    format!("no status line: a bare body, judged as if sent with HTTP {} (the status its code travels with) and a JSON Content-Type", diagnosis.reading.status),
                ),
            );
            diagnosis
        }
    };
    match args.format {
        Format::Json => {
            writeln!(out, "{}", serde_json::to_string_pretty(&diagnosis.to_json(args.lang, true))?)?
        }
        Format::Text => write!(out, "{}", text(&diagnosis, args.lang))?,
    }
    Ok(if diagnosis.reading.has_violation() {
        Outcome::Violation
    } else if diagnosis.reading.is_failure() {
        Outcome::NotFound
    } else {
        Outcome::Success
    })
}

/// Reads a file, or standard input for `-` or no path, refusing more than `max` bytes (so
/// `/dev/zero` or a 500 MB file costs at most `max` of memory).
fn read_input(path: Option<&std::path::Path>, max: u64) -> Result<(String, Vec<u8>)> {
    let (name, reader): (String, Box<dyn Read>) = match path {
        None => ("standard input".to_owned(), Box::new(std::io::stdin())),
        Some(p) if p.as_os_str() == "-" => {
            ("standard input".to_owned(), Box::new(std::io::stdin()))
        }
        Some(p) => {
            let file =
                std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?;
            (p.display().to_string(), Box::new(file))
        }
    };
    let mut bytes = Vec::new();
    reader
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {name}"))?;
    if bytes.len() as u64 > max {
        bail!(
            "{name} is larger than the {} cap (--max-size): decode takes one captured response; `devfault check` audits whole captures",
            devfault_core::capture::Bytes(max)
        );
    }
    Ok((name, bytes))
}

/// The diagnosis for people, styled for stdout.
pub fn text(diagnosis: &Diagnosis, lang: Lang) -> String {
    text_styled(diagnosis, lang, &Style::for_stdout())
}

/// The diagnosis for people, in `style`.
pub fn text_styled(diagnosis: &Diagnosis, lang: Lang, style: &Style) -> String {
    let mut out = String::new();
    out.push_str(&style.bold(&diagnosis.summary()));
    out.push('\n');
    out.push_str(&format!("  {:<12} {} ({})\n", "api", diagnosis.api.id(), diagnosis.api_reason));
    if let ReadingKind::Unreadable { reason, excerpt } = &diagnosis.reading.kind {
        out.push_str(&format!("  {:<12} {reason}\n", "body"));
        if !excerpt.is_empty() {
            out.push_str(&format!("  {:<12} {excerpt:?}\n", "starts"));
        }
    }
    if let Some(retry_after) = diagnosis.reading.retry_after {
        let wait = retry_after.wait_from(std::time::SystemTime::now()).as_secs();
        out.push_str(&format!("  {:<12} wait {wait} s (Retry-After)\n", "retry after"));
    }
    if diagnosis.reading.findings.is_empty() {
        out.push_str(&format!(
            "  {:<12} none: the response follows the {} rules\n",
            "findings",
            diagnosis.api.id()
        ));
    } else {
        for (i, finding) in diagnosis.reading.findings.iter().enumerate() {
            let label = if i == 0 { "findings" } else { "" };
            out.push_str(&format!("  {label:<12} {finding}\n"));
        }
    }
    if let Some(entry) = diagnosis.reading.entry {
        out.push('\n');
        out.push_str(&render::entry_text(diagnosis.api.registry(), entry, lang, style));
    }
    out
}
