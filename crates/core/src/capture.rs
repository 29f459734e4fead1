//! Captures of whole sessions: HAR 1.2 files (browser dev tools, mitmproxy) and devfault's
//! NDJSON (one exchange per line). Both are read as a stream, one exchange at a time, so memory
//! does not grow with the number of exchanges; an entry or line that cannot be read is reported
//! with its position and reading goes on.
//!
//! The NDJSON schema, one object per line:
//!
//! ```json
//! {"request": {"method": "POST", "url": "http://192.168.1.20/sony/audio",
//!              "headers": {"X-Auth-PSK": "0000"}, "body": "{\"method\":\"setAudioVolume\",...}"},
//!  "response": {"status": 200, "headers": {"Content-Type": "application/json"},
//!               "body": "{\"error\":[40801,\"Volume Out of Range\"],\"id\":1}"}}
//! ```
//!
//! `headers` is an object (name → value) or a HAR-style array of `{"name", "value"}`; a body is
//! `body` (text) or `body_base64`; `request` may be left out when only responses were captured.
//! Blank lines are skipped. An optional `time` member (an RFC 3339 date-time, as HAR's
//! `startedDateTime`) says when the exchange started.
//!
//! The fast path ([`NdjsonBatches`], [`HarBatches`], [`parse_ndjson_view`], [`parse_har_view`])
//! cuts a capture into batches of whole items and reads each item borrowed, within [`Limits`];
//! [`read_ndjson`] and [`read_har`] are built on it and hand over owned [`Exchange`]s.

mod batch;
pub mod follow;
mod limits;
pub mod source;
mod time;
mod view;

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use base64::Engine;
use serde_json::Value;

pub use batch::{Batch, HarBatches, NdjsonBatches, Slot, SlotKind, Step};
pub use limits::{Bytes, Limits, parse_size};
pub use time::{format_minute, parse_timestamp};
pub use view::{ExchangeView, Header, Scratch, parse_har_view, parse_ndjson_view};

/// Where an exchange stands in its capture.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Position {
    /// 1-based line of an NDJSON file.
    Line(usize),
    /// 0-based index into a HAR file's `log.entries`.
    Entry(usize),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line(line) => write!(f, "line {line}"),
            Position::Entry(index) => write!(f, "log.entries[{index}]"),
        }
    }
}

/// The request side of an exchange.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CapturedRequest {
    /// HTTP method (`POST`); empty when the capture has no request.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Header fields in order.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// The response side of an exchange.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CapturedResponse {
    /// The status code (HAR uses 0 for "no response"; kept as given).
    pub status: u16,
    /// Header fields in order.
    pub headers: Vec<(String, String)>,
    /// The body bytes, base64-decoded where the capture encoded them.
    pub body: Vec<u8>,
}

/// One request and its response.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Exchange {
    /// Where it stands in the capture.
    pub position: Position,
    /// The request (empty fields when the capture has none).
    pub request: CapturedRequest,
    /// The response.
    pub response: CapturedResponse,
}

/// What a capture reader hands over, one item at a time.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Item {
    /// A readable exchange.
    Exchange(Exchange),
    /// An entry or line that cannot be read, and why.
    Broken {
        /// Where it stands.
        position: Position,
        /// What is wrong with it.
        error: String,
    },
}

/// A capture that cannot be read any further.
#[derive(Debug)]
pub enum CaptureError {
    /// Reading the input failed.
    Io(io::Error),
    /// The HAR document itself is broken (not just one entry): JSON syntax or shape, with the
    /// line and column where reading stopped.
    Har {
        /// What is wrong.
        message: String,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
    },
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Io(err) => write!(f, "cannot read the capture: {err}"),
            CaptureError::Har { message, line, column } => {
                write!(f, "the HAR file is broken at line {line}, column {column}: {message}")
            }
        }
    }
}

impl std::error::Error for CaptureError {}

/// Reads an NDJSON capture line by line (within the default [`Limits`]), handing each item to
/// `each`.
pub fn read_ndjson(reader: impl BufRead, mut each: impl FnMut(Item)) -> io::Result<()> {
    let limits = Limits::DEFAULT;
    let mut batches = NdjsonBatches::new(BufReader::with_capacity(64 * 1024, reader), limits);
    let mut batch = Batch::default();
    let mut scratch = Scratch::default();
    loop {
        let step = batches.next_batch(&mut batch);
        for slot in &batch.slots {
            each(owned_item(&batch, slot, &limits, &mut scratch, parse_ndjson_view));
        }
        match step {
            Step::More => {}
            Step::End => return Ok(()),
            Step::Fatal(CaptureError::Io(e)) => return Err(e),
            Step::Fatal(other) => return Err(io::Error::other(other.to_string())),
        }
    }
}

/// The signature of [`parse_ndjson_view`] and [`parse_har_view`].
type ViewParser =
    for<'a> fn(&'a [u8], Position, &Limits, &'a mut Scratch) -> Result<ExchangeView<'a>, String>;

