//! The request journal: every exchange a virtual device had, newest kept, oldest dropped.
//!
//! An entry holds the request (method, path, headers with credentials redacted, the start of
//! the body), what came back (status, headers, the start of the body) or that nothing did (a
//! reset, no answer), the code the vendor decoder reads in the response, and the fault rule
//! that fired, if one did. The journal is a ring of a fixed capacity, so a long-running
//! emulator keeps a bounded amount of memory.
//!
//! The fault layer records on every request's path, so it records a raw entry: the bytes
//! as they came and went, copied in a few allocations. Classifying the request, decoding the
//! response, redacting credentials and formatting the time wait until the journal is read:
//! doing them per request cost about a sixth of the emulator's CPU, for entries most of
//! which are evicted unread.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;

use crate::codec::{ApiCodec, Classified};
pub use crate::codec::{Decoded, DecodedCode};

/// How many bytes of a request or response body an entry keeps.
pub const BODY_EXCERPT_BYTES: usize = 4096;

/// How many bytes of one header value an entry keeps; the rest is replaced by a marker saying
/// how many bytes were dropped.
pub const HEADER_VALUE_BYTES: usize = 1024;

/// How much memory the journal's entries of `devfault serve` may take, about: 4 MiB. Past it,
/// the oldest entries go, whatever the entry capacity.
pub const DEFAULT_MAX_BYTES: usize = 4 * 1024 * 1024;

/// What an entry costs besides its bytes (the allocations, the fixed fields), as counted
/// against the journal's byte bound.
const ENTRY_OVERHEAD: usize = 256;

/// Headers whose values are credentials: the journal shows `<redacted>` instead (after the
/// scheme, for `Authorization` and `Proxy-Authorization`). Besides these, any header whose
/// name holds one of [`CREDENTIAL_WORDS`] is redacted too (`x-service-key`, `x-auth-token`).
pub const REDACTED_HEADERS: &[&str] = &[
    "x-auth-psk",
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-service-key",
];

/// Headers kept although their names look like a credential's: ThinQ's `x-api-key` is the
/// SDK's public constant, the same for every user (the README prints it), and the journal
/// shows whether a client sends the right one.
pub const KEPT_HEADERS: &[&str] = &["x-api-key", "www-authenticate", "proxy-authenticate"];

/// Words that make a header name or a query parameter name a credential's: its value is
/// redacted in the journal, unless the header is one of [`KEPT_HEADERS`].
pub const CREDENTIAL_WORDS: &[&str] = &[
    "auth",
    "token",
    "key",
    "secret",
    "passw",
    "psk",
    "cookie",
    "session",
    "signature",
    "credential",
];

