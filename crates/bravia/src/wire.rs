//! The BRAVIA wire layer: requests checked against the code-5 rule, responses decoded totally,
//! error replies encoded from registry rows.
//!
//! - [`validate_request`] says exactly which condition of `[5, "Illegal Request"]` a request
//!   body breaks, so a server answers it and a client learns what to fix.
//! - [`decode_response`] turns any status and any bytes into a [`Response`]: what the body says
//!   (result, error, no body, unreadable body), the registry row the error names, the parsed
//!   `Retry-After`, and [`Finding`]s for every rule broken ([`Severity::Violation`]) and every
//!   real-device variant accepted ([`Severity::Tolerated`]). It never panics and never drops a
//!   value: members it does not understand are kept in `extra`.
//! - [`encode_error`] and [`encode_success`] write the bodies a conforming display sends, with the
//!   status taken from the registry row, so a server cannot pair a code with the wrong status.
//!
//! ```
//! use devfault_bravia::Code;
//! use devfault_bravia::wire::{decode_response, encode_error, ResponseBody};
//!
//! let (status, body) = encode_error(Code::VOLUME_OUT_OF_RANGE.entry(), Some(1));
//! assert_eq!(body, br#"{"error":[40801,"Volume Out of Range"],"id":1}"#);
//! let response =
//!     decode_response(status.as_u16(), [("Content-Type", "application/json")], &body);
//! let ResponseBody::Error(reply) = &response.body else { panic!("an error reply") };
//! assert_eq!(reply.code, Code::VOLUME_OUT_OF_RANGE);
//! assert!(response.is_conforming());
//!
//! // A real Android TV powering down: no id. Accepted, and said so.
//! let response = decode_response(404, [], br#"{"error":[404,"Not Found"]}"#);
//! assert_eq!(response.entry().map(|e| e.code), Some(404));
//! assert!(response.findings.iter().any(|f| f.rule == devfault_bravia::wire::rule::MISSING_ID));
//! ```

use std::fmt;

use devfault_core::{Entry, Finding, HttpStatus, Reading, ReadingKind, RetryAfter, Severity};
use serde::Deserialize;
use serde::de::Deserializer;
use serde_json::{Map, Number, Value};

use crate::{Code, registry};

devfault_core::rule_table! {
    STATUS_CODE_MISMATCH = "bravia.status-code-mismatch":
        "a non-200 response carries a protocol error body whose code differs from the HTTP status",
    RPC_CODE_ON_HTTP_ERROR = "bravia.rpc-code-on-http-error":
        "a JSON-RPC-level code (one that travels with 200) is sent with a non-200 HTTP status",
    HTTP_CODE_ON_OK = "bravia.http-code-on-ok":
        "an HTTP-layer code (401, 403, 404, 413, 414, 501, 503) is sent in the body of a 200 OK",
    RESULT_ON_HTTP_ERROR = "bravia.result-on-http-error":
        "a non-200 response carries a result body instead of an error with the same code",
    OK_WITHOUT_PROTOCOL_BODY = "bravia.ok-without-protocol-body":
        "a 200 OK carries no body, or a body that is not a JSON object",
    RESULT_AND_ERROR = "bravia.result-and-error":
        "the body has both result and error; exactly one is allowed",
    NO_RESULT_OR_ERROR = "bravia.no-result-or-error":
        "the body is a JSON object with neither result nor error",
    RESULT_NOT_ARRAY = "bravia.result-not-array":
        "result is not an array",
    MALFORMED_ERROR = "bravia.malformed-error":
        "error is not [code, message]: a missing or non-string message, or no usable code",
    INVALID_ID = "bravia.invalid-id":
        "id is not a non-negative integer",
    CODE_OUT_OF_SPACE = "bravia.code-out-of-space":
        "the error code is not an integer from 0 to 65535, the page's code space",
    CONTENT_TYPE_NOT_JSON = "bravia.content-type-not-json":
        "a protocol body is sent without a JSON Content-Type",
    RETRY_AFTER_UNPARSEABLE = "bravia.retry-after-unparseable":
        "Retry-After is neither delay-seconds nor an HTTP-date (RFC 9110 section 10.2.3)",
    MISSING_ID = "bravia.missing-id":
        "the reply has no id (or a null one); real Android TVs send errors so while powering down",
    JSONRPC2_ERROR_OBJECT = "bravia.jsonrpc2-error-object":
        "error is a JSON-RPC 2.0 object {code, message} instead of the [code, message] array",
    EXTRA_MEMBER = "bravia.extra-member":
        "the body has members beyond result, error and id (auth_url, jsonrpc...), kept in extra",
    UNLISTED_MESSAGE = "bravia.unlisted-message":
        "the message differs from every message the registry has for the code",
    LONG_ERROR_ARRAY = "bravia.long-error-array":
        "the error array has more than two elements; the rest are kept in details",
    UNLISTED_CODE = "bravia.unlisted-code":
        "the code is in the 0-65535 space but the registry has no row for it",
    NULL_MEMBER = "bravia.null-member":
        "the unused one of result and error is present as null (JSON-RPC 1.0 style)",
    RESULTS_MEMBER = "bravia.results-member":
        "the success is under results (plural), as real displays answer getMethodTypes",
}

/// The seed's HTTP rule, quoted in findings.
const HTTP_RULE: &str = "\"If the HTTP status code is anything other than 200 OK. and if the HTTP server returns a response body in accordance with the REST API protocol, the error code must be same as the HTTP error code.\"";

/// The seed's policy against JSON-RPC codes on HTTP errors, quoted in findings.
const NO_FORCED_MAPPING: &str = "\"Should not map others to HTTP errors forcibly.\"";

