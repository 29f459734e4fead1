//! The request journal: every exchange a virtual device had, newest kept, oldest dropped.
//!
//! An entry holds the request (method, path, headers with credentials redacted, the start of
//! the body), what came back (status, headers, the start of the body) or that nothing did (a
//! reset, no answer), the code the vendor decoder reads in the response, and the fault rule
//! that fired, if one did. The journal is a ring of a fixed capacity, so a long-running
//! emulator keeps a bounded amount of memory.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use serde::Serialize;

use crate::faults::ActionKind;

/// How many bytes of a request or response body an entry keeps.
pub const BODY_EXCERPT_BYTES: usize = 4096;

/// Headers whose values are credentials: the journal shows `<redacted>` instead (after the
/// scheme, for `Authorization`).
pub const REDACTED_HEADERS: &[&str] = &["x-auth-psk", "authorization", "cookie", "set-cookie"];

/// What the journal shows instead of a credential.
pub const REDACTED: &str = "<redacted>";

/// One exchange between a client and a virtual device.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct JournalEntry {
    /// Position in the order of recording, from 1; never reused, even after a clear.
    pub seq: u64,
    /// When the request arrived, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// The device's id (`bravia-0`).
    pub device: String,
    /// The device's API (`bravia`, `thinq`).
    pub api: String,
    /// What the client sent.
    pub request: RecordedRequest,
    /// Whether the client got an answer.
    pub outcome: Outcome,
    /// What the client got, when it got something.
    pub response: Option<RecordedResponse>,
    /// The code the vendor decoder reads in the response, when it reads one.
    pub decoded: Option<DecodedCode>,
    /// The rules of the API the response breaks, by id (`bravia.ok-without-protocol-body`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<String>,
    /// The fault rule that fired, if one did.
    pub fault: Option<FiredRule>,
    /// From the request's arrival to the response (or the reset), in milliseconds.
    pub duration_ms: u64,
}

/// Whether a request was answered.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An HTTP response was sent.
    Answered,
    /// The connection was reset without a response (a `reset` fault).
    Reset,
    /// The request was held without a response (a `no_answer` fault).
    NoAnswer,
}

/// A request as the journal keeps it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct RecordedRequest {
    /// The HTTP method (`POST`).
    pub method: String,
    /// The path and query (`/sony/system`).
    pub path: String,
    /// Header names (lower case) and values, credentials redacted; repeated headers joined
    /// with `, `.
    pub headers: BTreeMap<String, String>,
    /// The start of the body, decoded as UTF-8 with replacement characters.
    pub body: String,
    /// The body's full length in bytes.
    pub body_bytes: usize,
    /// The service the request addresses (`system` for `/sony/system`), when the API has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The RPC method named in the body (`getPowerStatus`), when readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc_method: Option<String>,
}

impl RecordedRequest {
    /// Records a request: headers redacted, body cut to [`BODY_EXCERPT_BYTES`].
    pub fn new(method: &str, path: &str, headers: &HeaderMap, body: &[u8]) -> RecordedRequest {
        RecordedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            headers: redacted_headers(headers),
            body: excerpt(body),
            body_bytes: body.len(),
            service: None,
            rpc_method: None,
        }
    }
}

/// A response as the journal keeps it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct RecordedResponse {
    /// The HTTP status.
    pub status: u16,
    /// Header names (lower case) and values, credentials redacted.
    pub headers: BTreeMap<String, String>,
    /// The start of the body, decoded as UTF-8 with replacement characters.
    pub body: String,
    /// The body's full length in bytes.
    pub body_bytes: usize,
}

impl RecordedResponse {
    /// Records a response: headers redacted, body cut to [`BODY_EXCERPT_BYTES`].
    pub fn new(status: u16, headers: &HeaderMap, body: &[u8]) -> RecordedResponse {
        RecordedResponse {
            status,
            headers: redacted_headers(headers),
            body: excerpt(body),
            body_bytes: body.len(),
        }
    }
}