/// One slot of a batch, read and copied out.
fn owned_item(
    batch: &Batch,
    slot: &Slot,
    limits: &Limits,
    scratch: &mut Scratch,
    parse: ViewParser,
) -> Item {
    let position = slot.position;
    match &slot.kind {
        SlotKind::Oversize { cap, flag } => {
            Item::Broken { position, error: SlotKind::oversize_message(*cap, flag) }
        }
        SlotKind::Data(range) => match parse(&batch.data[range.clone()], position, limits, scratch)
        {
            Ok(view) => Item::Exchange(view.to_exchange()),
            Err(error) => Item::Broken { position, error },
        },
    }
}

impl ExchangeView<'_> {
    /// The exchange with its own copies of every field.
    pub fn to_exchange(&self) -> Exchange {
        let headers =
            |h: &[Header<'_>]| h.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        Exchange {
            position: self.position,
            request: CapturedRequest {
                method: self.method.to_string(),
                url: self.url.to_string(),
                headers: headers(&self.request_headers),
                body: self.request_body.to_vec(),
            },
            response: CapturedResponse {
                status: self.status,
                headers: headers(&self.response_headers),
                body: self.response_body.to_vec(),
            },
        }
    }
}

/// Reads one NDJSON line.
pub fn parse_ndjson_line(line: &[u8], position: Position) -> Result<Exchange, String> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let value: Value = serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    let response = object.get("response").ok_or("no \"response\" member")?;
    let response = CapturedResponse {
        status: status_of(response.get("status"))?,
        headers: headers_of(response.get("headers"), "response")?,
        body: body_of(response, "response")?,
    };
    let request = match object.get("request") {
        None | Some(Value::Null) => CapturedRequest::default(),
        Some(request) => CapturedRequest {
            method: text_of(request.get("method"), "request.method")?,
            url: text_of(request.get("url"), "request.url")?,
            headers: headers_of(request.get("headers"), "request")?,
            body: body_of(request, "request")?,
        },
    };
    Ok(Exchange { position, request, response })
}

fn status_of(value: Option<&Value>) -> Result<u16, String> {
    let value = value.ok_or("the response has no \"status\"")?;
    value
        .as_u64()
        .and_then(|n| u16::try_from(n).ok())
        .filter(|&n| n == 0 || (100..=599).contains(&n))
        .ok_or_else(|| format!("response status {value} is not an HTTP status (100–599, or 0)"))
}

fn text_of(value: Option<&Value>, what: &str) -> Result<String, String> {
    match value {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("{what} must be a string, not {other}")),
    }
}

fn headers_of(value: Option<&Value>, what: &str) -> Result<Vec<(String, String)>, String> {
    let as_text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, v)| {
                as_text(v).map(|v| (name.clone(), v)).ok_or_else(|| {
                    format!("{what} header {name:?} has the value {v}, not a string")
                })
            })
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                let name = item.get("name").and_then(Value::as_str);
                let value = item.get("value").and_then(as_text);
                match (name, value) {
                    (Some(name), Some(value)) => Ok((name.to_owned(), value)),
                    _ => Err(format!("{what} header {item} is not {{\"name\", \"value\"}}")),
                }
            })
            .collect(),
        Some(other) => Err(format!("{what} headers must be an object or an array, not {other}")),
    }
}

fn body_of(side: &Value, what: &str) -> Result<Vec<u8>, String> {
    match (side.get("body"), side.get("body_base64")) {
        (Some(Value::String(text)), None) => Ok(text.clone().into_bytes()),
        (None | Some(Value::Null), Some(Value::String(encoded))) => {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|e| format!("{what}.body_base64 is not base64: {e}"))
        }
        (None | Some(Value::Null), None | Some(Value::Null)) => Ok(Vec::new()),
        (Some(_), Some(_)) => Err(format!("{what} has both body and body_base64")),
        (Some(other), _) | (_, Some(other)) => {
            Err(format!("{what} body must be a string, not {other}"))
        }
    }
}

/// Reads a HAR 1.2 file, handing each entry of `log.entries` to `each` as soon as it is read;
/// only one batch of entries is in memory at a time, each within the default [`Limits`]. Other
/// members of the document are skipped unread.
pub fn read_har(reader: impl Read, mut each: impl FnMut(Item)) -> Result<(), CaptureError> {
    let limits = Limits::DEFAULT;
    let mut batches = HarBatches::new(BufReader::with_capacity(64 * 1024, reader), limits);
    let mut batch = Batch::default();
    let mut scratch = Scratch::default();
    loop {
        let step = batches.next_batch(&mut batch);
        for slot in &batch.slots {
            each(owned_item(&batch, slot, &limits, &mut scratch, parse_har_view));
        }
        match step {
            Step::More => {}
            Step::End => return Ok(()),
            Step::Fatal(e) => return Err(e),
        }
    }
}

