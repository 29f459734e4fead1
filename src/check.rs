//! `devfault check`: audit a whole capture, one exchange at a time.

mod line;
mod pipeline;
mod report;
mod tally;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use devfault_core::capture::follow::Follow;
use devfault_core::capture::source::{self, Compression};
use devfault_core::capture::{self, CaptureError, HarBatches, Limits, NdjsonBatches};
use serde_json::json;

use crate::Outcome;
use crate::apis::Lang;
use crate::decode::ApiChoice;
pub use tally::GroupBy;
use tally::Tally;

/// Arguments of `devfault check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A HAR 1.2 file or an NDJSON capture (one exchange per line; schema in the README), plain,
    /// gzip or zstd (told by its bytes); `-` reads standard input.
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
    /// Follow a growing NDJSON log as `tail -f` does: audit it from its start, then each line as
    /// it is appended, across rotations (rename or truncation); Ctrl-C prints the summary.
    #[arg(long)]
    follow: bool,
    /// Add counts per device, code, URL path or hour to the summary (repeat for several).
    #[arg(long, value_enum)]
    by: Vec<GroupBy>,
    /// Also write a self-contained HTML report (timeline, top codes, devices, rules, failed
    /// exchanges) to this file.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Threads that read and diagnose exchanges (default: the cores, at most 4). Output is in
    /// input order whatever the number.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: Option<u16>,
    /// Longest NDJSON line kept (bytes; K, M, G suffixes); longer lines are reported and skipped.
    #[arg(long, value_name = "SIZE", default_value = "4M", value_parser = size)]
    max_line: u64,
    /// Longest HAR entry kept (its JSON text).
    #[arg(long, value_name = "SIZE", default_value = "4M", value_parser = size)]
    max_entry: u64,
    /// Longest body kept once its JSON string is unescaped.
    #[arg(long, value_name = "SIZE", default_value = "1M", value_parser = size)]
    max_body: u64,
    /// Longest base64 body kept once decoded.
    #[arg(long, value_name = "SIZE", default_value = "1M", value_parser = size)]
    max_decoded_body: u64,
}

/// A `--max-*` size (bytes, or with a K, M or G suffix).
fn size(text: &str) -> Result<u64, String> {
    capture::parse_size(text)
}