/// True when a header's value is a credential (see [`REDACTED_HEADERS`]).
fn is_credential_header(name: &str) -> bool {
    if REDACTED_HEADERS.contains(&name) {
        return true;
    }
    if KEPT_HEADERS.contains(&name) {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    CREDENTIAL_WORDS.iter().any(|word| lower.contains(word))
}

/// A request target with the values of credential-looking query parameters (names holding
/// one of [`CREDENTIAL_WORDS`]: `access_token`, `api_key`, `sig`...) replaced by
/// [`REDACTED`].
pub fn redacted_target(target: &str) -> std::borrow::Cow<'_, str> {
    let Some((path, query)) = target.split_once('?') else {
        return std::borrow::Cow::Borrowed(target);
    };
    let mut changed = false;
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let lower = name.to_ascii_lowercase();
            if !value.is_empty()
                && (CREDENTIAL_WORDS.iter().any(|word| lower.contains(word))
                    || matches!(lower.as_str(), "sig" | "code" | "pin" | "pass" | "pwd"))
            {
                changed = true;
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    if changed {
        std::borrow::Cow::Owned(format!("{path}?{}", parts.join("&")))
    } else {
        std::borrow::Cow::Borrowed(target)
    }
}

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
    pub outcome: Delivery,
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
pub enum Delivery {
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
            path: redacted_target(path).into_owned(),
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

/// Which fault rule fired for a request.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct FiredRule {
    /// The rule's id.
    pub rule: u64,
    /// What it did: the rule's action as written (`code`, `reset`). A name rather than the
    /// fault layer's type, so that the journal does not depend on the layer that records
    /// into it.
    pub action: &'static str,
}

/// Headers as they were, in one allocation: each name and value with its length before it.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub(crate) struct HeaderBlock(Vec<u8>);

impl HeaderBlock {
    /// Copies the names and values of `headers`, in their order.
    pub(crate) fn new(headers: &HeaderMap) -> HeaderBlock {
        let size: usize =
            headers.iter().map(|(name, value)| 8 + name.as_str().len() + value.len()).sum();
        let mut block = Vec::with_capacity(size);
        for (name, value) in headers {
            let value = value.as_bytes();
            let marker;
            let value: &[u8] = if value.len() > HEADER_VALUE_BYTES {
                // Cut, with a marker saying how much went: a huge header costs the journal
                // at most this much.
                marker = [
                    &value[..HEADER_VALUE_BYTES],
                    format!("… [{} bytes dropped]", value.len() - HEADER_VALUE_BYTES).as_bytes(),
                ]
                .concat();
                &marker
            } else {
                value
            };
            for part in [name.as_str().as_bytes(), value] {
                // A header is at most hyper's buffer (far below 4 GiB); saturating keeps a
                // block readable even so, with the part cut.
                let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
                block.extend_from_slice(&len.to_le_bytes());
                block.extend_from_slice(&part[..len as usize]);
            }
        }
        HeaderBlock(block)
    }

    /// The names and values, in their order.
    fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let mut rest = self.0.as_slice();
        std::iter::from_fn(move || {
            let name = take(&mut rest)?;
            let value = take(&mut rest)?;
            // Names were `HeaderName`s, so ASCII; a failure cannot happen, and skipping is
            // the safe answer if it did.
            Some((std::str::from_utf8(name).unwrap_or_default(), value))
        })
    }

    /// The headers as a map again, for a vendor decoder.
    fn to_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in self.iter() {
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value))
            {
                map.append(name, value);
            }
        }
        map
    }
}

/// The next length-prefixed part of a [`HeaderBlock`].
fn take<'b>(rest: &mut &'b [u8]) -> Option<&'b [u8]> {
    let (len, tail) = rest.split_first_chunk::<4>()?;
    let len = (u32::from_le_bytes(*len) as usize).min(tail.len());
    let (part, tail) = tail.split_at(len);
    *rest = tail;
    Some(part)
}

/// A body as the journal keeps it: all of it when it fits in [`BODY_EXCERPT_BYTES`] (the
/// same buffer the exchange used, not a copy), else a copy of its start.
fn kept(body: &Bytes) -> Bytes {
    if body.len() <= BODY_EXCERPT_BYTES {
        body.clone()
    } else {
        Bytes::copy_from_slice(&body[..BODY_EXCERPT_BYTES])
    }
}

/// The service and RPC method of a recorded request.
#[derive(Clone, Debug)]
pub(crate) enum Classification {
    /// Known when it was recorded (the fault rules needed it, or the body was too long to
    /// keep whole).
    Known(Classified),
    /// To ask the codec when the journal is read, from the path and the body kept whole.
    Later,
}

/// A request as the fault layer records it.
#[derive(Clone, Debug)]
pub(crate) struct RawRequest {
    method: axum::http::Method,
    /// The request target (path and query), then the path alone.
    text: String,
    target_len: usize,
    headers: HeaderBlock,
    body: Bytes,
    body_bytes: usize,
    classification: Classification,
}