/// What a vendor decoder reads in a response.
#[derive(Clone, Default, PartialEq, Eq, Debug, Serialize)]
pub struct Decoded {
    /// The code it carries; `None` for a success or a response without a code.
    pub code: Option<DecodedCode>,
    /// The rules of the API it breaks, by id.
    pub violations: Vec<String>,
}

/// The code a vendor decoder reads in a response.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct DecodedCode {
    /// The code as written on the wire (`40801`, `1101`).
    pub code: String,
    /// The registry's reason for it, when the registry has the code.
    pub reason: Option<String>,
}

/// Which fault rule fired for a request.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct FiredRule {
    /// The rule's id.
    pub rule: u64,
    /// What it did.
    pub action: ActionKind,
}

/// Which entries to return.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct JournalQuery {
    /// At most this many, newest first; all when `None`.
    pub limit: Option<usize>,
    /// Only this device's.
    pub device: Option<String>,
}

/// The bounded journal of exchanges, shared by every device of an emulator.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    inner: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<JournalEntry>,
    next_seq: u64,
    dropped: u64,
}

impl Journal {
    /// The capacity of `devfault serve`'s journal.
    pub const DEFAULT_CAPACITY: usize = 1000;

    /// A journal that keeps the newest `capacity` entries (0 keeps none).
    pub fn new(capacity: usize) -> Journal {
        Journal { capacity, inner: Mutex::new(Ring { next_seq: 1, ..Ring::default() }) }
    }

    /// How many entries it keeps at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many entries it holds now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many entries were dropped to stay within the capacity since the last clear.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Adds an entry, dropping the oldest when full; returns the sequence number given to it.
    pub fn record(&self, mut entry: JournalEntry) -> u64 {
        // The evicted entry is freed after the lock is released: freeing its two dozen
        // allocations under the lock made every request of every display wait on it.
        let evicted;
        let seq;
        {
            let mut ring = self.lock();
            entry.seq = ring.next_seq;
            seq = entry.seq;
            ring.next_seq += 1;
            if self.capacity == 0 {
                ring.dropped += 1;
                return seq;
            }
            evicted = if ring.entries.len() >= self.capacity {
                ring.dropped += 1;
                ring.entries.pop_front()
            } else {
                None
            };
            ring.entries.push_back(entry);
        }
        drop(evicted);
        seq
    }

    /// The entries that `query` selects, newest first.
    pub fn query(&self, query: &JournalQuery) -> Vec<JournalEntry> {
        let ring = self.lock();
        ring.entries
            .iter()
            .rev()
            .filter(|entry| query.device.as_deref().is_none_or(|device| entry.device == device))
            .take(query.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }

    /// Forgets every entry; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut ring = self.lock();
        let count = ring.entries.len();
        ring.entries.clear();
        ring.dropped = 0;
        count
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        // A panic while holding the lock cannot leave the ring inconsistent: every update is
        // a single push or pop.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for Journal {
    fn default() -> Journal {
        Journal::new(Journal::DEFAULT_CAPACITY)
    }
}

/// Header names and values, credentials replaced by [`REDACTED`].
pub fn redacted_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let name = name.as_str();
        let value = if REDACTED_HEADERS.contains(&name) {
            redact(&String::from_utf8_lossy(value.as_bytes()), name)
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        out.entry(name.to_owned())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

/// `Basic <redacted>` for an authorization value (the scheme says which credential was sent),
/// [`REDACTED`] for anything else.
fn redact(value: &str, name: &str) -> String {
    if name == "authorization"
        && let Some((scheme, _)) = value.trim_start().split_once(' ')
    {
        return format!("{scheme} {REDACTED}");
    }
    REDACTED.to_owned()
}

/// The first [`BODY_EXCERPT_BYTES`] of a body, as text.
fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT_BYTES)]).into_owned()
}

/// Now, as RFC 3339 UTC with milliseconds (`2025-01-31T12:00:00.123Z`).
pub fn now_rfc3339() -> String {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    rfc3339(since.as_secs(), since.subsec_millis())
}

