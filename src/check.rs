//! `devfault check`: audit a whole capture, one exchange at a time.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::ValueEnum;
use devfault_core::Severity;
use devfault_core::capture::{self, Exchange, Item};
use serde_json::json;

use crate::Outcome;
use crate::apis::Lang;
use crate::decode::ApiChoice;
use crate::diagnose::{self, Diagnosis};

/// Arguments of `devfault check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A HAR 1.2 file or an NDJSON capture (one exchange per line; schema in the README); `-`
    /// reads standard input.
    input: PathBuf,
    /// The capture's format; `auto` tells from the file name, then from the first line.
    #[arg(long, value_enum, default_value_t)]
    input_format: InputFormat,
    /// Which API's rules to apply; `auto` tells each exchange's API from its URL, headers and body.
    #[arg(long, value_enum, default_value_t)]
    api: ApiChoice,
    /// Print every exchange, not only failed and non-conforming ones.
    #[arg(long)]
    all: bool,
    /// Language of group titles.
    #[arg(long, value_enum, default_value_t)]
    lang: Lang,
    /// Output format: text for people, or NDJSON (one object per printed exchange, then one
    /// `{"summary": ...}` line).
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Capture formats.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, ValueEnum)]
pub enum InputFormat {
    /// From the file name (`.har`, `.ndjson`, `.jsonl`), else from the first line.
    #[default]
    Auto,
    /// HAR 1.2.
    Har,
    /// One exchange per line.
    Ndjson,
}

/// Output of `check`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, ValueEnum)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// NDJSON for programs.
    Json,
}

/// Counts for the summary; bounded by the number of distinct codes and rules, not exchanges.
#[derive(Default)]
struct Summary {
    exchanges: u64,
    by_api: BTreeMap<&'static str, u64>,
    failures: u64,
    by_code: BTreeMap<String, u64>,
    violations: BTreeMap<&'static str, u64>,
    tolerated: BTreeMap<&'static str, u64>,
    non_conforming: u64,
    unknown_api: u64,
    broken: u64,
    first_broken: Vec<String>,
}

/// Runs the command. Exit: 0 all conform, 3 a violation, 2 unreadable input (in part or whole).
pub fn run(args: &Args, out: &mut impl Write) -> Result<Outcome> {
    let (reader, total, name): (Box<dyn Read>, Option<u64>, String) =
        if args.input.as_os_str() == "-" {
            (Box::new(io::stdin()), None, "standard input".to_owned())
        } else {
            let file = File::open(&args.input)
                .with_context(|| format!("cannot read {}", args.input.display()))?;
            let size = file.metadata().ok().map(|m| m.len());
            (Box::new(file), size, args.input.display().to_string())
        };
    let read = Arc::new(AtomicU64::new(0));
    let mut reader =
        BufReader::with_capacity(256 * 1024, Counting { inner: reader, read: Arc::clone(&read) });

    let format = match args.input_format {
        InputFormat::Har => InputFormat::Har,
        InputFormat::Ndjson => InputFormat::Ndjson,
        InputFormat::Auto => {
            sniff(&name, &mut reader).with_context(|| format!("cannot read {name}"))?
        }
    };

    let progress = Progress::new(total, read);
    let mut summary = Summary::default();
    let mut write_error: Option<io::Error> = None;
    let started = Instant::now();
    let mut each = |item: Item| {
        if write_error.is_some() {
            return;
        }
        if let Err(err) = handle(item, args, &mut summary, out) {
            write_error = Some(err);
        }
        progress.tick(summary.exchanges + summary.broken);
    };
    let fatal = match format {
        InputFormat::Har => capture::read_har(reader, &mut each).err().map(|e| e.to_string()),
        _ => capture::read_ndjson(reader, &mut each)
            .err()
            .map(|e| format!("cannot read {name}: {e}")),
    };
    progress.finish();
    if let Some(err) = write_error {
        return Err(err.into());
    }
    write_summary(out, args.format, &summary, fatal.as_deref(), started.elapsed())?;
    if let Some(fatal) = &fatal {
        eprintln!("devfault: {fatal}");
    }
    Ok(if fatal.is_some() || summary.broken > 0 {
        Outcome::Unreadable
    } else if summary.non_conforming > 0 {
        Outcome::Violation
    } else {
        Outcome::Success
    })
}