/// The most characters of a body or value that an excerpt or message shows.
const EXCERPT_CHARS: usize = 160;

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// The largest request id Sony's JSON-RPC dialect accepts (ids run from 1, never 0).
pub const MAX_REQUEST_ID: u64 = 2_147_483_647;

/// A request body that passed every check of the code-5 rule.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Request {
    /// The method name, e.g. `getPowerStatus`; never empty.
    pub method: String,
    /// The id the reply must echo, 1 to [`MAX_REQUEST_ID`].
    pub id: u64,
    /// The parameters: `[]` or, for most methods, one object.
    pub params: Vec<Value>,
    /// The method's version, `"X.Y"` digits (`"1.0"`).
    pub version: String,
}

/// Which condition of the code-5 rule a request body breaks.
///
/// The page answers all of them with `[5, "Illegal Request"]` ([`RequestError::code`]); the
/// variant says which, and carries the offending value so the message can name it.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum RequestError {
    /// The body is empty or only whitespace.
    Empty,
    /// The body is not JSON.
    NotJson {
        /// The parser's account of where it failed.
        error: String,
        /// The start of the body, lossily decoded as UTF-8.
        excerpt: String,
    },
    /// The body is JSON but not an object.
    NotObject(Value),
    /// The object has no `id` member.
    MissingId,
    /// `id` is not an integer from 1 to [`MAX_REQUEST_ID`] (0, negative, a string, null...).
    InvalidId(Value),
    /// The object has no `method` member, or it is the empty string.
    MissingMethod,
    /// `method` is not a string.
    MethodNotString(Value),
    /// The object has no `params` member.
    MissingParams,
    /// `params` is not an array.
    ParamsNotArray(Value),
    /// The object has no `version` member.
    MissingVersion,
    /// `version` is not a string of the form `"X.Y"` with X and Y decimal digits.
    InvalidVersion(Value),
}

impl RequestError {
    /// The code a display answers with: `5` ("Illegal Request") for every variant.
    pub fn code(&self) -> Code {
        Code::ILLEGAL_REQUEST
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHAPE: &str =
            r#"send {"method": "getPowerStatus", "id": 1, "params": [], "version": "1.0"}"#;
        match self {
            RequestError::Empty => write!(f, "the request body is empty; {SHAPE}"),
            RequestError::NotJson { error, excerpt } => {
                write!(f, "the request body {excerpt:?} is not JSON ({error}); {SHAPE}")
            }
            RequestError::NotObject(value) => {
                write!(f, "the request body {} is not a JSON object; {SHAPE}", short(value))
            }
            RequestError::MissingId => {
                write!(f, "the request has no id; send an integer id from 1 to {MAX_REQUEST_ID}")
            }
            RequestError::InvalidId(value) => write!(
                f,
                "the request id {} is invalid; send an integer from 1 to {MAX_REQUEST_ID}",
                short(value)
            ),
            RequestError::MissingMethod => write!(
                f,
                "the request has no method; send the method name as a non-empty string, e.g. \"getPowerStatus\""
            ),
            RequestError::MethodNotString(value) => write!(
                f,
                "the request method {} is not a string; send the method name as a string, e.g. \"getPowerStatus\"",
                short(value)
            ),
            RequestError::MissingParams => write!(
                f,
                "the request has no params; send params as an array, [] when the method takes none"
            ),
            RequestError::ParamsNotArray(value) => write!(
                f,
                "the request params {} is not an array; send an array, e.g. [] or [{{\"status\": true}}]",
                short(value)
            ),
            RequestError::MissingVersion => write!(
                f,
                "the request has no version; send the method's version as an \"X.Y\" string, e.g. \"1.0\""
            ),
            RequestError::InvalidVersion(value) => write!(
                f,
                "the request version {} is not an \"X.Y\" string of digits; send e.g. \"1.0\"",
                short(value)
            ),
        }
    }
}

impl std::error::Error for RequestError {}

/// Checks a request body against the code-5 rule ("the request body is empty, has no ID or has
/// an invalid ID, has no method, has no params, or the params is not an array") and the
/// envelope's other requirements (a JSON object, a string method, a mandatory `"X.Y"` version).
///
/// Conditions are checked in that order and the first broken one is returned. Members beyond
/// the four are ignored, as displays ignore them.
pub fn validate_request(body: &[u8]) -> Result<Request, RequestError> {
    if let Some(request) = plain_request(body) {
        return Ok(request);
    }
    checked_request(body)
}

/// The common case in one pass, without building a JSON object: an object with exactly the
/// four members, each of the right type and value. `None` for anything else (an unknown or
/// repeated member, a wrong type, an id out of range, a non-JSON body...), which
/// [`checked_request`] then checks one condition at a time. Every body this accepts,
/// `checked_request` accepts with the same result (the tests compare the two).
fn plain_request(body: &[u8]) -> Option<Request> {
    /// Unknown members are refused so that every byte goes through the same parsers as in
    /// `checked_request` (skipping a member checks less: no depth limit, no UTF-8 check).
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Plain {
        id: u64,
        method: String,
        params: Vec<Value>,
        version: String,
    }
    // An array would fill the struct by position.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let plain: Plain = serde_json::from_slice(body).ok()?;
    let usable = (1..=MAX_REQUEST_ID).contains(&plain.id)
        && !plain.method.is_empty()
        && is_version(&plain.version);
    usable.then_some(Request {
        method: plain.method,
        id: plain.id,
        params: plain.params,
        version: plain.version,
    })
}