/// Seconds and milliseconds since the Unix epoch as RFC 3339 UTC.
fn rfc3339(secs: u64, millis: u32) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Year, month and day of a count of days since 1970-01-01 (Howard Hinnant's algorithm,
/// for dates from 1970 on).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn entry(device: &str) -> JournalEntry {
        JournalEntry {
            seq: 0,
            time: now_rfc3339(),
            device: device.to_owned(),
            api: "bravia".to_owned(),
            request: RecordedRequest::new("POST", "/sony/system", &HeaderMap::new(), b"{}"),
            outcome: Outcome::Answered,
            response: None,
            decoded: None,
            violations: Vec::new(),
            fault: None,
            duration_ms: 0,
        }
    }

    #[test]
    fn keeps_the_newest_entries_up_to_its_capacity() {
        let journal = Journal::new(3);
        for _ in 0..5 {
            journal.record(entry("bravia-0"));
        }
        assert_eq!(journal.len(), 3);
        assert_eq!(journal.dropped(), 2);
        let seqs: Vec<u64> =
            journal.query(&JournalQuery::default()).iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [5, 4, 3], "newest first, the two oldest dropped");
    }

    #[test]
    fn filters_by_device_and_limit() {
        let journal = Journal::new(10);
        for device in ["bravia-0", "bravia-1", "bravia-0", "bravia-1", "bravia-0"] {
            journal.record(entry(device));
        }
        let query = JournalQuery { limit: Some(2), device: Some("bravia-0".to_owned()) };
        let seqs: Vec<u64> = journal.query(&query).iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [5, 3]);
        let query = JournalQuery { limit: None, device: Some("bravia-9".to_owned()) };
        assert!(journal.query(&query).is_empty());
    }

    #[test]
    fn clear_empties_it_and_sequence_numbers_go_on() {
        let journal = Journal::new(10);
        journal.record(entry("bravia-0"));
        journal.record(entry("bravia-0"));
        assert_eq!(journal.clear(), 2);
        assert!(journal.is_empty());
        assert_eq!(journal.record(entry("bravia-0")), 3);
    }

    #[test]
    fn capacity_zero_keeps_nothing() {
        let journal = Journal::new(0);
        journal.record(entry("bravia-0"));
        assert!(journal.is_empty());
        assert_eq!(journal.dropped(), 1);
    }

    #[test]
    fn credentials_are_redacted_and_other_headers_kept() {
        let mut headers = HeaderMap::new();
        headers.insert("x-auth-psk", HeaderValue::from_static("0000"));
        headers.insert("authorization", HeaderValue::from_static("Basic OjEyMzQ="));
        headers.append("cookie", HeaderValue::from_static("auth=secret"));
        headers.append("cookie", HeaderValue::from_static("other=secret"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let recorded = RecordedRequest::new("POST", "/sony/system", &headers, b"{}");
        assert_eq!(recorded.headers["x-auth-psk"], "<redacted>");
        assert_eq!(recorded.headers["authorization"], "Basic <redacted>");
        assert_eq!(recorded.headers["cookie"], "<redacted>, <redacted>");
        assert_eq!(recorded.headers["content-type"], "application/json");
        let text = serde_json::to_string(&recorded).unwrap();
        assert!(!text.contains("0000") && !text.contains("OjEyMzQ") && !text.contains("secret"));
    }

    #[test]
    fn bodies_are_cut_to_the_excerpt_length() {
        let body = vec![b'a'; BODY_EXCERPT_BYTES + 10];
        let recorded = RecordedResponse::new(200, &HeaderMap::new(), &body);
        assert_eq!(recorded.body.len(), BODY_EXCERPT_BYTES);
        assert_eq!(recorded.body_bytes, BODY_EXCERPT_BYTES + 10);
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(rfc3339(1_767_225_599, 999), "2025-12-31T23:59:59.999Z");
    }
}