/// Reads one HAR entry (an element of `log.entries`).
pub fn parse_har_entry(entry: &Value, position: Position) -> Result<Exchange, String> {
    let request = entry.get("request").ok_or("no \"request\"")?;
    let response = entry.get("response").ok_or("no \"response\"")?;
    let post = request.get("postData");
    let request = CapturedRequest {
        method: text_of(request.get("method"), "request.method")?,
        url: text_of(request.get("url"), "request.url")?,
        headers: headers_of(request.get("headers"), "request")?,
        body: match post {
            None | Some(Value::Null) => Vec::new(),
            Some(post) => har_text(post, "request.postData")?,
        },
    };
    let response = CapturedResponse {
        status: status_of(response.get("status"))?,
        headers: headers_of(response.get("headers"), "response")?,
        body: match response.get("content") {
            None | Some(Value::Null) => Vec::new(),
            Some(content) => har_text(content, "response.content")?,
        },
    };
    Ok(Exchange { position, request, response })
}

/// A HAR `content` or `postData` text, base64-decoded when `encoding` says so.
fn har_text(holder: &Value, what: &str) -> Result<Vec<u8>, String> {
    let text = text_of(holder.get("text"), &format!("{what}.text"))?;
    match holder.get("encoding").and_then(Value::as_str) {
        Some("base64") => base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| format!("{what}.text is marked base64 but is not: {e}")),
        Some(other) if !other.is_empty() => {
            Err(format!("{what}.encoding {other:?} is not supported (only base64)"))
        }
        _ => Ok(text.into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect_ndjson(text: &str) -> Vec<Item> {
        let mut items = Vec::new();
        read_ndjson(text.as_bytes(), |item| items.push(item)).expect("reads");
        items
    }

    #[test]
    fn ndjson_lines_become_exchanges_and_broken_lines_are_reported() {
        let text = concat!(
            r#"{"request":{"method":"POST","url":"http://tv/sony/audio","headers":{"X-Auth-PSK":"0000"},"body":"{}"},"response":{"status":200,"headers":[{"name":"Content-Type","value":"application/json"}],"body":"{\"result\":[],\"id\":1}"}}"#,
            "\n\n",
            "{not json\n",
            r#"{"response":{"status":416,"body_base64":"e30="}}"#,
            "\n",
            r#"{"response":{"status":999}}"#,
        );
        let items = collect_ndjson(text);
        assert_eq!(items.len(), 4);
        let Item::Exchange(first) = &items[0] else { panic!("{:?}", items[0]) };
        assert_eq!(first.request.headers, [("X-Auth-PSK".to_owned(), "0000".to_owned())]);
        assert_eq!(first.response.headers[0].1, "application/json");
        assert!(
            matches!(&items[1], Item::Broken { position: Position::Line(3), error } if error.starts_with("not JSON"))
        );
        let Item::Exchange(third) = &items[2] else { panic!("{:?}", items[2]) };
        assert_eq!(
            (third.position, third.response.body.as_slice()),
            (Position::Line(4), b"{}".as_slice())
        );
        assert!(third.request.method.is_empty());
        assert!(
            matches!(&items[3], Item::Broken { position: Position::Line(5), error } if error.contains("999"))
        );
    }

    const HAR: &str = r#"{"log": {"version": "1.2", "creator": {"name": "x", "version": "1"},
      "pages": [{"big": [1, 2, 3]}],
      "entries": [
        {"request": {"method": "POST", "url": "https://api-aic.lgthinq.com/devices", "headers": [{"name": "x-message-id", "value": "fNvdZ1brTn-wWKUlWGoSVw"}], "postData": {"mimeType": "application/json", "text": "{}"}},
         "response": {"status": 401, "headers": [], "content": {"size": 10, "mimeType": "application/json", "encoding": "base64", "text": "eyJhIjoxfQ=="}}},
        {"request": {"method": "GET"}},
        {"request": {"method": "GET", "url": "u"}, "response": {"status": 200, "content": {"text": "%%%", "encoding": "base64"}}}
      ]}}"#;

    #[test]
    fn har_entries_stream_with_base64_bodies() {
        let mut items = Vec::new();
        read_har(HAR.as_bytes(), |item| items.push(item)).expect("reads");
        assert_eq!(items.len(), 3);
        let Item::Exchange(first) = &items[0] else { panic!("{:?}", items[0]) };
        assert_eq!(first.position, Position::Entry(0));
        assert_eq!(first.response.body, b"{\"a\":1}");
        assert_eq!(first.request.body, b"{}");
        assert!(
            matches!(&items[1], Item::Broken { position: Position::Entry(1), error } if error.contains("response"))
        );
        assert!(matches!(&items[2], Item::Broken { error, .. } if error.contains("base64")));
    }

    #[test]
    fn a_broken_har_document_says_where() {
        let truncated = &HAR[..HAR.len() - 40];
        let mut count = 0;
        let err = read_har(truncated.as_bytes(), |_| count += 1).expect_err("truncated");
        assert!(matches!(err, CaptureError::Har { line, .. } if line > 1), "{err}");
        assert_eq!(count, 2, "the entries before the break were still handed over");
        assert!(matches!(read_har(&b"{\"log\":{}}"[..], |_| {}), Err(CaptureError::Har { .. })));
        assert!(matches!(read_har(&b"[1,2]"[..], |_| {}), Err(CaptureError::Har { .. })));
        assert!(matches!(
            read_har(&b"{\"log\":{\"entries\":[]}} x"[..], |_| {}),
            Err(CaptureError::Har { .. })
        ));
    }
}