/// [`validate_request`] one condition at a time, in the documented order.
fn checked_request(body: &[u8]) -> Result<Request, RequestError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(RequestError::Empty);
    }
    let value: Value = serde_json::from_slice(body).map_err(|error| RequestError::NotJson {
        error: error.to_string(),
        excerpt: excerpt(body),
    })?;
    let Value::Object(mut object) = value else {
        return Err(RequestError::NotObject(value));
    };
    let id = match object.remove("id") {
        None => return Err(RequestError::MissingId),
        Some(value) => match value.as_u64() {
            Some(id) if (1..=MAX_REQUEST_ID).contains(&id) => id,
            _ => return Err(RequestError::InvalidId(value)),
        },
    };
    let method = match object.remove("method") {
        None => return Err(RequestError::MissingMethod),
        Some(Value::String(method)) if method.is_empty() => {
            return Err(RequestError::MissingMethod);
        }
        Some(Value::String(method)) => method,
        Some(value) => return Err(RequestError::MethodNotString(value)),
    };
    let params = match object.remove("params") {
        None => return Err(RequestError::MissingParams),
        Some(Value::Array(params)) => params,
        Some(value) => return Err(RequestError::ParamsNotArray(value)),
    };
    let version = match object.remove("version") {
        None => return Err(RequestError::MissingVersion),
        Some(Value::String(version)) if is_version(&version) => version,
        Some(value) => return Err(RequestError::InvalidVersion(value)),
    };
    Ok(Request { method, id, params, version })
}

/// `"X.Y"` with X and Y one or more ASCII digits.
fn is_version(text: &str) -> bool {
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    text.split_once('.').is_some_and(|(major, minor)| digits(major) && digits(minor))
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/// A decoded response: what it says, and what was noticed about how it says it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Response {
    /// The HTTP status, as received (even outside 100–599).
    pub status: u16,
    /// What the body says.
    pub body: ResponseBody,
    /// Rules broken and variants tolerated, in the order they were noticed.
    pub findings: Vec<Finding>,
    /// The `Retry-After` header, when present and parseable (an unparseable one is a finding).
    pub retry_after: Option<RetryAfter>,
}

/// What a response body says.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ResponseBody {
    /// `{"result": [...], "id": N}`.
    Success {
        /// The result array. A `result` that is not an array (a violation) is kept as its only
        /// element.
        result: Vec<Value>,
        /// The id, when it is a non-negative integer.
        id: Option<u64>,
        /// Members beyond `result` and `id`, and an `id` that is not a non-negative integer.
        extra: Map<String, Value>,
    },
    /// `{"error": [code, "message"], "id": N}` or a tolerated variant of it.
    Error(ErrorReply),
    /// No body at all (empty or only whitespace): how displays often answer 401 and 403.
    Bare,
    /// A body that is not a protocol body: not JSON, truncated JSON, HTML, a JSON value that is
    /// not an object, an object without result or error, an error member without a code.
    Unreadable {
        /// Why the body is not a protocol body.
        reason: String,
        /// The start of the body, lossily decoded as UTF-8 (at most 160 characters and `…`).
        excerpt: String,
    },
}

/// An error reply, with the registry row it names.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ErrorReply {
    /// The code as sent: in the 0–65535 space, or kept as the raw number when not.
    pub code: ReplyCode,
    /// The message as sent. A non-string message (a violation) is kept as its JSON text.
    pub message: String,
    /// The id, when it is a non-negative integer.
    pub id: Option<u64>,
    /// The registry row: the one whose message equals `message` exactly (so `[7, "not
    /// power-on"]` gives the observed row), else the code's documented row; `None` for a code
    /// the registry lacks.
    pub entry: Option<&'static Entry>,
    /// Which shape `error` had.
    pub form: ErrorForm,
    /// What `error` held beyond code and message: for the array form the elements after the
    /// message; for the object form one object of the members besides `code` and `message`.
    pub details: Vec<Value>,
    /// Members beyond `error` and `id` (`auth_url`, `jsonrpc`, a `result` sent alongside the
    /// error), and an `id` that is not a non-negative integer.
    pub extra: Map<String, Value>,
}

/// The shape of an `error` member.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ErrorForm {
    /// `[code, "message"]`, the page's form.
    Array,
    /// `{"code": N, "message": "..."}`, JSON-RPC 2.0's form, sent by some devices.
    JsonRpc2Object,
}

/// An error code as it came off the wire.
///
/// [`Code`] covers the page's space, 0–65535; a number outside it (`99999`, `-1`, `7.5`) is
/// not a `Code`, but it is still what the device said, so it is kept whole rather than clamped
/// or dropped (and reported as [`rule::CODE_OUT_OF_SPACE`]).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ReplyCode {
    /// A code of the 0–65535 space, listed in the registry or not.
    InSpace(Code),
    /// A number outside the space, exactly as parsed.
    OutOfSpace(Number),
}

impl ReplyCode {
    /// The code, when it is in the space.
    pub fn code(&self) -> Option<Code> {
        match self {
            ReplyCode::InSpace(code) => Some(*code),
            ReplyCode::OutOfSpace(_) => None,
        }
    }
}

impl PartialEq<Code> for ReplyCode {
    fn eq(&self, other: &Code) -> bool {
        self.code() == Some(*other)
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyCode::InSpace(code) => write!(f, "{code}"),
            ReplyCode::OutOfSpace(number) => write!(f, "{number}"),
        }
    }
}