impl RawRequest {
    /// Records a request. `classified` is what the fault layer already knows; without it,
    /// a body too long to keep whole is classified now, since the journal could not later.
    pub(crate) fn new(
        method: &axum::http::Method,
        target: &str,
        path: &str,
        headers: &HeaderMap,
        body: &Bytes,
        classified: Option<Classified>,
        codec: Option<&Arc<dyn ApiCodec>>,
    ) -> RawRequest {
        let classification = match classified {
            Some(classified) => Classification::Known(classified),
            None if body.len() > BODY_EXCERPT_BYTES => Classification::Known(
                codec.map(|codec| codec.classify(path, body)).unwrap_or_default(),
            ),
            None => Classification::Later,
        };
        let mut text = String::with_capacity(target.len() + path.len());
        text.push_str(target);
        text.push_str(path);
        RawRequest {
            method: method.clone(),
            text,
            target_len: target.len(),
            headers: HeaderBlock::new(headers),
            body: kept(body),
            body_bytes: body.len(),
            classification,
        }
    }

    /// Sets the body length the client declared, for a body left unread.
    pub(crate) fn set_body_bytes(&mut self, declared: usize) {
        self.body_bytes = declared;
    }

    fn build(&self, codec: Option<&Arc<dyn ApiCodec>>) -> RecordedRequest {
        let (target, path) = self.text.split_at(self.target_len);
        let classified = match &self.classification {
            Classification::Known(classified) => classified.clone(),
            Classification::Later => {
                codec.map(|codec| codec.classify(path, &self.body)).unwrap_or_default()
            }
        };
        RecordedRequest {
            method: self.method.as_str().to_owned(),
            path: redacted_target(target).into_owned(),
            headers: redacted_pairs(self.headers.iter()),
            body: excerpt(&self.body),
            body_bytes: self.body_bytes,
            service: classified.service,
            rpc_method: classified.method,
        }
    }
}

/// A response as the fault layer records it.
#[derive(Clone, Debug)]
pub(crate) struct RawResponse {
    status: u16,
    headers: HeaderBlock,
    body: Bytes,
    body_bytes: usize,
    /// Decoded when recorded if the body was too long to keep whole, else when read.
    decoded: Option<Decoded>,
}

impl RawResponse {
    /// Records a response; a body too long to keep whole is decoded now.
    pub(crate) fn new(
        status: u16,
        headers: &HeaderMap,
        body: &Bytes,
        codec: Option<&Arc<dyn ApiCodec>>,
    ) -> RawResponse {
        let decoded = (body.len() > BODY_EXCERPT_BYTES)
            .then(|| codec.map(|codec| codec.decode(status, headers, body)).unwrap_or_default());
        RawResponse {
            status,
            headers: HeaderBlock::new(headers),
            body: kept(body),
            body_bytes: body.len(),
            decoded,
        }
    }

    fn build(&self, codec: Option<&Arc<dyn ApiCodec>>) -> (RecordedResponse, Decoded) {
        let decoded = match &self.decoded {
            Some(decoded) => decoded.clone(),
            None => codec
                .map(|codec| codec.decode(self.status, &self.headers.to_map(), &self.body))
                .unwrap_or_default(),
        };
        let recorded = RecordedResponse {
            status: self.status,
            headers: redacted_pairs(self.headers.iter()),
            body: excerpt(&self.body),
            body_bytes: self.body_bytes,
        };
        (recorded, decoded)
    }
}

/// An exchange as the fault layer records it, made into a [`JournalEntry`] when read.
#[derive(Clone, Debug)]
pub(crate) struct RawEntry {
    /// When the request arrived.
    pub time: SystemTime,
    /// The device's id.
    pub device: Arc<str>,
    /// The device's API.
    pub api: &'static str,
    /// The codec that classifies the request and decodes the response, when the API has one.
    pub codec: Option<Arc<dyn ApiCodec>>,
    /// What the client sent.
    pub request: RawRequest,
    /// Whether the client got an answer.
    pub outcome: Delivery,
    /// What the client got.
    pub response: Option<RawResponse>,
    /// The fault rule that fired.
    pub fault: Option<FiredRule>,
    /// From the request's arrival to the response, in milliseconds.
    pub duration_ms: u64,
}