impl Args {
    fn limits(&self) -> Limits {
        let cap = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Limits {
            line: cap(self.max_line),
            entry: cap(self.max_entry),
            body: cap(self.max_body),
            decoded_body: cap(self.max_decoded_body),
        }
    }
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

/// Runs the command. Exit: 0 all conform, 3 a violation, 2 unreadable input (in part or whole).
pub fn run(args: &Args, out: &mut impl Write) -> Result<Outcome> {
    let name = if args.input.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        args.input.display().to_string()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let read = Arc::new(AtomicU64::new(0));
    let (reader, total, compression) = if args.follow {
        if args.input.as_os_str() == "-" {
            bail!(
                "--follow needs a file, not standard input (pipe `tail -F FILE` into `check -` instead)"
            );
        }
        if args.input_format == InputFormat::Har {
            bail!("--follow reads NDJSON logs (a HAR document is only whole when it is finished)");
        }
        let follow = Follow::open(&args.input, Arc::clone(&stop), Duration::from_millis(100))
            .with_context(|| format!("cannot read {name}"))?;
        let counting: Box<dyn Read + Send> =
            Box::new(Counting { inner: Box::new(follow), read: Arc::clone(&read) });
        let reader = BufReader::with_capacity(source::BUFFER, counting);
        stop_on_interrupt(Arc::clone(&stop));
        (reader, None, Compression::None)
    } else {
        let (raw, size): (Box<dyn Read + Send>, Option<u64>) = if args.input.as_os_str() == "-" {
            (Box::new(io::stdin()), None)
        } else {
            let file = File::open(&args.input).with_context(|| format!("cannot read {name}"))?;
            let size = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
            (Box::new(file), size)
        };
        let counting: Box<dyn Read + Send> =
            Box::new(Counting { inner: raw, read: Arc::clone(&read) });
        let (compression, reader) =
            source::decompress(BufReader::with_capacity(source::BUFFER, counting))
                .with_context(|| format!("cannot read {name}"))?;
        (reader, size, compression)
    };
    let mut reader = reader;
    let format = match args.input_format {
        InputFormat::Har => InputFormat::Har,
        InputFormat::Ndjson => InputFormat::Ndjson,
        InputFormat::Auto if args.follow => InputFormat::Ndjson,
        InputFormat::Auto => {
            sniff(&name, &mut reader).with_context(|| format!("cannot read {name}"))?
        }
    };
    let limits = args.limits();
    let mut dimensions = args.by.clone();
    if args.report.is_some() && !dimensions.contains(&GroupBy::Device) {
        dimensions.push(GroupBy::Device);
    }
    let settings = pipeline::Settings {
        api: args.api.forced(),
        all: args.all,
        format: args.format,
        limits,
        dimensions,
        report: args.report.is_some(),
        har: format == InputFormat::Har,
    };
    let jobs = args.jobs.map_or_else(default_jobs, usize::from);
    let progress = Progress::new(total, read);
    let started = Instant::now();
    let batches = match format {
        InputFormat::Har => pipeline::Batches::Har(HarBatches::new(reader, limits)),
        _ => pipeline::Batches::Ndjson(NdjsonBatches::new(reader, limits)),
    };
    // A regular file is written in large blocks; anything else (a pipe, a device, a followed
    // log) as each batch is done, so a reader sees failures as they come.
    let flush_each = args.follow || total.is_none();
    let (tally, fatal) =
        pipeline::run(batches, jobs, &settings, out, flush_each, &stop, &progress)?;
    progress.finish();
    let fatal = fatal.map(|e| match e {
        CaptureError::Io(e) if compression != Compression::None => {
            format!("cannot read {name} ({} stream): {e}", compression.as_str())
        }
        CaptureError::Io(e) => format!("cannot read {name}: {e}"),
        other => other.to_string(),
    });
    write_summary(out, args.format, &tally, &args.by, fatal.as_deref(), started.elapsed())?;
    if let Some(path) = &args.report {
        let title = format!("devfault check {name}");
        report::write(path, &title, &tally, args.lang)
            .with_context(|| format!("cannot write the report {}", path.display()))?;
    }
    if let Some(fatal) = &fatal {
        eprintln!("devfault: {fatal}");
    }
    Ok(if fatal.is_some() || tally.broken > 0 {
        Outcome::Unreadable
    } else if tally.non_conforming > 0 {
        Outcome::Violation
    } else {
        Outcome::Success
    })
}

/// Threads by default: every core, at most 4, which keeps the worst case of the default caps
/// under 256 MiB (the README's bound; more threads may be asked for with `--jobs`).
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(4)
}

/// Sets `stop` on the first Ctrl-C (SIGINT) or SIGTERM, so `--follow` ends with its summary.
fn stop_on_interrupt(stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            return;
        };
        runtime.block_on(async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let Ok(mut term) = signal(SignalKind::terminate()) else { return };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
        });
        stop.store(true, Ordering::Relaxed);
    });
}

/// Decides HAR or NDJSON: by file name, else by whether the first line is a whole exchange.
fn sniff(name: &str, reader: &mut BufReader<Box<dyn Read + Send>>) -> io::Result<InputFormat> {
    let lower = name.to_ascii_lowercase();
    let lower = lower.strip_suffix(".gz").or_else(|| lower.strip_suffix(".zst")).unwrap_or(&lower);
    if lower.ends_with(".har") {
        return Ok(InputFormat::Har);
    }
    if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") {
        return Ok(InputFormat::Ndjson);
    }
    let head = reader.fill_buf()?;
    // HAR writers put `log` first (it is the only member HAR 1.2 defines at the top).
    let start = head.trim_ascii_start();
    if let Some(rest) = start.strip_prefix(b"{")
        && rest.trim_ascii_start().starts_with(b"\"log\"")
    {
        return Ok(InputFormat::Har);
    }
    if start.starts_with(b"{") && !start.contains(&b'\n') && head.len() >= source::BUFFER / 2 {
        // A first line longer than the buffer is an NDJSON line (a HAR document has its
        // `log` member first); its reader reports it if it is over --max-line.
        return Ok(InputFormat::Ndjson);
    }
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