impl Response {
    /// The registry row the response stands for: the error reply's row, or, for a bare or
    /// unreadable body, the HTTP row of the status (401, 403, 404, 413, 414, 501, 503).
    pub fn entry(&self) -> Option<&'static Entry> {
        match &self.body {
            ResponseBody::Error(reply) => reply.entry,
            ResponseBody::Bare | ResponseBody::Unreadable { .. } => registry()
                .rows(u32::from(self.status))
                .find(|e| e.http_status.as_u16() == self.status && e.http_status != HttpStatus::OK),
            ResponseBody::Success { .. } => None,
        }
    }

    /// The error reply, if the body is one.
    pub fn error(&self) -> Option<&ErrorReply> {
        match &self.body {
            ResponseBody::Error(reply) => Some(reply),
            _ => None,
        }
    }

    /// True when no finding is a violation: a conforming display could have sent this.
    pub fn is_conforming(&self) -> bool {
        self.findings.iter().all(|f| f.severity != Severity::Violation)
    }

    /// The vendor-neutral [`Reading`] of this response, which the CLI's diagnosis and the
    /// emulator's journal both read: the code as sent (an out-of-space number too), the message,
    /// [`Response::entry`] (so a bare 401 stands for row 401), the findings and `Retry-After`.
    ///
    /// ```
    /// use devfault_bravia::wire::decode_response;
    /// use devfault_core::ReadingKind;
    /// let reading = decode_response(200, [], br#"{"error":[40801,"Volume Out of Range"],"id":1}"#)
    ///     .into_reading();
    /// assert_eq!((reading.kind, reading.code.as_deref()), (ReadingKind::Error, Some("40801")));
    /// assert_eq!(decode_response(401, [], b"").into_reading().entry.map(|e| e.code), Some(401));
    /// ```
    pub fn into_reading(self) -> Reading {
        let entry = self.entry();
        let (kind, code, message) = match self.body {
            ResponseBody::Success { .. } => (ReadingKind::Success, None, None),
            ResponseBody::Error(reply) => {
                (ReadingKind::Error, Some(reply.code.to_string()), Some(reply.message))
            }
            ResponseBody::Bare => (ReadingKind::Bare, None, None),
            ResponseBody::Unreadable { reason, excerpt } => {
                (ReadingKind::Unreadable { reason, excerpt }, None, None)
            }
        };
        Reading {
            status: self.status,
            kind,
            code,
            message,
            entry,
            findings: self.findings,
            retry_after: self.retry_after,
        }
    }
}

/// Decodes any response: every status, every header set and every body gives a [`Response`].
///
/// Header names are matched case-insensitively; the first `Content-Type` and the first
/// `Retry-After` count. A canonical error reply is read straight off the bytes and a canonical
/// success through a borrowing serde struct, with no generic JSON tree; anything else is parsed
/// generically and every deviation becomes a finding.
pub fn decode_response<'h>(
    status: u16,
    headers: impl IntoIterator<Item = (&'h str, &'h str)>,
    body: &[u8],
) -> Response {
    let mut findings = Vec::new();
    let (mut content_type, mut retry_after_header) = (None, None);
    for (name, value) in headers {
        if content_type.is_none() && is_header(name, "Content-Type", "content-type") {
            content_type = Some(value);
        } else if retry_after_header.is_none() && is_header(name, "Retry-After", "retry-after") {
            retry_after_header = Some(value);
        }
    }
    let retry_after = retry_after_header.and_then(|value| {
        // Both RFC 9110 forms are ASCII. Checking first also keeps non-ASCII text away from
        // `RetryAfter::parse`, which slices by byte offsets and panics on some 29-byte
        // non-ASCII values ("Moé 06 Nov 1994 08:49:37 GMT").
        let parsed = if value.is_ascii() { RetryAfter::parse(value) } else { None };
        if parsed.is_none() {
            findings.push(Finding::violation(
                rule::RETRY_AFTER_UNPARSEABLE,
                format!(
                    "Retry-After {value:?} is neither delay-seconds nor an HTTP-date (RFC 9110 section 10.2.3); ignored"
                ),
            ));
        }
        parsed
    });
    let said = decode_body(status, body, &mut findings);
    if matches!(said, ResponseBody::Success { .. } | ResponseBody::Error(_)) {
        check_content_type(content_type, &mut findings);
    }
    check_status(status, &said, &mut findings);
    Response { status, body: said, findings, retry_after }
}

/// Whether a header `name` is `canonical` in any case; the two usual spellings are compared
/// first, byte for byte, which is cheaper than folding case.
fn is_header(name: &str, canonical: &str, lower: &str) -> bool {
    name == canonical || name == lower || name.eq_ignore_ascii_case(lower)
}

/// A member that is either absent or holds a `T`; unlike `Option`, `null` is not absent (it
/// fails, sending the body to the tolerant path, which reports it).
#[derive(Default)]
enum Member<T> {
    #[default]
    Absent,
    Present(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Member<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Member::Present)
    }
}

/// The canonical body, exactly: `result` (an array) or `error` (`[code, "message"]` with the
/// code in the space), an integer `id`, nothing else. Serde matches the member names against
/// the input in place and builds no generic tree. Error replies with a plain message never get
/// here: [`scan_error`] reads them faster still.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Canonical {
    #[serde(default)]
    result: Member<Vec<Value>>,
    #[serde(default)]
    error: Member<(u16, String)>,
    id: u64,
}