impl RawEntry {
    /// About how much memory the entry holds, for the journal's byte bound.
    fn size(&self) -> usize {
        let request = &self.request;
        let response = self
            .response
            .as_ref()
            .map_or(0, |response| response.headers.0.len() + response.body.len());
        ENTRY_OVERHEAD
            + request.text.len()
            + request.headers.0.len()
            + request.body.len()
            + self.device.len()
            + response
    }

    fn build(&self, seq: u64) -> JournalEntry {
        let codec = self.codec.as_ref();
        let (response, decoded) = match &self.response {
            Some(response) => {
                let (response, decoded) = response.build(codec);
                (Some(response), decoded)
            }
            None => (None, Decoded::default()),
        };
        JournalEntry {
            seq,
            time: rfc3339_of(self.time),
            device: self.device.as_ref().to_owned(),
            api: self.api.to_owned(),
            request: self.request.build(codec),
            outcome: self.outcome,
            response,
            decoded: decoded.code,
            violations: decoded.violations,
            fault: self.fault,
            duration_ms: self.duration_ms,
        }
    }
}

/// An entry in the ring: built already (recorded by [`Journal::record`]) or raw.
#[derive(Clone, Debug)]
enum Stored {
    Built(Arc<JournalEntry>),
    Raw(u64, Arc<RawEntry>),
}

impl Stored {
    /// About how much memory the entry holds, for the journal's byte bound.
    fn size(&self) -> usize {
        match self {
            Stored::Built(entry) => {
                let request = &entry.request;
                let headers = |map: &BTreeMap<String, String>| -> usize {
                    map.iter().map(|(name, value)| name.len() + value.len()).sum()
                };
                let response = entry
                    .response
                    .as_ref()
                    .map_or(0, |response| headers(&response.headers) + response.body.len());
                ENTRY_OVERHEAD
                    + request.path.len()
                    + headers(&request.headers)
                    + request.body.len()
                    + response
            }
            Stored::Raw(_, raw) => raw.size(),
        }
    }

    fn seq(&self) -> u64 {
        match self {
            Stored::Built(entry) => entry.seq,
            Stored::Raw(seq, _) => *seq,
        }
    }

    fn device(&self) -> &str {
        match self {
            Stored::Built(entry) => &entry.device,
            Stored::Raw(_, raw) => &raw.device,
        }
    }

    fn build(&self) -> JournalEntry {
        match self {
            Stored::Built(entry) => JournalEntry::clone(entry),
            Stored::Raw(seq, raw) => raw.build(*seq),
        }
    }
}

/// Which entries to return.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct JournalQuery {
    /// At most this many, newest first; all when `None`.
    pub limit: Option<usize>,
    /// Only this device's.
    pub device: Option<String>,
}

/// An exchange as it is recorded, for a [`Journal::subscribe`]r: its sequence number and
/// device at once, the whole [`JournalEntry`] built only when asked for (by a subscriber
/// that wants it), as the journal builds its entries only when read.
#[derive(Clone, Debug)]
pub struct Recorded(Stored);

impl Recorded {
    /// The entry's sequence number.
    pub fn seq(&self) -> u64 {
        self.0.seq()
    }

    /// The device's id.
    pub fn device(&self) -> &str {
        self.0.device()
    }

    /// The entry: classified, decoded, redacted.
    pub fn entry(&self) -> JournalEntry {
        self.0.build()
    }
}

/// How many recorded exchanges a slow subscriber may fall behind before it misses some (and
/// is told how many).
pub const SUBSCRIBER_BACKLOG: usize = 256;

