//! The audit's threads: one reader cuts the capture into batches of whole items, `jobs` workers
//! read and diagnose the batches' exchanges, and the calling thread writes each batch's output
//! in input order. At most `window` batches are between the reader and the writer at any time,
//! so memory is bounded by `window × (batch size + one item at its cap)` plus each worker's
//! buffers, whatever the capture's size (the README states the figure).

use std::collections::BTreeMap;
use std::io::{self, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use anyhow::Result;
use devfault_core::capture::{
    Batch, CaptureError, ExchangeView, HarBatches, Limits, NdjsonBatches, Scratch, SlotKind, Step,
    parse_har_view, parse_ndjson_view,
};
use serde_json::json;

use super::line::Line;
use super::tally::{self, FailedRow, GroupBy, MAX_FAILED_ROWS, Tally};
use super::{Format, Progress};
use crate::apis::Api;
use crate::diagnose::{self, Diagnosis};

/// What every worker needs to know.
#[derive(Debug)]
pub struct Settings {
    /// `--api`, when forced.
    pub api: Option<Api>,
    /// `--all`.
    pub all: bool,
    /// `--format`.
    pub format: Format,
    /// The caps.
    pub limits: Limits,
    /// Dimensions to group by.
    pub dimensions: Vec<GroupBy>,
    /// Whether the report's aggregates are wanted.
    pub report: bool,
    /// HAR entries rather than NDJSON lines.
    pub har: bool,
}

/// The capture, cut into batches.
pub enum Batches {
    /// NDJSON lines.
    Ndjson(NdjsonBatches<Box<dyn Read + Send>>),
    /// HAR entries.
    Har(HarBatches<BufReader<Box<dyn Read + Send>>>),
}

impl Batches {
    fn next_batch(&mut self, batch: &mut Batch) -> Step {
        match self {
            Batches::Ndjson(b) => b.next_batch(batch),
            Batches::Har(b) => b.next_batch(batch),
        }
    }
}

/// One batch's output and counts.
struct Done {
    bytes: Vec<u8>,
    tally: Tally,
}

/// Runs the audit; gives the merged counts and the error that stopped reading, if any.
pub fn run(
    mut batches: Batches,
    jobs: usize,
    settings: &Settings,
    out: &mut impl Write,
    flush_each: bool,
    stop: &AtomicBool,
    progress: &Progress,
) -> Result<(Tally, Option<CaptureError>)> {
    let window = 2 * jobs + 2;
    let (job_tx, job_rx) = mpsc::channel::<(u64, Batch)>();
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::channel::<(u64, Done)>();
    let (permit_tx, permit_rx) = mpsc::channel::<()>();
    // Spent batches and output buffers go back to be filled again: fresh 256 KiB buffers for
    // every batch cost more in page faults than the audit of their exchanges.
    let (spent_tx, spent_rx) = mpsc::channel::<Batch>();
    let outputs: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    for _ in 0..window {
        let _ = permit_tx.send(());
    }
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut seq = 0u64;
            let mut batch = Batch::default();
            loop {
                if permit_rx.recv().is_err() {
                    return None;
                }
                if batch.data.capacity() == 0 {
                    batch = spent_rx.try_recv().unwrap_or_default();
                }
                let step = loop {
                    let step = batches.next_batch(&mut batch);
                    if !batch.is_empty() || !matches!(step, Step::More) {
                        break step;
                    }
                };
                if !batch.is_empty() {
                    if job_tx.send((seq, std::mem::take(&mut batch))).is_err() {
                        return None;
                    }
                    seq += 1;
                } else {
                    // Unused: no batch will come back for it.
                }
                match step {
                    Step::More => {}
                    Step::End => return None,
                    Step::Fatal(e) => return Some(e),
                }
            }
        });
        for _ in 0..jobs {
            let done_tx = done_tx.clone();
            let spent_tx = spent_tx.clone();
            let job_rx = &job_rx;
            let outputs = &outputs;
            scope.spawn(move || {
                let mut worker = Worker::default();
                loop {
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, batch)) = job else { return };
                    let bytes = outputs.lock().ok().and_then(|mut o| o.pop()).unwrap_or_default();
                    let done = worker.audit(&batch, bytes, settings);
                    let _ = spent_tx.send(batch);
                    if done_tx.send((seq, done)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        drop(spent_tx);
        let mut total = Tally::new(&settings.dimensions);
        let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
        let mut next = 0u64;
        let mut write_error = None;
        for (seq, done) in done_rx {
            pending.insert(seq, done);
            while let Some(done) = pending.remove(&next) {
                next += 1;
                if write_error.is_none()
                    && let Err(e) = out.write_all(&done.bytes)
                {
                    write_error = Some(e);
                }
                total.merge(done.tally);
                let mut bytes = done.bytes;
                bytes.clear();
                if let Ok(mut pool) = outputs.lock() {
                    pool.push(bytes);
                }
                let _ = permit_tx.send(());
            }
            if write_error.is_none()
                && flush_each
                && let Err(e) = out.flush()
            {
                write_error = Some(e);
            }
            if write_error.is_some() {
                // Stop the reader (and a followed file's wait), then drain.
                stop.store(true, Ordering::Relaxed);
                break;
            }
            progress.tick(total.exchanges + total.broken);
        }
        drop(permit_tx);
        let fatal = reader.join().unwrap_or(None);
        match write_error {
            Some(e) => Err(e.into()),
            None => Ok((total, fatal)),
        }
    })
}

/// A worker's buffers, reused from one exchange to the next.
#[derive(Default)]
struct Worker {
    scratch: Scratch,
    request_headers: Headers,
    response_headers: Headers,
}

/// Header fields as `diagnose` takes them, in `String`s reused across exchanges.
#[derive(Default)]
struct Headers {
    pairs: Vec<(String, String)>,
    len: usize,
}