/// Decides HAR or NDJSON: by file name, else by whether the first line is a whole exchange.
fn sniff(name: &str, reader: &mut BufReader<Counting>) -> io::Result<InputFormat> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".har") {
        return Ok(InputFormat::Har);
    }
    if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") {
        return Ok(InputFormat::Ndjson);
    }
    let head = reader.fill_buf()?;
    let line = head
        .split(|&b| b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .unwrap_or_default();
    let value: Option<serde_json::Value> = serde_json::from_slice(line).ok();
    Ok(match value {
        Some(v) if v.get("response").is_some() => InputFormat::Ndjson,
        _ => InputFormat::Har,
    })
}

fn handle(item: Item, args: &Args, summary: &mut Summary, out: &mut impl Write) -> io::Result<()> {
    let exchange = match item {
        Item::Broken { position, error } => {
            summary.broken += 1;
            if summary.first_broken.len() < 10 {
                summary.first_broken.push(position.to_string());
            }
            return match args.format {
                Format::Text => writeln!(out, "{position}: unreadable: {error}\n"),
                Format::Json => writeln!(
                    out,
                    "{}",
                    json!({"position": position.to_string(), "unreadable": error})
                ),
            };
        }
        Item::Exchange(exchange) => exchange,
    };
    summary.exchanges += 1;
    let Exchange { position, request, response } = exchange;
    let detected = match args.api.forced() {
        Some(api) => Some((api, "--api".to_owned())),
        None => diagnose::detect(&request.url, &request.headers, &response.body),
    };
    let Some((api, reason)) = detected else {
        summary.unknown_api += 1;
        *summary.by_api.entry("unknown").or_default() += 1;
        if args.all {
            match args.format {
                Format::Text => writeln!(
                    out,
                    "{position}  {} {}\n  neither a BRAVIA nor a ThinQ exchange (use --api to force one)\n",
                    request.method, request.url
                )?,
                Format::Json => writeln!(
                    out,
                    "{}",
                    json!({"position": position.to_string(), "method": request.method, "url": request.url, "api": null})
                )?,
            }
        }
        return Ok(());
    };
    *summary.by_api.entry(api.id()).or_default() += 1;
    let message_id = request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-message-id"))
        .map(|(_, v)| v.as_str());
    let diagnosis = diagnose::diagnose(
        api,
        reason,
        response.status,
        &response.headers,
        &response.body,
        message_id,
    );
    count(summary, &diagnosis);
    if args.all || diagnosis.reading.is_failure() || diagnosis.reading.has_violation() {
        match args.format {
            Format::Text => {
                writeln!(out, "{position}  {} {}", request.method, request.url)?;
                writeln!(out, "  {}", diagnosis.summary())?;
                if let Some(entry) = diagnosis.reading.entry {
                    writeln!(out, "  advice: {}", entry.advice)?;
                }
                for finding in &diagnosis.reading.findings {
                    writeln!(out, "  {finding}")?;
                }
                writeln!(out)?;
            }
            Format::Json => {
                let mut value = diagnosis.to_json(args.lang, false);
                if let Some(map) = value.as_object_mut() {
                    map.insert("position".into(), json!(position.to_string()));
                    map.insert("method".into(), json!(request.method));
                    map.insert("url".into(), json!(request.url));
                }
                writeln!(out, "{value}")?;
            }
        }
    }
    Ok(())
}