/// The bounded journal of exchanges, shared by every device of an emulator.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    max_bytes: usize,
    inner: Mutex<Ring>,
    /// Every recorded exchange, to the live subscribers (the admin API's event stream).
    events: tokio::sync::broadcast::Sender<Recorded>,
    /// How many [`Subscription`]s are alive: without one, recording skips the channel, whose
    /// send takes a lock every display's requests would otherwise contend on.
    subscribers: Arc<AtomicUsize>,
}

/// The exchanges recorded since [`Journal::subscribe`], in the order they are sent (two
/// recorded at the same moment by two connections may arrive in either order).
#[derive(Debug)]
pub struct Subscription {
    receiver: tokio::sync::broadcast::Receiver<Recorded>,
    subscribers: Arc<AtomicUsize>,
}

impl Subscription {
    /// The next exchange; [`RecvError::Lagged`](tokio::sync::broadcast::error::RecvError)
    /// with how many were missed when more than [`SUBSCRIBER_BACKLOG`] came in between.
    pub async fn recv(&mut self) -> Result<Recorded, tokio::sync::broadcast::error::RecvError> {
        self.receiver.recv().await
    }

    /// The next exchange if one is waiting.
    pub fn try_recv(&mut self) -> Result<Recorded, tokio::sync::broadcast::error::TryRecvError> {
        self.receiver.try_recv()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<Stored>,
    /// The sizes of the entries, added up.
    bytes: usize,
    next_seq: u64,
    dropped: u64,
}

impl Journal {
    /// The capacity of `devfault serve`'s journal.
    pub const DEFAULT_CAPACITY: usize = 1000;