impl Headers {
    fn fill(&mut self, fields: &[devfault_core::capture::Header<'_>]) -> &[(String, String)] {
        self.len = 0;
        for (name, value) in fields {
            if self.len == self.pairs.len() {
                self.pairs.push((String::new(), String::new()));
            }
            let pair = &mut self.pairs[self.len];
            pair.0.clear();
            pair.0.push_str(name);
            pair.1.clear();
            pair.1.push_str(value);
            self.len += 1;
        }
        &self.pairs[..self.len]
    }
}

impl Worker {
    fn audit(&mut self, batch: &Batch, bytes: Vec<u8>, settings: &Settings) -> Done {
        let mut done = Done { bytes, tally: Tally::new(&settings.dimensions) };
        for slot in &batch.slots {
            let position = slot.position;
            let result = match &slot.kind {
                SlotKind::Oversize { cap, flag } => Err(SlotKind::oversize_message(*cap, flag)),
                SlotKind::Data(range) => {
                    let bytes = &batch.data[range.clone()];
                    let parsed = if settings.har {
                        parse_har_view(bytes, position, &settings.limits, &mut self.scratch)
                    } else {
                        parse_ndjson_view(bytes, position, &settings.limits, &mut self.scratch)
                    };
                    match parsed {
                        Ok(view) => {
                            // Writing to a Vec cannot fail.
                            let _ = exchange(
                                &view,
                                &mut self.request_headers,
                                &mut self.response_headers,
                                settings,
                                &mut done,
                            );
                            Ok(())
                        }
                        Err(error) => Err(error),
                    }
                }
            };
            if let Err(error) = result {
                done.tally.broken(position.to_string());
                let _ = match settings.format {
                    Format::Text => writeln!(done.bytes, "{position}: unreadable: {error}\n"),
                    Format::Json => writeln!(
                        done.bytes,
                        "{}",
                        json!({"position": position.to_string(), "unreadable": error})
                    ),
                };
            }
        }
        done
    }
}

/// Diagnoses one exchange, prints it when it is to be printed, and counts it.
fn exchange(
    view: &ExchangeView<'_>,
    request_headers: &mut Headers,
    response_headers: &mut Headers,
    settings: &Settings,
    done: &mut Done,
) -> io::Result<()> {
    let out = &mut done.bytes;
    let request_headers = request_headers.fill(&view.request_headers);
    let detected = match settings.api {
        Some(api) => Some((api, "--api".to_owned())),
        None => diagnose::detect(&view.url, request_headers, view.response_body),
    };
    let Some((api, reason)) = detected else {
        done.tally.count(None, view.time, settings.report, |d| {
            tally::group_key(d, None, None, &view.url, view.time)
        });
        if settings.all {
            write_unknown(out, settings.format, view)?;
        }
        return Ok(());
    };
    let message_id = request_headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-message-id"))
        .map(|(_, v)| v.as_str());
    let response_headers = response_headers.fill(&view.response_headers);
    let diagnosis = diagnose::diagnose(
        api,
        reason,
        view.status,
        response_headers,
        view.response_body,
        message_id,
    );
    done.tally.count(Some(&diagnosis), view.time, settings.report, |d| {
        tally::group_key(d, Some(api), Some(&diagnosis), &view.url, view.time)
    });
    if settings.report
        && diagnosis.reading.is_failure()
        && done.tally.failed_rows.len() < MAX_FAILED_ROWS
    {
        done.tally.failed_rows.push(failed_row(view, api, &diagnosis));
    }
    if settings.all || diagnosis.reading.is_failure() || diagnosis.reading.has_violation() {
        write_exchange(out, settings, view, &diagnosis)?;
    }
    Ok(())
}

fn failed_row(view: &ExchangeView<'_>, api: Api, diagnosis: &Diagnosis) -> FailedRow {
    FailedRow {
        position: view.position.to_string(),
        time: view.time,
        request: format!("{} {}", view.method, view.url),
        device: tally::device_of(Some(api), &view.url),
        summary: diagnosis.summary(),
        advice: diagnosis.reading.entry.map(|e| e.advice.clone()).unwrap_or_default(),
        findings: diagnosis.reading.findings.iter().map(ToString::to_string).collect(),
    }
}

fn write_unknown(out: &mut Vec<u8>, format: Format, view: &ExchangeView<'_>) -> io::Result<()> {
    let position = view.position;
    match format {
        Format::Text => writeln!(
            out,
            "{position}  {} {}\n  neither a BRAVIA nor a ThinQ exchange (use --api to force one)\n",
            view.method, view.url
        ),
        Format::Json => writeln!(
            out,
            "{}",
            json!({"position": position.to_string(), "method": view.method, "url": view.url, "api": null})
        ),
    }
}

fn write_exchange(
    out: &mut Vec<u8>,
    settings: &Settings,
    view: &ExchangeView<'_>,
    diagnosis: &Diagnosis,
) -> io::Result<()> {
    let position = view.position;
    match settings.format {
        Format::Text => {
            writeln!(out, "{position}  {} {}", view.method, view.url)?;
            writeln!(out, "  {}", diagnosis.summary())?;
            if let Some(entry) = diagnosis.reading.entry {
                writeln!(out, "  advice: {}", entry.advice)?;
            }
            for finding in &diagnosis.reading.findings {
                writeln!(out, "  {finding}")?;
            }
            writeln!(out)
        }
        Format::Json => {
            let position = position.to_string();
            let line =
                Line { diagnosis, position: &position, method: &view.method, url: &view.url };
            serde_json::to_writer(&mut *out, &line).map_err(io::Error::other)?;
            out.push(b'\n');
            Ok(())
        }
    }
}