fn count(summary: &mut Summary, diagnosis: &Diagnosis) {
    if diagnosis.reading.is_failure() {
        summary.failures += 1;
        let key = match &diagnosis.reading.code {
            Some(code) => format!("{} {code}", diagnosis.api.id()),
            None => format!("{} HTTP {}", diagnosis.api.id(), diagnosis.reading.status),
        };
        *summary.by_code.entry(key).or_default() += 1;
    }
    if diagnosis.reading.has_violation() {
        summary.non_conforming += 1;
    }
    for finding in &diagnosis.reading.findings {
        let counts = match finding.severity {
            Severity::Violation => &mut summary.violations,
            Severity::Tolerated => &mut summary.tolerated,
        };
        *counts.entry(finding.rule).or_default() += 1;
    }
}

fn write_summary(
    out: &mut impl Write,
    format: Format,
    summary: &Summary,
    fatal: Option<&str>,
    elapsed: Duration,
) -> io::Result<()> {
    if format == Format::Json {
        let value = json!({"summary": {
            "exchanges": summary.exchanges,
            "by_api": summary.by_api,
            "failed": summary.failures,
            "by_code": summary.by_code,
            "non_conforming": summary.non_conforming,
            "violations": summary.violations,
            "tolerated": summary.tolerated,
            "unreadable": summary.broken,
            "first_unreadable": summary.first_broken,
            "fatal": fatal,
        }});
        return writeln!(out, "{value}");
    }
    let apis: Vec<String> = summary.by_api.iter().map(|(api, n)| format!("{api} {n}")).collect();
    writeln!(
        out,
        "checked {} exchange{} ({}) in {:.1} s: {} failed, {} with violations, {} unreadable",
        summary.exchanges,
        if summary.exchanges == 1 { "" } else { "s" },
        if apis.is_empty() { "none".to_owned() } else { apis.join(", ") },
        elapsed.as_secs_f64(),
        summary.failures,
        summary.non_conforming,
        summary.broken,
    )?;
    let list = |map: &BTreeMap<_, u64>| -> Vec<String> {
        map.iter().map(|(k, n)| format!("{k} ×{n}")).collect()
    };
    let by_code: Vec<String> = summary.by_code.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
    if !by_code.is_empty() {
        writeln!(out, "  failures by code: {}", by_code.join(", "))?;
    }
    if !summary.violations.is_empty() {
        writeln!(out, "  violations by rule: {}", list(&summary.violations).join(", "))?;
    }
    if !summary.tolerated.is_empty() {
        writeln!(out, "  tolerated by rule: {}", list(&summary.tolerated).join(", "))?;
    }
    if summary.unknown_api > 0 {
        writeln!(
            out,
            "  {} exchange(s) were neither BRAVIA nor ThinQ (not checked; --all lists them)",
            summary.unknown_api
        )?;
    }
    if summary.broken > 0 {
        writeln!(
            out,
            "  unreadable: {} (first at {})",
            summary.broken,
            summary.first_broken.join(", ")
        )?;
    }
    if let Some(fatal) = fatal {
        writeln!(out, "  stopped early: {fatal}")?;
    }
    Ok(())
}

/// A reader that counts the bytes it has handed out, for the progress line.
struct Counting {
    inner: Box<dyn Read>,
    read: Arc<AtomicU64>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A progress line on standard error, only on a terminal and only for inputs over 4 MiB.
struct Progress {
    total: u64,
    read: Arc<AtomicU64>,
    enabled: bool,
    last: std::cell::Cell<Instant>,
}

impl Progress {
    fn new(total: Option<u64>, read: Arc<AtomicU64>) -> Progress {
        let total = total.unwrap_or(0);
        let enabled = total > 4 * 1024 * 1024 && io::stderr().is_terminal();
        Progress { total, read, enabled, last: std::cell::Cell::new(Instant::now()) }
    }

    fn tick(&self, items: u64) {
        if !self.enabled || self.last.get().elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last.set(Instant::now());
        let read = self.read.load(Ordering::Relaxed);
        let percent = read.saturating_mul(100) / self.total.max(1);
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        eprint!(
            "\r{percent:>3}%  {:.0} / {:.0} MiB  {items} exchanges",
            mib(read),
            mib(self.total)
        );
    }

    fn finish(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
    }
}