/// The body's outcome, with the shape findings. Three tiers, each falling through to the next
/// on anything it does not accept: the error-reply scanner, the canonical serde struct, the
/// tolerant generic parse.
fn decode_body(status: u16, body: &[u8], findings: &mut Vec<Finding>) -> ResponseBody {
    if body.iter().all(u8::is_ascii_whitespace) {
        if status == 200 {
            findings.push(Finding::violation(
                rule::OK_WITHOUT_PROTOCOL_BODY,
                "200 OK with an empty body; a display answers {\"result\": [...], \"id\": N} or {\"error\": [code, \"message\"], \"id\": N}",
            ));
        }
        return ResponseBody::Bare;
    }
    if let Some(ScannedError { code, message, id }) = scan_error(body) {
        // Comparing bytes with the registry's messages first spares the UTF-8 check for every
        // message the registry knows; only other messages are validated.
        let exact = registry().rows(u32::from(code)).find(|row| row.message.as_bytes() == message);
        let message = match exact {
            Some(row) => Some(row.message.clone()),
            None => std::str::from_utf8(message).ok().map(str::to_owned),
        };
        // Invalid UTF-8 falls through: the tolerant path reports the body unreadable.
        if let Some(message) = message {
            let reply = ErrorReply {
                code: ReplyCode::InSpace(Code::from_static(code)),
                message,
                id: Some(id),
                entry: exact,
                form: ErrorForm::Array,
                details: Vec::new(),
                extra: Map::new(),
            };
            return ResponseBody::Error(if exact.is_some() {
                reply
            } else {
                attach_entry(reply, findings)
            });
        }
    }
    if let Ok(canonical) = serde_json::from_slice::<Canonical>(body) {
        match (canonical.result, canonical.error) {
            (Member::Present(result), Member::Absent) => {
                return ResponseBody::Success { result, id: Some(canonical.id), extra: Map::new() };
            }
            (Member::Absent, Member::Present((code, message))) => {
                return ResponseBody::Error(attach_entry(
                    ErrorReply {
                        code: ReplyCode::InSpace(Code::from_static(code)),
                        message,
                        id: Some(canonical.id),
                        entry: None,
                        form: ErrorForm::Array,
                        details: Vec::new(),
                        extra: Map::new(),
                    },
                    findings,
                ));
            }
            // Both or neither: the tolerant path says which, with the values.
            _ => {}
        }
    }
    decode_tolerant(status, body, findings)
}

/// What [`scan_error`] read.
#[derive(PartialEq, Eq, Debug)]
struct ScannedError<'a> {
    code: u16,
    /// The message's bytes, not yet checked to be UTF-8.
    message: &'a [u8],
    id: u64,
}

/// Reads `{"error":[code,"message"],"id":N}` (members in either order, JSON whitespace between
/// any tokens) straight off the bytes, borrowing the message (its UTF-8 is checked by the
/// caller, which can often skip the check).
///
/// Error replies are what a diagnosis decodes most, and even a borrowed serde struct spends
/// most of its time in generic machinery; this reads the one shape directly. It accepts a
/// strict subset of JSON: names and message without escapes or control characters, integers
/// without sign, fraction, exponent or leading zero, the code within 0-65535, each member once,
/// nothing after the object. Anything else is `None`, and the serde tiers decide.
fn scan_error(body: &[u8]) -> Option<ScannedError<'_>> {
    let mut scan = Scanner { rest: body };
    scan.byte(b'{')?;
    let (mut error, mut id) = (None, None);
    loop {
        let name = scan.plain_string()?;
        scan.byte(b':')?;
        match name {
            b"error" if error.is_none() => {
                scan.byte(b'[')?;
                let code = u16::try_from(scan.integer()?).ok()?;
                scan.byte(b',')?;
                let message = scan.plain_string()?;
                scan.byte(b']')?;
                error = Some((code, message));
            }
            b"id" if id.is_none() => id = Some(scan.integer()?),
            _ => return None,
        }
        match scan.token()? {
            b',' => {}
            b'}' => break,
            _ => return None,
        }
    }
    scan.skip_whitespace();
    if !scan.rest.is_empty() {
        return None;
    }
    let (code, message) = error?;
    Some(ScannedError { code, message, id: id? })
}

/// The index of the first byte that ends or complicates a JSON string: `"`, `\\` or a control
/// character.
///
/// Eight bytes at a time (the SWAR test serde_json also uses): in `(x - 0x01..) & !x & 0x80..`
/// the lowest flagged byte is exactly the lowest zero byte of `x`, so XOR with the quote and
/// backslash patterns finds those, and subtracting `0x20..` instead finds control characters.
fn string_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let special = (zero_byte(word ^ (ONES * u64::from(b'"')))
            | zero_byte(word ^ (ONES * u64::from(b'\\')))
            | (word.wrapping_sub(ONES * 0x20) & !word))
            & HIGHS;
        if special != 0 {
            return Some(offset + special.trailing_zeros() as usize / 8);
        }
        offset += 8;
    }
    let tail = chunks.remainder().iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
    Some(offset + tail)
}

/// The unread part of a body, for [`scan_error`].
struct Scanner<'a> {
    rest: &'a [u8],
}

impl<'a> Scanner<'a> {
    /// Skips JSON whitespace (RFC 8259 section 2).
    fn skip_whitespace(&mut self) {
        while let [b' ' | b'\t' | b'\n' | b'\r', rest @ ..] = self.rest {
            self.rest = rest;
        }
    }