fn write_summary(
    out: &mut impl Write,
    format: Format,
    tally: &Tally,
    by: &[GroupBy],
    fatal: Option<&str>,
    elapsed: Duration,
) -> io::Result<()> {
    let by_code: BTreeMap<&str, u64> =
        tally.by_code.iter().map(|(k, c)| (k.as_str(), c.count)).collect();
    if format == Format::Json {
        let mut summary = json!({
            "exchanges": tally.exchanges,
            "by_api": tally.by_api,
            "failed": tally.failures,
            "by_code": by_code,
            "non_conforming": tally.non_conforming,
            "violations": tally.violations,
            "tolerated": tally.tolerated,
            "unreadable": tally.broken,
            "first_unreadable": tally.first_broken,
            "fatal": fatal,
        });
        if let Some(map) = summary.as_object_mut() {
            for dimension in by {
                let groups: serde_json::Map<String, serde_json::Value> = tally
                    .sorted_groups(*dimension)
                    .into_iter()
                    .map(|(key, c)| {
                        (key.to_owned(), json!({"exchanges": c.exchanges, "failed": c.failed, "non_conforming": c.non_conforming}))
                    })
                    .collect();
                map.insert(format!("by_{}", dimension.as_str()), groups.into());
            }
        }
        return writeln!(out, "{}", json!({ "summary": summary }));
    }
    let apis: Vec<String> = tally.by_api.iter().map(|(api, n)| format!("{api} {n}")).collect();
    writeln!(
        out,
        "checked {} exchange{} ({}) in {:.1} s: {} failed, {} with violations, {} unreadable",
        tally.exchanges,
        if tally.exchanges == 1 { "" } else { "s" },
        if apis.is_empty() { "none".to_owned() } else { apis.join(", ") },
        elapsed.as_secs_f64(),
        tally.failures,
        tally.non_conforming,
        tally.broken,
    )?;
    let list = |map: &BTreeMap<&str, u64>| -> Vec<String> {
        map.iter().map(|(k, n)| format!("{k} ×{n}")).collect()
    };
    if !by_code.is_empty() {
        writeln!(out, "  failures by code: {}", list(&by_code).join(", "))?;
    }
    if !tally.violations.is_empty() {
        writeln!(out, "  violations by rule: {}", list(&tally.violations).join(", "))?;
    }
    if !tally.tolerated.is_empty() {
        writeln!(out, "  tolerated by rule: {}", list(&tally.tolerated).join(", "))?;
    }
    if tally.unknown_api > 0 {
        writeln!(
            out,
            "  {} exchange(s) were neither BRAVIA nor ThinQ (not checked; --all lists them)",
            tally.unknown_api
        )?;
    }
    if tally.broken > 0 {
        writeln!(
            out,
            "  unreadable: {} (first at {})",
            tally.broken,
            tally.first_broken.join(", ")
        )?;
    }
    for dimension in by {
        let rows = tally.sorted_groups(*dimension);
        writeln!(
            out,
            "  by {} ({} group{}):",
            dimension.as_str(),
            rows.len(),
            if rows.len() == 1 { "" } else { "s" }
        )?;
        let width =
            rows.iter().take(TEXT_GROUPS).map(|(k, _)| k.chars().count()).max().unwrap_or(0);
        for (key, c) in rows.iter().take(TEXT_GROUPS) {
            writeln!(
                out,
                "    {key:<width$}  {} exchange{}, {} failed, {} with violations",
                c.exchanges,
                if c.exchanges == 1 { "" } else { "s" },
                c.failed,
                c.non_conforming
            )?;
        }
        if rows.len() > TEXT_GROUPS {
            writeln!(
                out,
                "    … {} more (--format json lists them all)",
                rows.len() - TEXT_GROUPS
            )?;
        }
    }
    if let Some(fatal) = fatal {
        writeln!(out, "  stopped early: {fatal}")?;
    }
    Ok(())
}

/// Groups the text summary lists per dimension (JSON lists every one).
const TEXT_GROUPS: usize = 50;

/// A reader that counts the bytes it has handed out, for the progress line.
struct Counting {
    inner: Box<dyn Read + Send>,
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
pub struct Progress {
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

    /// Redraws the line (at most five times a second).
    pub fn tick(&self, items: u64) {
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