    /// A journal that keeps the newest `capacity` entries (0 keeps none).
    pub fn new(capacity: usize) -> Journal {
        let (events, _) = tokio::sync::broadcast::channel(SUBSCRIBER_BACKLOG);
        Journal {
            capacity,
            max_bytes: DEFAULT_MAX_BYTES,
            inner: Mutex::new(Ring { next_seq: 1, ..Ring::default() }),
            events,
            subscribers: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The same journal bounded to about `max_bytes` of entries (default
    /// [`DEFAULT_MAX_BYTES`]): past it, the oldest go. The newest entry is kept whatever its
    /// size (an entry is itself bounded: header values and bodies are cut).
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Journal {
        self.max_bytes = max_bytes;
        self
    }

    /// About how much memory its entries may take.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// About how much memory its entries take now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Every exchange recorded from now on, as it is recorded (even with a capacity of 0). A
    /// subscriber more than [`SUBSCRIBER_BACKLOG`] exchanges behind is told how many it missed.
    /// An exchange recorded while this is called may or may not be sent: read
    /// [`Journal::since`] after subscribing to be sure of it.
    pub fn subscribe(&self) -> Subscription {
        self.subscribers.fetch_add(1, Ordering::Relaxed);
        Subscription {
            receiver: self.events.subscribe(),
            subscribers: Arc::clone(&self.subscribers),
        }
    }

    /// The entry with this sequence number, while the journal still holds it.
    pub fn entry(&self, seq: u64) -> Option<JournalEntry> {
        let stored = {
            let ring = self.lock();
            // Sequence numbers increase along the ring.
            let index = ring.entries.binary_search_by_key(&seq, Stored::seq).ok()?;
            ring.entries[index].clone()
        };
        Some(stored.build())
    }

    /// The entries newer than `seq` (oldest first, at most `limit`), optionally only one
    /// device's: what a subscriber missed between reading the journal and subscribing.
    pub fn since(&self, seq: u64, device: Option<&str>, limit: usize) -> Vec<JournalEntry> {
        let selected: Vec<Stored> = {
            let ring = self.lock();
            let start = ring.entries.partition_point(|entry| entry.seq() <= seq);
            ring.entries
                .range(start..)
                .filter(|entry| device.is_none_or(|device| entry.device() == device))
                .take(limit)
                .cloned()
                .collect()
        };
        selected.iter().map(Stored::build).collect()
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
        self.push(|seq| {
            entry.seq = seq;
            Stored::Built(Arc::new(entry))
        })
    }

    /// Adds an exchange as the fault layer saw it; it becomes a [`JournalEntry`] when read.
    pub(crate) fn record_raw(&self, entry: RawEntry) -> u64 {
        // Allocated before the lock is taken, so the lock is held only for the push.
        let entry = Arc::new(entry);
        self.push(|seq| Stored::Raw(seq, entry))
    }

    fn push(&self, stored: impl FnOnce(u64) -> Stored) -> u64 {
        // The evicted entry is freed after the lock is released: freeing its allocations
        // under the lock made every request of every display wait on it.
        let mut evicted = Vec::new();
        let seq;
        let recorded;
        {
            let mut ring = self.lock();
            seq = ring.next_seq;
            ring.next_seq += 1;
            recorded = stored(seq);
            if self.capacity == 0 {
                ring.dropped += 1;
            } else {
                if ring.entries.len() >= self.capacity
                    && let Some(oldest) = ring.entries.pop_front()
                {
                    ring.dropped += 1;
                    ring.bytes -= oldest.size();
                    evicted.push(oldest);
                }
                ring.bytes += recorded.size();
                ring.entries.push_back(recorded.clone());
                while ring.bytes > self.max_bytes && ring.entries.len() > 1 {
                    let Some(oldest) = ring.entries.pop_front() else { break };
                    ring.dropped += 1;
                    ring.bytes -= oldest.size();
                    evicted.push(oldest);
                }
            }
        }
        drop(evicted);
        // Sent after the lock is released, so a subscriber never waits on the ring; an error
        // only says nobody listens.
        if self.subscribers.load(Ordering::Relaxed) > 0 {
            let _ = self.events.send(Recorded(recorded));
        }
        seq
    }

    /// The entries that `query` selects, newest first.
    pub fn query(&self, query: &JournalQuery) -> Vec<JournalEntry> {
        self.select(query).entries().collect()
    }

    /// The entries that `query` selects, newest first, held as they are stored (no copy):
    /// [`Selected::entries`] builds each one when asked, so an answer can be written entry by
    /// entry and never holds more than the journal does.
    pub fn select(&self, query: &JournalQuery) -> Selected {
        // Only reference counts are taken under the lock; the entries are built (decoded,
        // redacted, formatted) after it is released, so reading the journal does not hold
        // up the devices recording into it.
        let selected: Vec<Stored> = {
            let ring = self.lock();
            ring.entries
                .iter()
                .rev()
                .filter(|entry| {
                    query.device.as_deref().is_none_or(|device| entry.device() == device)
                })
                .take(query.limit.unwrap_or(usize::MAX))
                .cloned()
                .collect()
        };
        Selected(selected)
    }

    /// Forgets every entry; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut ring = self.lock();
        let count = ring.entries.len();
        // Replaced rather than cleared, so that the ring's own buffer is freed too.
        let entries = std::mem::take(&mut ring.entries);
        ring.bytes = 0;
        ring.dropped = 0;
        drop(ring);
        drop(entries);
        count
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        // A panic while holding the lock cannot leave the ring inconsistent: every update is
        // a single push or pop.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Entries a query selected, built into [`JournalEntry`]s one at a time.
#[derive(Debug)]
pub struct Selected(Vec<Stored>);

impl Selected {
    /// How many entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries, newest first, each built when the iterator reaches it.
    pub fn entries(self) -> impl Iterator<Item = JournalEntry> + Send + 'static {
        self.0.into_iter().map(|stored| stored.build())
    }
}

impl Default for Journal {
    fn default() -> Journal {
        Journal::new(Journal::DEFAULT_CAPACITY)
    }
}

/// Header names and values, credentials replaced by [`REDACTED`].
pub fn redacted_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    redacted_pairs(headers.iter().map(|(name, value)| (name.as_str(), value.as_bytes())))
}

/// [`redacted_headers`] of names and values in their order.
fn redacted_pairs<'h>(
    headers: impl Iterator<Item = (&'h str, &'h [u8])>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = if is_credential_header(name) {
            redact(&String::from_utf8_lossy(value), name)
        } else {
            String::from_utf8_lossy(value).into_owned()
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
    if (name == "authorization" || name == "proxy-authorization")
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
    rfc3339_of(SystemTime::now())
}

/// A time as RFC 3339 UTC with milliseconds; the epoch for a time before it.
pub fn rfc3339_of(time: SystemTime) -> String {
    devfault_core::calendar::rfc3339_millis(time)
}

/// Seconds and milliseconds since the Unix epoch as RFC 3339 UTC.
#[cfg(test)]
fn rfc3339(secs: u64, millis: u32) -> String {
    use std::time::{Duration, UNIX_EPOCH};
    rfc3339_of(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis.into()))
}

#[cfg(test)]
#[path = "journal_bounds_tests.rs"]
mod bounds_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::time::UNIX_EPOCH;