    /// The next byte after whitespace, consumed.
    fn token(&mut self) -> Option<u8> {
        self.skip_whitespace();
        let (&byte, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(byte)
    }

    /// Consumes `expected` after whitespace.
    fn byte(&mut self, expected: u8) -> Option<()> {
        (self.token()? == expected).then_some(())
    }

    /// The bytes of a string without escapes or control characters (UTF-8 not yet checked).
    fn plain_string(&mut self) -> Option<&'a [u8]> {
        self.byte(b'"')?;
        let len = string_end(self.rest)?;
        let (text, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest.strip_prefix(b"\"")?;
        Some(text)
    }

    /// A non-negative integer without leading zeros that fits a `u64`.
    fn integer(&mut self) -> Option<u64> {
        self.skip_whitespace();
        let digits = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let (text, rest) = self.rest.split_at_checked(digits)?;
        if let [] | [b'0', _, ..] = text {
            return None;
        }
        self.rest = rest;
        text.iter().try_fold(0u64, |value, &digit| {
            value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
        })
    }
}

/// The slow path: a generic parse, then every member checked and kept.
fn decode_tolerant(status: u16, body: &[u8], findings: &mut Vec<Finding>) -> ResponseBody {
    let not_protocol = |findings: &mut Vec<Finding>, what: &str| {
        if status == 200 {
            findings.push(Finding::violation(
                rule::OK_WITHOUT_PROTOCOL_BODY,
                format!("200 OK with {what}; a display answers a JSON object with result or error"),
            ));
        }
    };
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            let reason = if error.classify() == serde_json::error::Category::Eof {
                format!("truncated JSON: {error}")
            } else if body.trim_ascii_start().starts_with(b"<") {
                format!("an HTML or XML document, not JSON: {error}")
            } else {
                format!("not JSON: {error}")
            };
            not_protocol(findings, &reason);
            return ResponseBody::Unreadable { reason, excerpt: excerpt(body) };
        }
    };
    let mut object = match value {
        Value::Object(object) => object,
        other => {
            let reason = format!("JSON {} ({}), not an object", short(&other), kind(&other));
            not_protocol(findings, &reason);
            return ResponseBody::Unreadable { reason, excerpt: excerpt(body) };
        }
    };

    let mut extra = Map::new();
    let mut shape = Vec::new();
    let mut result = object.remove("result");
    let error = object.remove("error");
    if result.is_none()
        && error.is_none()
        && let Some(results) = object.remove("results")
    {
        shape.push(Finding::tolerated(
            rule::RESULTS_MEMBER,
            "the result is under results (plural), as real displays answer getMethodTypes; read as result",
        ));
        result = Some(results);
    }
    let (result, error) = match (result, error) {
        (Some(result), Some(error)) if !result.is_null() && !error.is_null() => {
            shape.push(Finding::violation(
                rule::RESULT_AND_ERROR,
                format!(
                    "the body has both result {} and error {}; decoded as the error, result kept in extra",
                    short(&result),
                    short(&error)
                ),
            ));
            extra.insert("result".to_owned(), result);
            (None, Some(error))
        }
        (result, error) => {
            let (result, error) = (non_null(result), non_null(error));
            if result.is_err() && error.is_err() {
                let reason = "a JSON object with neither result nor error".to_owned();
                findings.push(Finding::violation(
                    rule::NO_RESULT_OR_ERROR,
                    format!(
                        "the body {} has neither result nor error (a null one counts as absent)",
                        short(&Value::Object(object))
                    ),
                ));
                return ResponseBody::Unreadable { reason, excerpt: excerpt(body) };
            }
            for (name, member) in [("result", &result), ("error", &error)] {
                if let Some(Absence::Null) = member.as_ref().err() {
                    shape.push(Finding::tolerated(
                        rule::NULL_MEMBER,
                        format!("{name} is present as null beside the other member; kept in extra"),
                    ));
                    extra.insert(name.to_owned(), Value::Null);
                }
            }
            (result.ok(), error.ok())
        }
    };

    // Read the error member first: without a usable code the body is not an error reply, and
    // the id and member findings would be noise.
    let error = match error.map(parse_error_member) {
        Some(Err(detail)) => {
            findings.push(Finding::violation(rule::MALFORMED_ERROR, detail.clone()));
            return ResponseBody::Unreadable { reason: detail, excerpt: excerpt(body) };
        }
        Some(Ok(parsed)) => Some(parsed),
        None => None,
    };

    let id = match object.remove("id") {
        None | Some(Value::Null) => {
            shape.push(Finding::tolerated(
                rule::MISSING_ID,
                "the reply has no id (real Android TVs send {\"error\":[404,\"Not Found\"]} without one while powering down)",
            ));
            None
        }
        Some(value) => match value.as_u64() {
            Some(id) => Some(id),
            None => {
                shape.push(Finding::violation(
                    rule::INVALID_ID,
                    format!("id {} is not a non-negative integer; kept in extra", short(&value)),
                ));
                extra.insert("id".to_owned(), value);
                None
            }
        },
    };
    for (name, value) in object {
        shape.push(Finding::tolerated(
            rule::EXTRA_MEMBER,
            format!(
                "member {name:?} = {} beyond result, error and id; kept in extra",
                short(&value)
            ),
        ));
        extra.insert(name, value);
    }

    if let Some(parsed) = error {
        findings.extend(shape);
        findings.extend(parsed.findings);
        return ResponseBody::Error(attach_entry(
            ErrorReply {
                code: parsed.code,
                message: parsed.message,
                id,
                entry: None,
                form: parsed.form,
                details: parsed.details,
                extra,
            },
            findings,
        ));
    }
    findings.extend(shape);
    let result = match result {
        Some(Value::Array(result)) => result,
        Some(other) => {
            findings.push(Finding::violation(
                rule::RESULT_NOT_ARRAY,
                format!("result {} is not an array; kept as its only element", short(&other)),
            ));
            vec![other]
        }
        // Unreachable: neither member returned above; an empty result keeps this total.
        None => Vec::new(),
    };
    ResponseBody::Success { result, id, extra }
}

/// Why a member is not usable: absent, or null.
enum Absence {
    Missing,
    Null,
}

fn non_null(member: Option<Value>) -> Result<Value, Absence> {
    match member {
        None => Err(Absence::Missing),
        Some(Value::Null) => Err(Absence::Null),
        Some(value) => Ok(value),
    }
}

/// An `error` member taken apart.
struct ParsedError {
    code: ReplyCode,
    message: String,
    form: ErrorForm,
    details: Vec<Value>,
    findings: Vec<Finding>,
}

/// Reads `[code, "message", ...]` or `{"code": N, "message": "...", ...}`; `Err` with a
/// detail when there is no numeric code to read.
fn parse_error_member(error: Value) -> Result<ParsedError, String> {
    let mut findings = Vec::new();
    let (code, message, form, details) = match error {
        Value::Array(items) => {
            let mut items = items.into_iter();
            let Some(Value::Number(code)) = items.next() else {
                return Err(
                    "error is an array without a numeric code first; expected [code, \"message\"]"
                        .to_owned(),
                );
            };
            let message = items.next();
            let details: Vec<Value> = items.collect();
            if !details.is_empty() {
                findings.push(Finding::tolerated(
                    rule::LONG_ERROR_ARRAY,
                    format!(
                        "the error array has {} elements after [code, message]: {}; kept in details",
                        details.len(),
                        short(&Value::Array(details.clone()))
                    ),
                ));
            }
            (code, message, ErrorForm::Array, details)
        }
        Value::Object(mut members) => {
            let Some(Value::Number(code)) = members.remove("code") else {
                return Err(format!(
                    "error is an object without a numeric code: {}; expected [code, \"message\"]",
                    short(&Value::Object(members))
                ));
            };
            let message = members.remove("message");
            findings.push(Finding::tolerated(
                rule::JSONRPC2_ERROR_OBJECT,
                format!(
                    "error is a JSON-RPC 2.0 object {{\"code\": {code}, \"message\": ...}}, not the page's [code, \"message\"] array"
                ),
            ));
            let details =
                if members.is_empty() { Vec::new() } else { vec![Value::Object(members)] };
            (code, message, ErrorForm::JsonRpc2Object, details)
        }
        other => {
            return Err(format!(
                "error is {} {}; expected [code, \"message\"]",
                kind(&other),
                short(&other)
            ));
        }
    };
    let message = match message {
        Some(Value::String(message)) => message,
        Some(other) => {
            findings.push(Finding::violation(
                rule::MALFORMED_ERROR,
                format!(
                    "the error message {} is not a string; kept as its JSON text",
                    short(&other)
                ),
            ));
            other.to_string()
        }
        None => {
            findings.push(Finding::violation(
                rule::MALFORMED_ERROR,
                format!("error {code} has no message; expected [code, \"message\"]"),
            ));
            String::new()
        }
    };
    let code = match code.as_u64().and_then(|c| u16::try_from(c).ok()) {
        Some(code) => ReplyCode::InSpace(Code::from_static(code)),
        None => ReplyCode::OutOfSpace(code),
    };
    Ok(ParsedError { code, message, form, details, findings })
}

/// Picks the registry row of a reply and reports the code and message against the registry.
/// A reply whose `entry` is already set comes from a caller that found the exact row.
fn attach_entry(mut reply: ErrorReply, findings: &mut Vec<Finding>) -> ErrorReply {
    if reply.entry.is_some() {
        return reply;
    }
    let message = &reply.message;
    reply.entry = match &reply.code {
        ReplyCode::OutOfSpace(number) => {
            findings.push(Finding::violation(
                rule::CODE_OUT_OF_SPACE,
                format!(
                    "error code {number} is outside the page's space (\"The error code is defined between 0-65535.\"); kept as sent"
                ),
            ));
            None
        }
        ReplyCode::InSpace(code) => {
            let mut rows = registry().rows(u32::from(code.as_u16()));
            let documented = rows.next();
            let exact = documented.into_iter().chain(rows).find(|row| &row.message == message);
            match (exact, documented) {
                (Some(row), _) => Some(row),
                (None, Some(row)) => {
                    let known: Vec<&str> =
                        registry().rows(row.code).map(|r| r.message.as_str()).collect();
                    findings.push(Finding::tolerated(
                        rule::UNLISTED_MESSAGE,
                        format!(
                            "message {message:?} for code {code} is none of the registry's {known:?}; the documented row answers"
                        ),
                    ));
                    Some(row)
                }
                (None, None) => {
                    findings.push(Finding::tolerated(
                        rule::UNLISTED_CODE,
                        format!("code {code} ({message:?}) has no registry row; kept as sent"),
                    ));
                    None
                }
            }
        }
    };
    reply
}

/// The seed's HTTP rules: status and code must agree.
fn check_status(status: u16, said: &ResponseBody, findings: &mut Vec<Finding>) {
    match said {
        ResponseBody::Error(reply) if status != 200 => {
            if reply.code.code().map(Code::as_u16) != Some(status) {
                findings.push(Finding::violation(
                    rule::STATUS_CODE_MISMATCH,
                    format!(
                        "HTTP {status} carries error code {}; the page says: {HTTP_RULE}",
                        reply.code
                    ),
                ));
            }
            if let Some(entry) = reply.entry.filter(|e| e.http_status == HttpStatus::OK) {
                findings.push(Finding::violation(
                    rule::RPC_CODE_ON_HTTP_ERROR,
                    format!(
                        "code {} ({}) travels with 200 OK but came with HTTP {status}; the page says: {NO_FORCED_MAPPING}",
                        entry.code, entry.reason
                    ),
                ));
            }
        }
        ResponseBody::Error(reply) => {
            if let Some(entry) = reply.entry.filter(|e| e.http_status != HttpStatus::OK) {
                findings.push(Finding::violation(
                    rule::HTTP_CODE_ON_OK,
                    format!(
                        "HTTP-layer code {} ({}) came in the body of a 200 OK; it travels with HTTP {}",
                        entry.code,
                        entry.reason,
                        entry.http_status.as_u16()
                    ),
                ));
            }
        }
        ResponseBody::Success { .. } if status != 200 => {
            findings.push(Finding::violation(
                rule::RESULT_ON_HTTP_ERROR,
                format!(
                    "HTTP {status} carries a result body, not an error with code {status}; the page says: {HTTP_RULE}"
                ),
            ));
        }
        _ => {}
    }
}