    fn entry(device: &str) -> JournalEntry {
        JournalEntry {
            seq: 0,
            time: now_rfc3339(),
            device: device.to_owned(),
            api: "bravia".to_owned(),
            request: RecordedRequest::new("POST", "/sony/system", &HeaderMap::new(), b"{}"),
            outcome: Delivery::Answered,
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
    fn entries_are_found_by_seq_and_after_a_seq() {
        let journal = Journal::new(3);
        for device in ["bravia-0", "bravia-1", "bravia-0", "bravia-1", "bravia-0"] {
            journal.record(entry(device));
        }
        assert_eq!(journal.entry(4).map(|e| e.device), Some("bravia-1".to_owned()));
        assert_eq!(journal.entry(2), None, "evicted");
        assert_eq!(journal.entry(6), None, "not yet recorded");
        let seqs = |entries: Vec<JournalEntry>| entries.iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(seqs(journal.since(0, None, 10)), [3, 4, 5], "oldest first, what is held");
        assert_eq!(seqs(journal.since(3, None, 10)), [4, 5]);
        assert_eq!(seqs(journal.since(3, None, 1)), [4]);
        assert_eq!(seqs(journal.since(0, Some("bravia-0"), 10)), [3, 5]);
        assert!(journal.since(5, None, 10).is_empty());
    }

    #[test]
    fn subscribers_get_every_recorded_exchange_and_are_told_what_they_missed() {
        let journal = Journal::new(0);
        let mut receiver = journal.subscribe();
        journal.record(entry("bravia-1"));
        let recorded = receiver.try_recv().expect("an exchange");
        assert_eq!((recorded.seq(), recorded.device()), (1, "bravia-1"));
        assert_eq!(recorded.entry().device, "bravia-1", "even with a capacity of 0");
        for _ in 0..SUBSCRIBER_BACKLOG + 5 {
            journal.record(entry("bravia-0"));
        }
        assert_eq!(
            receiver.try_recv().unwrap_err(),
            tokio::sync::broadcast::error::TryRecvError::Lagged(5)
        );
        assert_eq!(receiver.try_recv().map(|r| r.seq()).ok(), Some(7));
        drop(receiver);
        assert_eq!(journal.subscribers.load(Ordering::Relaxed), 0, "a dropped one is gone");
        let mut late = journal.subscribe();
        assert!(late.try_recv().is_err(), "nothing recorded before it subscribed");
        journal.record(entry("bravia-0"));
        assert_eq!(late.try_recv().map(|r| r.seq()).ok(), Some(SUBSCRIBER_BACKLOG as u64 + 7));
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
    fn a_header_block_gives_back_the_headers_in_their_order() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.append("cookie", HeaderValue::from_static("a=1"));
        headers.append("cookie", HeaderValue::from_static("b=2"));
        headers.insert("x-opaque", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        headers.insert("x-empty", HeaderValue::from_static(""));
        let block = HeaderBlock::new(&headers);
        assert_eq!(block.to_map(), headers);
        let pairs: Vec<(&str, &[u8])> = block.iter().collect();
        let expected: Vec<(&str, &[u8])> =
            headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())).collect();
        assert_eq!(pairs, expected);
        assert_eq!(redacted_pairs(block.iter()), redacted_headers(&headers));
        assert_eq!(HeaderBlock::new(&HeaderMap::new()).iter().count(), 0);
    }

    /// A raw entry reads as the entry the layer used to build on the request's path: the
    /// same classification, decoding, redaction and excerpts, for short and long bodies.
    #[test]
    fn a_raw_entry_builds_what_the_eager_journal_recorded() {
        let codec: Arc<dyn ApiCodec> = Arc::new(crate::bravia::BraviaCodec);
        let mut request_headers = HeaderMap::new();
        request_headers.insert("x-auth-psk", HeaderValue::from_static("0000"));
        let mut response_headers = HeaderMap::new();
        response_headers.insert("content-type", HeaderValue::from_static("application/json"));
        let short = r#"{"method":"setAudioVolume","params":[{"target":"speaker","volume":"130"}],"id":1,"version":"1.0"}"#;
        let long = format!(
            r#"{{"method":"getPowerStatus","params":[{{"pad":"{}"}}],"id":7,"version":"1.0"}}"#,
            "x".repeat(BODY_EXCERPT_BYTES)
        );
        let error = r#"{"error":[40801,"Volume Out of Range"],"id":1}"#.to_owned();
        let result = format!(r#"{{"result":[{{"pad":"{}"}}],"id":7}}"#, "y".repeat(5000));
        for (request_body, response_body) in [(short.to_owned(), error), (long, result)] {
            let request_body = Bytes::from(request_body);
            let response_body = Bytes::from(response_body);
            let method = axum::http::Method::POST;
            let raw = RawEntry {
                time: UNIX_EPOCH + std::time::Duration::from_millis(1_767_225_599_999),
                device: Arc::from("bravia-0"),
                api: "bravia",
                codec: Some(Arc::clone(&codec)),
                request: RawRequest::new(
                    &method,
                    "/sony/audio?x=1",
                    "/sony/audio",
                    &request_headers,
                    &request_body,
                    None,
                    Some(&codec),
                ),
                outcome: Delivery::Answered,
                response: Some(RawResponse::new(
                    200,
                    &response_headers,
                    &response_body,
                    Some(&codec),
                )),
                fault: None,
                duration_ms: 3,
            };
            let classified = codec.classify("/sony/audio", &request_body);
            let decoded = codec.decode(200, &response_headers, &response_body);
            let mut request =
                RecordedRequest::new("POST", "/sony/audio?x=1", &request_headers, &request_body);
            request.service = classified.service;
            request.rpc_method = classified.method;
            let eager = JournalEntry {
                seq: 9,
                time: "2025-12-31T23:59:59.999Z".to_owned(),
                device: "bravia-0".to_owned(),
                api: "bravia".to_owned(),
                request,
                outcome: Delivery::Answered,
                response: Some(RecordedResponse::new(200, &response_headers, &response_body)),
                decoded: decoded.code,
                violations: decoded.violations,
                fault: None,
                duration_ms: 3,
            };
            let built = raw.build(9);
            assert!(built.request.rpc_method.is_some(), "{built:?}");
            assert_eq!(built, eager);
            let journal = Journal::new(2);
            journal.record_raw(raw);
            assert_eq!(journal.query(&JournalQuery::default())[0].request, eager.request);
        }
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(rfc3339(1_767_225_599, 999), "2025-12-31T23:59:59.999Z");
    }
}