/// A protocol body must be labelled JSON: pybravia (aiohttp) refuses any other type.
fn check_content_type(content_type: Option<&str>, findings: &mut Vec<Finding>) {
    let detail = match content_type {
        None => "a protocol body without a Content-Type header; send application/json".to_owned(),
        Some(value) if is_json_media_type(value) => return,
        Some(value) => format!(
            "a protocol body labelled Content-Type {value:?}; send application/json (clients such as pybravia refuse other types)"
        ),
    };
    findings.push(Finding::violation(rule::CONTENT_TYPE_NOT_JSON, detail));
}

/// `application/json` or `*/*+json`, any parameters, any case.
fn is_json_media_type(value: &str) -> bool {
    // What nearly every display and client sends, checked without splitting.
    const JSON: &str = "application/json";
    if value == JSON {
        return true;
    }
    if value.get(..JSON.len()).is_some_and(|media| media.eq_ignore_ascii_case(JSON))
        && matches!(value.as_bytes().get(JSON.len()), None | Some(b';' | b' ' | b'\t'))
    {
        return true;
    }
    let media = value.split_once(';').map_or(value, |(media, _)| media).trim_ascii();
    media.eq_ignore_ascii_case("application/json")
        || media.split_once('/').is_some_and(|(kind, sub)| {
            !kind.is_empty()
                && sub.len() > 5
                && sub.get(sub.len() - 5..).is_some_and(|s| s.eq_ignore_ascii_case("+json"))
        })
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// The status and body a conforming display sends for `entry`:
/// `{"error":[code,"message"],"id":N}` (`id` omitted when `None`), with the entry's HTTP status,
/// so HTTP-layer codes travel with their own status and every other code with 200.
pub fn encode_error(entry: &Entry, id: Option<u64>) -> (HttpStatus, Vec<u8>) {
    use std::fmt::Write;
    let mut body = String::with_capacity(48 + entry.message.len());
    // Writing to a String cannot fail; `write!` spares a String per number.
    let _ = write!(body, "{{\"error\":[{},", entry.code);
    push_json_string(&mut body, &entry.message);
    body.push(']');
    if let Some(id) = id {
        let _ = write!(body, ",\"id\":{id}");
    }
    body.push('}');
    (entry.http_status, body.into_bytes())
}

/// The status and body of a success: 200 and `{"result":[...],"id":N}`.
pub fn encode_success(result: &[Value], id: u64) -> (HttpStatus, Vec<u8>) {
    encode_success_as("result", result, id)
}

/// The status and body of `getMethodTypes`' success as real displays send it: 200 and
/// `{"results":[...],"id":N}`, the member in the plural ([`rule::RESULTS_MEMBER`]).
pub fn encode_results(results: &[Value], id: u64) -> (HttpStatus, Vec<u8>) {
    encode_success_as("results", results, id)
}

fn encode_success_as(member: &str, result: &[Value], id: u64) -> (HttpStatus, Vec<u8>) {
    use std::io::Write;
    // Written in place: a `String` per value and for the id cost more than the rest.
    let mut body = Vec::with_capacity(64);
    let _ = write!(body, "{{\"{member}\":[");
    for (i, value) in result.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        // A `Value` always serializes (its keys are strings) and a Vec never fails a write;
        // its `Display`, used before, writes the same compact form.
        let _ = serde_json::to_writer(&mut body, value);
    }
    let _ = write!(body, "],\"id\":{id}}}");
    (HttpStatus::OK, body)
}

/// Writes `text` as a JSON string (RFC 8259 section 7); total, unlike a fallible serializer.
fn push_json_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let byte = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[byte >> 4]));
                out.push(char::from(HEX[byte & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// An axum response for a registry row: the row's status, `Content-Type: application/json`
/// and [`encode_error`]'s body, so a handler cannot pair a code with the wrong status.
#[cfg(feature = "axum")]
#[derive(Clone, Copy, Debug)]
pub struct ErrorResponse {
    /// The row to answer with.
    pub entry: &'static Entry,
    /// The request's id, when it could be read.
    pub id: Option<u64>,
}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for ErrorResponse {
    fn into_response(self) -> axum::response::Response {
        use axum::http::{StatusCode, header};
        let (status, body) = encode_error(self.entry, self.id);
        // HttpStatus is always 100-599, which StatusCode accepts.
        let status =
            StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

// ---------------------------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------------------------

/// The start of a body for messages: lossy UTF-8, at most [`EXCERPT_CHARS`] characters.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    truncate(&text)
}

/// A JSON value for messages, cut to [`EXCERPT_CHARS`] characters.
fn short(value: &Value) -> String {
    truncate(&value.to_string())
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// "an array", "a string"... for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// The tests live beside this file rather than in `wire/`, keeping the module flat.
#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
