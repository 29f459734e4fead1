//! The ThinQ Connect wire format: message ids, timestamps, codes as they travel, and the JSON
//! envelope of every reply, decoded (with what it breaks) and encoded (so it breaks nothing).
//!
//! A reply is `{"messageId", "timestamp", "response"}` on success and
//! `{"messageId", "timestamp", "error": {"message", "code"}}` on failure, with the HTTP status
//! the registry gives the code. [`decode_response`] is total: any status, headers and bytes give
//! a [`Response`] that keeps every value it found (an unlisted code stays `Unknown("9999")`) and
//! lists as [`Finding`]s what departs from LG's documents, each under a rule of [`RULES`].
//! [`encode_error`] and [`encode_success`] write replies that decode with no violation.
//!
//! ```
//! use devfault_thinq::wire::{decode_response, ResponseBody, WireCode};
//! use devfault_thinq::Code;
//!
//! let body = br#"{"messageId":"zTL0BXUNT5KR0oZ7checHg","timestamp":"2026-05-04T16:55:47.326484",
//!     "error":{"message":"Not connected device","code":"1222"}}"#;
//! let reply = decode_response(416, [("Content-Type", "application/json")], body, None);
//! let ResponseBody::Error(error) = &reply.body else { panic!("an error reply") };
//! assert_eq!(error.code, WireCode::Known(Code::NOT_CONNECTED_DEVICE));
//! assert!(reply.is_conforming() && reply.findings.is_empty());
//!
//! // Sent with 400 instead of the registry's 416: decoded all the same, and reported.
//! let odd = decode_response(400, [("Content-Type", "application/json")], body, None);
//! assert_eq!(odd.entry().map(|e| e.code), Some(1222));
//! assert_eq!(odd.findings[0].rule, "thinq.status-mismatch");
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::time::{SystemTime, UNIX_EPOCH};

use devfault_core::calendar::{UtcTime, days_in_month};
use devfault_core::{Entry, Finding, HttpStatus, Reading, ReadingKind, RetryAfter, TemplateError};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::Code;
use rule::*;

devfault_core::rule_table! {
    STATUS_INVALID = "thinq.status-invalid":
        "the HTTP status is outside 100-599",
    STATUS_MISMATCH = "thinq.status-mismatch":
        "the HTTP status is not the one the registry gives the error code",
    CONTENT_TYPE = "thinq.content-type":
        "Content-Type is missing or not JSON: aiohttp's json() raises ContentTypeError, even on success",
    BODY_EMPTY = "thinq.body-empty":
        "the body is empty: the SDK gets None and fails on payload.get",
    BODY_UNREADABLE = "thinq.body-unreadable":
        "the body is not a JSON object: json.JSONDecodeError or AttributeError escapes the SDK",
    FIELD_TYPE = "thinq.field-type":
        "a member of the envelope has the wrong JSON type (error not an object, message not a string...)",
    MESSAGE_ID_MISSING = "thinq.message-id-missing":
        "tolerated: no messageId (live error bodies omit it; the SDK ignores it)",
    MESSAGE_ID_INVALID = "thinq.message-id-invalid":
        "messageId is not 22 url-safe base64 characters, the grammar the cloud answers 1104 for",
    MESSAGE_ID_NOT_UUID4 = "thinq.message-id-not-uuid4":
        "tolerated: messageId has the grammar but is no base64 UUID v4 (live bodies echo such ids)",
    MESSAGE_ID_ECHO = "thinq.message-id-echo":
        "messageId does not echo the request's x-message-id",
    TIMESTAMP_MISSING = "thinq.timestamp-missing":
        "no timestamp: a violation on success, tolerated on error bodies (live ones omit it)",
    TIMESTAMP_INVALID = "thinq.timestamp-invalid":
        "timestamp is not YYYY-MM-DDTHH:MM:SS[.f{1,6}] without a zone designator",
    RESPONSE_MISSING = "thinq.response-missing":
        "tolerated: a success without a response member (the SDK returns None)",
    ERROR_ON_SUCCESS = "thinq.error-on-success":
        "a success status carries an error member: the SDK ignores it and returns the response or None",
    ERROR_MISSING = "thinq.error-missing":
        "tolerated: an error status without an error member (the SDK fails with AttributeError)",
    ERROR_CODE_MISSING = "thinq.error-code-missing":
        "the error member has no code (the SDK reports 'unknown error code')",
    ERROR_MESSAGE_MISSING = "thinq.error-message-missing":
        "the error member has no message (the SDK reports 'unknown error message')",
    NUMERIC_CODE = "thinq.numeric-code":
        "tolerated: error.code is a JSON number, not a string (the SDK reports UNKNOWN_ERROR)",
    UNKNOWN_CODE = "thinq.unknown-code":
        "tolerated: error.code is not in the registry (the SDK reports UNKNOWN_ERROR)",
    MESSAGE_TEXT = "thinq.message-text":
        "tolerated: error.message is not the registry's text for the code",
    RETRY_AFTER_INVALID = "thinq.retry-after-invalid":
        "Retry-After is neither delay-seconds nor an IMF-fixdate (RFC 9110 section 10.2.3)",
}

// ---------------------------------------------------------------------------------------------
// Message ids

/// Why a string is not an `x-message-id`, with the value it was given.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MessageIdError {
    /// The value checked.
    pub value: String,
    /// The condition it fails.
    pub reason: MessageIdReason,
}

/// The condition an `x-message-id` fails, in the order they are checked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum MessageIdReason {
    /// Not exactly 22 characters (padding `==` makes 24).
    Length {
        /// How many characters it has.
        chars: usize,
    },
    /// A character outside the url-safe base64 alphabet `[A-Za-z0-9_-]`.
    Alphabet {
        /// Its position, in characters.
        index: usize,
        /// The character.
        found: char,
    },
    /// The last character carries bits beyond the 128 of a UUID: no encoder writes it.
    TrailingBits,
    /// The version nibble (high half of byte 6) is not 4.
    NotVersion4 {
        /// The version found.
        version: u8,
    },
    /// The variant bits (top of byte 8) are not RFC 4122's `10`.
    NotRfc4122Variant {
        /// Byte 8 shifted right by 6: `0b10` is expected.
        variant: u8,
    },
}

impl MessageIdReason {
    /// True for the grammar the cloud checks (length and alphabet); false for the UUID details
    /// a 22-character url-safe string can still get wrong.
    pub const fn is_grammar(self) -> bool {
        matches!(self, MessageIdReason::Length { .. } | MessageIdReason::Alphabet { .. })
    }
}

impl fmt::Display for MessageIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = &self.value;
        match self.reason {
            MessageIdReason::Length { chars } => write!(
                f,
                "message id {value:?} has {chars} characters; an id has exactly 22 (a UUID v4 in url-safe base64, no padding)"
            ),
            MessageIdReason::Alphabet { index, found } => write!(
                f,
                "message id {value:?} has {found:?} at character {index}; only A-Z a-z 0-9 - _ may appear"
            ),
            MessageIdReason::TrailingBits => write!(
                f,
                "message id {value:?} ends in a character with non-zero bits past the 16 bytes of a UUID"
            ),
            MessageIdReason::NotVersion4 { version } => {
                write!(f, "message id {value:?} decodes to a version-{version} UUID, not version 4")
            }
            MessageIdReason::NotRfc4122Variant { variant } => write!(
                f,
                "message id {value:?} decodes to a UUID with variant bits {variant:02b}, not RFC 4122's 10"
            ),
        }
    }
}

impl std::error::Error for MessageIdError {}

const BASE64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Each byte's value in the url-safe alphabet; `NOT_BASE64` for bytes outside it.
const SEXTETS: [u8; 256] = {
    let mut table = [NOT_BASE64; 256];
    let mut i = 0;
    while i < 64 {
        table[BASE64_URL[i] as usize] = i as u8;
        i += 1;
    }
    table
};
const NOT_BASE64: u8 = 0xff;

/// Checks an `x-message-id` (or the `messageId` echoing it) and returns the UUID it encodes.
///
/// LG's spec: "Generated with the url-safe-base64-no-padding (UUID Version 4) method. The
/// length is 22 characters." Each condition is its own [`MessageIdReason`]:
///
/// ```
/// use devfault_thinq::wire::{check_message_id, MessageIdReason};
/// let uuid = check_message_id("zTL0BXUNT5KR0oZ7checHg").expect("an id the SDK sent");
/// assert_eq!(uuid[6] >> 4, 4);
/// let padded = check_message_id("zTL0BXUNT5KR0oZ7checHg==").map_err(|e| e.reason);
/// assert_eq!(padded, Err(MessageIdReason::Length { chars: 24 }));
/// ```
pub fn check_message_id(id: &str) -> Result<[u8; 16], MessageIdError> {
    uuid_of(id).map_err(|reason| MessageIdError { value: id.to_owned(), reason })
}

/// [`check_message_id`] without the copy of the value: the decoder runs it on every reply.
fn uuid_of(id: &str) -> Result<[u8; 16], MessageIdReason> {
    let bytes = id.as_bytes();
    let length = || MessageIdReason::Length { chars: id.chars().count() };
    if bytes.len() != 22 {
        return match id.chars().count() {
            // 22 characters in more bytes: some are not ASCII, so not in the alphabet.
            22 => match id.chars().enumerate().find(|&(_, c)| !c.is_ascii()) {
                Some((index, found)) => Err(MessageIdReason::Alphabet { index, found }),
                None => Err(length()),
            },
            _ => Err(length()),
        };
    }
    let mut sextets = [0u32; 22];
    for (index, (slot, &byte)) in sextets.iter_mut().zip(bytes).enumerate() {
        match SEXTETS[usize::from(byte)] {
            NOT_BASE64 if !id.is_ascii() => return Err(length()),
            NOT_BASE64 => {
                return Err(MessageIdReason::Alphabet { index, found: char::from(byte) });
            }
            value => *slot = u32::from(value),
        }
    }
    let mut uuid = [0u8; 16];
    for (group, out) in sextets[..20].chunks_exact(4).zip(uuid.chunks_exact_mut(3)) {
        let bits = group[0] << 18 | group[1] << 12 | group[2] << 6 | group[3];
        out.copy_from_slice(&bits.to_be_bytes()[1..]);
    }
    let last = sextets[20] << 6 | sextets[21];
    if last & 0xf != 0 {
        return Err(MessageIdReason::TrailingBits);
    }
    uuid[15] = (last >> 4) as u8;
    let version = uuid[6] >> 4;
    if version != 4 {
        return Err(MessageIdReason::NotVersion4 { version });
    }
    let variant = uuid[8] >> 6;
    if variant != 0b10 {
        return Err(MessageIdReason::NotRfc4122Variant { variant });
    }
    Ok(uuid)
}

/// Writes a UUID as a message id, as the SDK does: `urlsafe_b64encode(uuid4().bytes)[:-2]`
/// (the two characters dropped are the padding).
///
/// ```
/// use devfault_thinq::wire::{check_message_id, message_id_from_uuid};
/// let bytes = check_message_id("fNvdZ1brTn-wWKUlWGoSVw").expect("valid");
/// assert_eq!(message_id_from_uuid(bytes), "fNvdZ1brTn-wWKUlWGoSVw");
/// ```
pub fn message_id_from_uuid(bytes: [u8; 16]) -> String {
    let mut out = String::with_capacity(22);
    let mut push = |sextet: u32| out.push(char::from(BASE64_URL[(sextet & 63) as usize]));
    for chunk in bytes[..15].chunks_exact(3) {
        let bits = u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8 | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            push(bits >> shift);
        }
    }
    let last = u32::from(bytes[15]);
    push(last >> 2);
    push(last << 4);
    out
}

// ---------------------------------------------------------------------------------------------
// Timestamps

/// Why a string is not a ThinQ timestamp, with the value it was given.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TimestampError {
    /// The value checked.
    pub value: String,
    /// What is wrong with it.
    pub reason: TimestampReason,
}

/// What is wrong with a timestamp.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum TimestampReason {
    /// The character at `index` (in bytes) is not what `YYYY-MM-DDTHH:MM:SS[.ffffff]` has
    /// there (or the text ends early).
    Shape {
        /// Byte offset of the first departure.
        index: usize,
        /// What belongs there.
        expected: &'static str,
    },
    /// A zone designator (`Z`, `+09:00`) follows the time: LG never sends one, and its
    /// timestamps are UTC.
    Zone {
        /// The designator found.
        designator: String,
    },
    /// More than 6 fraction digits (Python's `datetime` keeps microseconds).
    FractionTooLong {
        /// How many there are.
        digits: usize,
    },
    /// A field outside its range (month 13, February 30, hour 24...).
    OutOfRange {
        /// `year`, `month`, `day`, `hour`, `minute` or `second`.
        field: &'static str,
        /// The value found.
        value: u32,
    },
}

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = &self.value;
        match &self.reason {
            TimestampReason::Shape { index, expected } => write!(
                f,
                "timestamp {value:?} needs {expected} at byte {index} (YYYY-MM-DDTHH:MM:SS with 0-6 fraction digits)"
            ),
            TimestampReason::Zone { designator } => write!(
                f,
                "timestamp {value:?} has the zone designator {designator:?}; ThinQ timestamps are UTC and carry none"
            ),
            TimestampReason::FractionTooLong { digits } => {
                write!(f, "timestamp {value:?} has {digits} fraction digits; at most 6")
            }
            TimestampReason::OutOfRange { field, value: found } => {
                write!(f, "timestamp {value:?} has {field} {found}, which does not exist")
            }
        }
    }
}

impl std::error::Error for TimestampError {}

/// Checks a `timestamp`: ISO 8601 `YYYY-MM-DDTHH:MM:SS` with 0 to 6 fraction digits and no
/// zone designator, as every LG example and live body has it (`2024-09-13T06:55:58.65064` in
/// LG's Business API spec has 5 digits, so the count varies). Years are 0001-9999 and seconds
/// 00-59, the range of the Python `datetime` that writes them.
///
/// ```
/// use devfault_thinq::wire::check_timestamp;
/// assert!(check_timestamp("2019-06-25T04:52:18.370732").is_ok());
/// assert!(check_timestamp("2019-06-25T04:52:18").is_ok());
/// assert!(check_timestamp("2019-06-25T04:52:18Z").is_err());
/// assert!(check_timestamp("2019-02-29T04:52:18").is_err());
/// ```
pub fn check_timestamp(ts: &str) -> Result<(), TimestampError> {
    timestamp_problem(ts).map_err(|reason| TimestampError { value: ts.to_owned(), reason })
}

/// [`check_timestamp`] without the copy of the value: the decoder runs it on every reply.
fn timestamp_problem(ts: &str) -> Result<(), TimestampReason> {
    let bytes = ts.as_bytes();
    let Some(head) = bytes.first_chunk::<19>() else {
        return Err(shape_problem(bytes));
    };
    // Each position's digit value; 10 and above for a non-digit.
    let d = |i: usize| u32::from(head[i].wrapping_sub(b'0'));
    // `&`, not `&&`: all the tests at once, without a branch each.
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        .iter()
        .fold(true, |ok, &i| ok & (d(i) < 10));
    let separators = (head[4] == b'-')
        & (head[7] == b'-')
        & (head[10] == b'T')
        & (head[13] == b':')
        & (head[16] == b':');
    if !(digits & separators) {
        return Err(shape_problem(bytes));
    }
    let number = |at: usize, len: usize| (at..at + len).fold(0, |n, i| n * 10 + d(i));
    let mut at = 19;
    if bytes.get(at) == Some(&b'.') {
        let digits = bytes[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(TimestampReason::Shape { index: at + 1, expected: "a fraction digit" });
        }
        if digits > 6 {
            return Err(TimestampReason::FractionTooLong { digits });
        }
        at += 1 + digits;
    }
    match bytes.get(at) {
        None => {}
        Some(b'Z' | b'z' | b'+' | b'-') => {
            let designator = ts.get(at..).unwrap_or_default().to_owned();
            return Err(TimestampReason::Zone { designator });
        }
        Some(_) => {
            let expected = if at == 19 { "'.' or the end" } else { "the end" };
            return Err(TimestampReason::Shape { index: at, expected });
        }
    }
    let (year, month, day) = (number(0, 4), number(5, 2), number(8, 2));
    let (hour, minute, second) = (number(11, 2), number(14, 2), number(17, 2));
    let out_of_range = |field, value| Err(TimestampReason::OutOfRange { field, value });
    if year == 0 {
        out_of_range("year", year)
    } else if !(1..=12).contains(&month) {
        out_of_range("month", month)
    } else if day == 0 || day > days_in_month(i64::from(year), month) {
        out_of_range("day", day)
    } else if hour > 23 {
        out_of_range("hour", hour)
    } else if minute > 59 {
        out_of_range("minute", minute)
    } else if second > 59 {
        out_of_range("second", second)
    } else {
        Ok(())
    }
}

/// The first byte of `YYYY-MM-DDTHH:MM:SS` a malformed timestamp gets wrong.
fn shape_problem(bytes: &[u8]) -> TimestampReason {
    const SHAPE: &[u8; 19] = b"dddd-dd-ddTdd:dd:dd";
    let index = SHAPE
        .iter()
        .zip(bytes.iter().map(Some).chain(std::iter::repeat(None)))
        .position(|(&want, got)| match got {
            Some(got) if want == b'd' => !got.is_ascii_digit(),
            Some(&got) => got != want,
            None => true,
        })
        .unwrap_or(SHAPE.len());
    let expected = match SHAPE.get(index) {
        Some(b'd') | None => "a digit",
        Some(b'-') => "'-'",
        Some(b'T') => "'T'",
        Some(_) => "':'",
    };
    TimestampReason::Shape { index, expected }
}

/// Seconds from 1970-01-01 to 0001-01-01 and to 10000-01-01: the range four year digits hold.
const FIRST_SECOND: i64 = -62_135_596_800;
const END_SECOND: i64 = 253_402_300_800;

/// Writes `t` as ThinQ does: UTC, `YYYY-MM-DDTHH:MM:SS.ffffff`, no zone designator.
///
/// A moment outside years 0001-9999 (which four digits cannot write) is clamped to the first
/// or last microsecond of that range.
///
/// ```
/// use devfault_thinq::wire::format_timestamp;
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_micros(1_777_913_747_326_484);
/// assert_eq!(format_timestamp(t), "2026-05-04T16:55:47.326484");
/// ```
pub fn format_timestamp(t: SystemTime) -> String {
    let (seconds, micros) = match t.duration_since(UNIX_EPOCH) {
        Ok(after) => {
            (i64::try_from(after.as_secs()).unwrap_or(i64::MAX), i64::from(after.subsec_micros()))
        }
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            // Round down to the microsecond, as the clock reading after it would.
            let sub = i64::from(before.subsec_nanos().div_ceil(1_000));
            if sub == 0 { (-whole, 0) } else { (-whole - 1, 1_000_000 - sub) }
        }
    };
    let (seconds, micros) = if seconds < FIRST_SECOND {
        (FIRST_SECOND, 0)
    } else if seconds >= END_SECOND {
        (END_SECOND - 1, 999_999)
    } else {
        (seconds, micros)
    };
    let UtcTime { year, month, day, hour, minute, second } = UtcTime::from_unix_seconds(seconds);
    // Digits written by hand rather than by `format!`: every cloud reply carries a timestamp,
    // and the formatting machinery cost more than the rest of a state read's envelope.
    let mut out = *b"0000-00-00T00:00:00.000000";
    let fields: [(std::ops::Range<usize>, i64); 7] = [
        (0..4, year),
        (5..7, i64::from(month)),
        (8..10, i64::from(day)),
        (11..13, i64::from(hour)),
        (14..16, i64::from(minute)),
        (17..19, i64::from(second)),
        (20..26, micros),
    ];
    for (range, mut value) in fields {
        // Every field is clamped above to the digits it has, so no value is cut.
        for slot in out[range].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    // Only ASCII digits and separators were written.
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Codes

/// `error.code` as it came off the wire.
///
/// Known only when it is exactly four digits and [`registry()`](crate::registry) lists it;
/// anything else (`"9999"`, `"0001"`, `"12345"`, `"abc"`, `""`) is kept verbatim as `Unknown`,
/// never dropped or guessed at.
///
/// ```
/// use devfault_thinq::wire::WireCode;
/// use devfault_thinq::Code;
/// assert_eq!(WireCode::parse("1314"), WireCode::Known(Code::EXCEEDED_USER_API_CALLS));
/// assert_eq!(WireCode::parse("9999"), WireCode::Unknown("9999".to_owned()));
/// assert_eq!(WireCode::parse("0000").to_string(), "0000");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum WireCode {
    /// A code the registry has a row for.
    Known(Code),
    /// Anything else, exactly as sent.
    Unknown(String),
}

impl WireCode {
    /// Reads a code as sent.
    pub fn parse(raw: &str) -> WireCode {
        WireCode::parse_with_entry(raw).0
    }

    /// The code and its registry row, found with one lookup.
    fn parse_with_entry(raw: &str) -> (WireCode, Option<&'static Entry>) {
        match known_code(raw) {
            Some((code, entry)) => (WireCode::Known(code), Some(entry)),
            None => (WireCode::Unknown(raw.to_owned()), None),
        }
    }

    /// The code, when the registry knows it.
    pub fn code(&self) -> Option<Code> {
        match self {
            WireCode::Known(code) => Some(*code),
            WireCode::Unknown(_) => None,
        }
    }

    /// The registry row that answers for the code.
    pub fn entry(&self) -> Option<&'static Entry> {
        self.code().and_then(Code::entry_opt)
    }
}

impl fmt::Display for WireCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Known codes are four digits on the wire, which is how `Code` writes them.
            WireCode::Known(code) => code.fmt(f),
            WireCode::Unknown(raw) => f.write_str(raw),
        }
    }
}

/// The listed code `raw` names, without the allocations of `Code::from_str`'s error path: the
/// decoder runs this on every error reply.
fn known_code(raw: &str) -> Option<(Code, &'static Entry)> {
    let bytes = raw.as_bytes();
    if bytes.len() != 4 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = bytes.iter().fold(0u32, |n, &b| n * 10 + u32::from(b - b'0'));
    let code = Code::new(value)?;
    code.entry_opt().map(|entry| (code, entry))
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// A decoded reply: what the server said, and what it got wrong doing so.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct Response {
    /// The HTTP status, as received (even outside 100-599).
    pub status: u16,
    /// What the body says.
    pub body: ResponseBody,
    /// `messageId` when it is a string; a non-string one is quoted in a finding instead.
    pub message_id: Option<String>,
    /// `timestamp` when it is a string, valid or not.
    pub timestamp: Option<String>,
    /// Every rule broken and every real-world variant tolerated, in the order checked.
    pub findings: Vec<Finding>,
    /// The `Retry-After` header, when present and readable.
    pub retry_after: Option<RetryAfter>,
}

/// What a reply's body says.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub enum ResponseBody {
    /// A success status (below 400, as aiohttp's `response.ok` has it) without an `error`.
    Success {
        /// The `response` member; `None` when absent (the SDK then returns `None`).
        response: Option<Value>,
    },
    /// An error: an error status, or an `error` object under any status. On a success status
    /// the SDK ignores the error, but the server's code and message are kept here, and
    /// [`thinq.error-on-success`](RULES) says so.
    Error(ErrorReply),
    /// No body at all (or only whitespace, which aiohttp reads as no JSON).
    Bare,
    /// Bytes that are not a JSON object: truncated, not UTF-8, HTML from a gateway.
    Unreadable {
        /// Why, in the JSON parser's words.
        reason: String,
        /// The start of the body (lossy UTF-8), to show what came instead.
        excerpt: String,
    },
}

/// The `error` member of a reply.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct ErrorReply {
    /// `error.code`; `Unknown("")` when there is no code at all (a finding says which case).
    pub code: WireCode,
    /// `error.message`; empty when absent. For a gateway body without `error`
    /// (`{"message":"Forbidden"}`), its top-level `message`.
    pub message: String,
    /// The registry row for a known code.
    pub entry: Option<&'static Entry>,
    /// For the templated codes 2302 and 2305: the state or mode the message names
    /// (`HEAT` in "Command not supported in HEAT").
    pub state_or_mode: Option<String>,
}

impl Response {
    /// The registry row of the error code, for an error reply with a known code.
    pub fn entry(&self) -> Option<&'static Entry> {
        self.error().and_then(|reply| reply.entry)
    }

    /// The error member, for an error reply.
    pub fn error(&self) -> Option<&ErrorReply> {
        match &self.body {
            ResponseBody::Error(reply) => Some(reply),
            _ => None,
        }
    }

    /// True when no finding is a violation: what a client written against LG's documents
    /// (and LG's SDK) can read as intended. Tolerated variants do not count against it.
    pub fn is_conforming(&self) -> bool {
        self.findings.iter().all(|f| f.severity == devfault_core::Severity::Tolerated)
    }

    /// The vendor-neutral [`Reading`] of this reply, which the CLI's diagnosis and the
    /// emulator's journal both read: the code as sent (four digits, or whatever came; `None`
    /// when the error had no code at all), the message, [`Response::entry`], the findings and
    /// `Retry-After`.
    ///
    /// ```
    /// use devfault_thinq::wire::decode_response;
    /// use devfault_core::ReadingKind;
    /// let body = br#"{"messageId":"zTL0BXUNT5KR0oZ7checHg","timestamp":"2026-05-04T16:55:47",
    ///     "error":{"message":"Not connected device","code":"1222"}}"#;
    /// let reading = decode_response(416, [], body, None).into_reading();
    /// assert_eq!((reading.kind, reading.code.as_deref()), (ReadingKind::Error, Some("1222")));
    /// assert_eq!(reading.entry.map(|e| e.code), Some(1222));
    /// ```
    pub fn into_reading(self) -> Reading {
        let entry = self.entry();
        let (kind, code, message) = match self.body {
            ResponseBody::Success { .. } => (ReadingKind::Success, None, None),
            ResponseBody::Error(reply) => {
                let code = Some(reply.code.to_string()).filter(|code| !code.is_empty());
                (ReadingKind::Error, code, Some(reply.message))
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

/// Decodes a reply from its status, headers and body.
///
/// Total: any input gives a [`Response`], never a panic. `request_message_id` is the
/// `x-message-id` the request carried; when given, the reply's `messageId` must echo it.
/// Headers are matched case-insensitively; the first `Content-Type` and `Retry-After` count.
///
/// Choices (each pinned by a test):
/// - A missing `messageId` is tolerated: live error bodies lack it and the SDK never reads it.
///   A present one that is not 22 url-safe characters is a violation; one with that grammar
///   that is no UUID v4 is tolerated, because live bodies echo such ids (the cloud accepts
///   them, whatever the spec says).
/// - A missing `timestamp` is a violation on success and tolerated on error bodies, which the
///   live cloud sends without it (`HTTP 400 {"error":{...}}`).
/// - An `error` object under a success status makes the outcome [`ResponseBody::Error`], so the
///   server's code is not lost, plus a violation (the SDK silently drops it).
/// - An error status without `error` is [`ResponseBody::Error`] with code `Unknown("")`, tolerated.
pub fn decode_response<'h>(
    status: u16,
    headers: impl IntoIterator<Item = (&'h str, &'h str)>,
    body: &[u8],
    request_message_id: Option<&str>,
) -> Response {
    let mut findings = Vec::new();
    if HttpStatus::new(status).is_none() {
        findings.push(Finding::violation(
            STATUS_INVALID,
            format!("HTTP status {status} is outside 100-599"),
        ));
    }
    let (mut content_type, mut retry_after_text) = (None, None);
    for (name, value) in headers {
        if content_type.is_none() && is_header(name, "content-type", "Content-Type") {
            content_type = Some(value);
        } else if retry_after_text.is_none() && is_header(name, "retry-after", "Retry-After") {
            retry_after_text = Some(value);
        }
    }
    match content_type {
        None => findings.push(Finding::violation(
            CONTENT_TYPE,
            "no Content-Type: aiohttp's json() raises ContentTypeError before reading the body",
        )),
        Some(value) if !is_json_media_type(value) => findings.push(Finding::violation(
            CONTENT_TYPE,
            format!(
                "Content-Type {value:?} is not JSON: aiohttp's json() raises ContentTypeError, even on success"
            ),
        )),
        Some(_) => {}
    }

    let mut decoded = Decoded { message_id: None, timestamp: None };
    let said = decode_body(status, body, request_message_id, &mut decoded, &mut findings);

    let retry_after = retry_after_text.and_then(|value| {
        let parsed = RetryAfter::parse(value);
        if parsed.is_none() {
            findings.push(Finding::violation(
                RETRY_AFTER_INVALID,
                format!(
                    "Retry-After {value:?} is neither delay-seconds nor an IMF-fixdate (RFC 9110 section 10.2.3); it must be ignored"
                ),
            ));
        }
        parsed
    });
    Response {
        status,
        body: said,
        message_id: decoded.message_id,
        timestamp: decoded.timestamp,
        findings,
        retry_after,
    }
}

/// Whether header `name` is `lower`, in any case. The usual spellings are compared whole
/// first: that is one comparison instead of one per byte, on every reply.
fn is_header(name: &str, lower: &str, canonical: &str) -> bool {
    name == canonical || name == lower || name.eq_ignore_ascii_case(lower)
}

/// What aiohttp's `json()` accepts: `application/json` or `application/<anything>+json`, any
/// case, parameters (`; charset=utf-8`) ignored.
fn is_json_media_type(value: &str) -> bool {
    if value == "application/json" || value.eq_ignore_ascii_case("application/json") {
        return true;
    }
    let media = value.split(';').next().unwrap_or_default().trim();
    let Some(subtype) = media
        .get(..12)
        .filter(|t| t.eq_ignore_ascii_case("application/"))
        .and_then(|_| media.get(12..))
    else {
        return false;
    };
    if subtype.eq_ignore_ascii_case("json") {
        return true;
    }
    let Some(suffix_at) = subtype.len().checked_sub(5) else { return false };
    match (subtype.get(..suffix_at), subtype.get(suffix_at..)) {
        (Some(head), Some(tail)) => {
            tail.eq_ignore_ascii_case("+json")
                && !head.is_empty()
                && head.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.+-".contains(&b))
        }
        _ => false,
    }
}

/// The envelope members kept on the [`Response`] besides the outcome.
struct Decoded {
    message_id: Option<String>,
    timestamp: Option<String>,
}

/// A member of the envelope as found.
#[derive(Clone, Copy)]
enum Member<'a> {
    Absent,
    Text(&'a str),
    /// Any other JSON value; only the tolerant path produces it.
    Other(&'a Value),
}

/// The `error` member as found.
enum ErrorMember<'a> {
    Absent,
    Object { code: Member<'a>, message: Member<'a> },
    Other(&'a Value),
}

/// The `response` member as found.
enum ResponseMember<'a> {
    Absent,
    Raw(&'a RawValue),
    Value(&'a Value),
}

/// The envelope, borrowed from the body (fast path) or from a parsed `Value` (tolerant path).
struct View<'a> {
    message_id: Member<'a>,
    timestamp: Member<'a>,
    error: ErrorMember<'a>,
    response: ResponseMember<'a>,
    /// A top-level `message`, which gateways send instead of an envelope.
    message: Member<'a>,
}

/// The envelope with every string borrowed from the body, as the two fast paths read it: a
/// direct scan of LG's own layout ([`scan_envelope`]) and, for any other layout, serde.
/// Anything neither takes (an escaped string, a numeric code, a duplicate key, a null) goes the
/// tolerant way through `serde_json::Value`.
#[derive(Deserialize, Default, Debug)]
struct FastEnvelope<'a> {
    #[serde(rename = "messageId", default, borrow, deserialize_with = "present")]
    message_id: Option<&'a str>,
    #[serde(default, borrow, deserialize_with = "present")]
    timestamp: Option<&'a str>,
    #[serde(default, borrow, deserialize_with = "present")]
    error: Option<FastError<'a>>,
    #[serde(default, borrow, deserialize_with = "present")]
    response: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    message: Option<&'a str>,
}

/// A member that is present, so `null` fails the fast path instead of passing for absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The fast paths' `error`: an object only. A derived struct would also take a JSON array
/// positionally (`["1222","x"]`), which must not pass for an error object.
#[derive(PartialEq, Debug)]
struct FastError<'a> {
    code: Option<&'a str>,
    message: Option<&'a str>,
}

impl<'de: 'a, 'a> Deserialize<'de> for FastError<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectOnly<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for ObjectOnly<'a> {
            type Value = FastError<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an error object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FastError<'a>, A::Error> {
                let (mut code, mut message) = (None, None);
                while let Some(key) = map.next_key::<&'de str>()? {
                    let slot = match key {
                        "code" => &mut code,
                        "message" => &mut message,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    if slot.is_some() {
                        return Err(de::Error::custom("duplicate member"));
                    }
                    *slot = Some(map.next_value::<&'de str>()?);
                }
                Ok(FastError { code, message })
            }
        }

        deserializer.deserialize_map(ObjectOnly(PhantomData))
    }
}

/// Reads the envelope as LG writes it: an object of plain strings (`messageId`, `timestamp`,
/// a gateway's `message`) and an `error` object of plain strings, in any order, with JSON
/// whitespace anywhere. A plain string has no escape and no control character, so it is the
/// body's bytes as they are. Anything else (a `response`, another member, an escape, a
/// duplicate, a number) returns `None` and is left to serde.
///
/// Error replies are the hot path of a client in trouble, and serde's per-string work is most
/// of their cost: this reads them in about half the time. A property test holds it to
/// the serde reading of the same bytes.
fn scan_envelope(text: &str) -> Option<FastEnvelope<'_>> {
    let mut scan = Scan { text, at: 0 };
    let mut envelope = FastEnvelope::default();
    scan.object(|scan, key| {
        let slot = match key {
            Key::MessageId => &mut envelope.message_id,
            Key::Timestamp => &mut envelope.timestamp,
            Key::Message => &mut envelope.message,
            Key::Error if envelope.error.is_none() => {
                let mut error = FastError { code: None, message: None };
                scan.object(|scan, key| {
                    let slot = match key {
                        Key::Code => &mut error.code,
                        Key::Message => &mut error.message,
                        _ => return None,
                    };
                    slot.is_none().then_some(())?;
                    *slot = Some(scan.string()?);
                    Some(())
                })?;
                envelope.error = Some(error);
                return Some(());
            }
            _ => return None,
        };
        slot.is_none().then_some(())?;
        *slot = Some(scan.string()?);
        Some(())
    })?;
    scan.skip_whitespace();
    (scan.at == text.len()).then_some(envelope)
}

/// The member names [`scan_envelope`] reads; any other name leaves the body to serde.
#[derive(Clone, Copy)]
enum Key {
    MessageId,
    Timestamp,
    Error,
    Message,
    Code,
}

/// A cursor over a body for [`scan_envelope`].
struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    #[inline(always)]
    fn skip_whitespace(&mut self) {
        let rest = self.text.as_bytes().get(self.at..).unwrap_or_default();
        self.at += rest.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).count();
    }

    /// The next byte after whitespace, consumed.
    #[inline(always)]
    fn next_byte(&mut self) -> Option<u8> {
        self.skip_whitespace();
        let byte = *self.text.as_bytes().get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    /// A string without escapes or control characters, borrowed.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a str> {
        if self.next_byte()? != b'"' {
            return None;
        }
        let start = self.at;
        let rest = self.text.as_bytes().get(start..)?;
        let len = string_end(rest)?;
        if rest[len] != b'"' {
            return None;
        }
        self.at = start + len + 1;
        // Both ends are at a '"', so at character boundaries.
        self.text.get(start..start + len)
    }

    /// A member name [`Key`] lists, written as a plain string; the names are compared as
    /// they stand rather than scanned for their end, which halves the strings to scan.
    #[inline(always)]
    fn key(&mut self) -> Option<Key> {
        if self.next_byte()? != b'"' {
            return None;
        }
        let rest = self.text.as_bytes().get(self.at..)?;
        let (key, len) = match rest.first()? {
            b'm' if rest.starts_with(b"messageId\"") => (Key::MessageId, 10),
            b'm' if rest.starts_with(b"message\"") => (Key::Message, 8),
            b't' if rest.starts_with(b"timestamp\"") => (Key::Timestamp, 10),
            b'e' if rest.starts_with(b"error\"") => (Key::Error, 6),
            b'c' if rest.starts_with(b"code\"") => (Key::Code, 5),
            _ => return None,
        };
        self.at += len;
        Some(key)
    }

    /// An object, each member's value read by `member` after its key and colon.
    fn object(&mut self, mut member: impl FnMut(&mut Scan<'a>, Key) -> Option<()>) -> Option<()> {
        if self.next_byte()? != b'{' {
            return None;
        }
        self.skip_whitespace();
        if self.text.as_bytes().get(self.at) == Some(&b'}') {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.key()?;
            if self.next_byte()? != b':' {
                return None;
            }
            member(self, key)?;
            match self.next_byte()? {
                b',' => continue,
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }
}

/// The position of the first `"`, `\\` or control character in `bytes`, eight bytes at a time
/// (as serde_json looks for the end of a string).
#[inline(always)]
fn string_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Flags each byte below `n`; the lowest flag is always a true one, as a borrow only runs
    // upward, so the first special byte is the lowest flag of the three masks.
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let flags = below(word ^ (ONES * u64::from(b'"')), 1)
            | below(word ^ (ONES * u64::from(b'\\')), 1)
            | below(word, 0x20);
        if flags != 0 {
            return Some(at + (flags.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = chunks.remainder().iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
    tail.map(|i| at + i)
}

fn text(member: Option<&str>) -> Member<'_> {
    member.map_or(Member::Absent, Member::Text)
}

fn member(value: Option<&Value>) -> Member<'_> {
    match value {
        None => Member::Absent,
        Some(Value::String(s)) => Member::Text(s),
        Some(other) => Member::Other(other),
    }
}

fn decode_body(
    status: u16,
    body: &[u8],
    request_id: Option<&str>,
    decoded: &mut Decoded,
    findings: &mut Vec<Finding>,
) -> ResponseBody {
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        findings.push(Finding::violation(
            BODY_EMPTY,
            "the body is empty: aiohttp's json() gives None and the SDK fails on payload.get",
        ));
        return ResponseBody::Bare;
    };
    // A struct deserializes from a JSON array too; only an object may take the fast path.
    // Checking UTF-8 once, up front, is cheaper than serde_json checking each string; a body
    // that is not UTF-8 is unreadable, and the tolerant path says where.
    if body[start] == b'{'
        && let Ok(utf8) = std::str::from_utf8(body)
        && let Some(fast) =
            scan_envelope(utf8).or_else(|| serde_json::from_str::<FastEnvelope<'_>>(utf8).ok())
    {
        let view = View {
            message_id: text(fast.message_id),
            timestamp: text(fast.timestamp),
            error: match fast.error {
                None => ErrorMember::Absent,
                Some(e) => ErrorMember::Object { code: text(e.code), message: text(e.message) },
            },
            response: fast.response.map_or(ResponseMember::Absent, ResponseMember::Raw),
            message: text(fast.message),
        };
        return analyze(status, &view, request_id, decoded, findings);
    }
    let unreadable = |reason: String, findings: &mut Vec<Finding>| {
        let excerpt = excerpt(body);
        findings.push(Finding::violation(
            BODY_UNREADABLE,
            format!("{reason}; the body starts {excerpt:?}"),
        ));
        ResponseBody::Unreadable { reason, excerpt }
    };
    match serde_json::from_slice::<Value>(body) {
        Err(error) => unreadable(format!("not JSON: {error}"), findings),
        Ok(Value::Object(map)) => {
            let view = View {
                message_id: member(map.get("messageId")),
                timestamp: member(map.get("timestamp")),
                error: match map.get("error") {
                    None => ErrorMember::Absent,
                    Some(Value::Object(error)) => ErrorMember::Object {
                        code: member(error.get("code")),
                        message: member(error.get("message")),
                    },
                    Some(other) => ErrorMember::Other(other),
                },
                response: map.get("response").map_or(ResponseMember::Absent, ResponseMember::Value),
                message: member(map.get("message")),
            };
            analyze(status, &view, request_id, decoded, findings)
        }
        Ok(other) => unreadable(format!("JSON {}, not an object", kind(&other)), findings),
    }
}

/// The start of a body for a person to recognise: lossy UTF-8, at most 100 characters.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(100) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

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

/// A value quoted in a finding: its JSON text, shortened.
fn quote(value: &Value) -> String {
    excerpt(value.to_string().as_bytes())
}

/// The detail of a tolerated id that has the grammar but no UUID v4 in it, written without
/// the formatting machinery: live replies carry such ids, so the decoder's hot path builds it.
fn not_uuid4(id: &str, reason: MessageIdReason) -> String {
    let what = match reason {
        MessageIdReason::NotVersion4 { .. } => "\" is not a base64 UUID of version 4",
        MessageIdReason::NotRfc4122Variant { .. } => {
            "\" is not a base64 UUID of RFC 4122's variant"
        }
        _ => "\" has bits past the 16 bytes of a UUID",
    };
    let tail = ": tolerated, the live cloud echoes such ids";
    // The grammar holds, so the id is 22 url-safe characters: nothing in it needs quoting.
    let mut detail = String::with_capacity(12 + id.len() + what.len() + tail.len());
    detail.push_str("message id \"");
    detail.push_str(id);
    detail.push_str(what);
    detail.push_str(tail);
    detail
}

fn analyze(
    status: u16,
    view: &View<'_>,
    request_id: Option<&str>,
    decoded: &mut Decoded,
    findings: &mut Vec<Finding>,
) -> ResponseBody {
    match view.message_id {
        Member::Absent => findings.push(Finding::tolerated(
            MESSAGE_ID_MISSING,
            "no messageId: tolerated, live error bodies omit it and the SDK never reads it",
        )),
        Member::Text(id) => {
            match uuid_of(id) {
                Ok(_) => {}
                Err(reason) if reason.is_grammar() => {
                    let error = MessageIdError { value: id.to_owned(), reason };
                    findings.push(Finding::violation(MESSAGE_ID_INVALID, error.to_string()));
                }
                Err(reason) => {
                    findings.push(Finding::tolerated(MESSAGE_ID_NOT_UUID4, not_uuid4(id, reason)));
                }
            }
            if let Some(sent) = request_id.filter(|&sent| sent != id) {
                findings.push(Finding::violation(
                    MESSAGE_ID_ECHO,
                    format!("messageId {id:?} does not echo the request's x-message-id {sent:?}"),
                ));
            }
            decoded.message_id = Some(id.to_owned());
        }
        Member::Other(value) => findings.push(Finding::violation(
            MESSAGE_ID_INVALID,
            format!("messageId is {} {}, not a string", kind(value), quote(value)),
        )),
    }

    let error_body = status >= 400 || !matches!(view.error, ErrorMember::Absent);
    match view.timestamp {
        Member::Absent if error_body => findings.push(Finding::tolerated(
            TIMESTAMP_MISSING,
            "no timestamp on an error body: tolerated, live error bodies omit it",
        )),
        Member::Absent => findings.push(Finding::violation(
            TIMESTAMP_MISSING,
            "no timestamp: every success envelope carries the time the request came in",
        )),
        Member::Text(ts) => {
            if let Err(reason) = timestamp_problem(ts) {
                let error = TimestampError { value: ts.to_owned(), reason };
                findings.push(Finding::violation(TIMESTAMP_INVALID, error.to_string()));
            }
            decoded.timestamp = Some(ts.to_owned());
        }
        Member::Other(value) => findings.push(Finding::violation(
            TIMESTAMP_INVALID,
            format!("timestamp is {} {}, not a string", kind(value), quote(value)),
        )),
    }

    let success = status < 400;
    match view.error {
        ErrorMember::Object { code, message } => {
            if success {
                let returns = match view.response {
                    ResponseMember::Absent => "None",
                    _ => "the response member",
                };
                findings.push(Finding::violation(
                    ERROR_ON_SUCCESS,
                    format!(
                        "HTTP {status} carries an error member: the SDK ignores it and returns {returns}"
                    ),
                ));
            }
            ResponseBody::Error(error_reply(status, code, message, findings))
        }
        ErrorMember::Other(value) => {
            findings.push(Finding::violation(
                FIELD_TYPE,
                format!("error is {} {}, not an object", kind(value), quote(value)),
            ));
            if success {
                success_outcome(view, findings)
            } else {
                ResponseBody::Error(ErrorReply {
                    code: WireCode::Unknown(String::new()),
                    message: String::new(),
                    entry: None,
                    state_or_mode: None,
                })
            }
        }
        ErrorMember::Absent if success => success_outcome(view, findings),
        ErrorMember::Absent => {
            let message = match view.message {
                Member::Text(message) => message.to_owned(),
                _ => String::new(),
            };
            findings.push(Finding::tolerated(
                ERROR_MISSING,
                format!(
                    "HTTP {status} without an error member (top-level message {message:?}): tolerated, the SDK fails with AttributeError"
                ),
            ));
            ResponseBody::Error(ErrorReply {
                code: WireCode::Unknown(String::new()),
                message,
                entry: None,
                state_or_mode: None,
            })
        }
    }
}

fn success_outcome(view: &View<'_>, findings: &mut Vec<Finding>) -> ResponseBody {
    let response = match view.response {
        ResponseMember::Absent => {
            findings.push(Finding::tolerated(
                RESPONSE_MISSING,
                "a success without a response member: tolerated, the SDK returns None",
            ));
            None
        }
        // The raw text was validated while skipping it, so this parse cannot fail; if it
        // somehow did, the text is kept rather than lost.
        ResponseMember::Raw(raw) => Some(
            serde_json::from_str(raw.get()).unwrap_or_else(|_| Value::String(raw.get().to_owned())),
        ),
        ResponseMember::Value(value) => Some(value.clone()),
    };
    ResponseBody::Success { response }
}

fn error_reply(
    status: u16,
    code: Member<'_>,
    message: Member<'_>,
    findings: &mut Vec<Finding>,
) -> ErrorReply {
    let (code, entry) = match code {
        Member::Text(raw) => {
            let (code, entry) = WireCode::parse_with_entry(raw);
            if let WireCode::Unknown(raw) = &code {
                findings.push(Finding::tolerated(
                    UNKNOWN_CODE,
                    format!("code {raw:?} is not in the registry: tolerated, the SDK reports UNKNOWN_ERROR ({raw})"),
                ));
            }
            (code, entry)
        }
        Member::Other(Value::Number(number)) => {
            let raw = number.to_string();
            findings.push(Finding::tolerated(
                NUMERIC_CODE,
                format!(
                    "code {raw} is a JSON number, not a string: tolerated, the SDK reports UNKNOWN_ERROR ({raw}) with an int code its enum lookups miss"
                ),
            ));
            let (code, entry) = WireCode::parse_with_entry(&raw);
            if let WireCode::Unknown(raw) = &code {
                findings.push(Finding::tolerated(
                    UNKNOWN_CODE,
                    format!("code {raw} is not in the registry: tolerated, the SDK reports UNKNOWN_ERROR ({raw})"),
                ));
            }
            (code, entry)
        }
        Member::Other(value) => {
            findings.push(Finding::violation(
                FIELD_TYPE,
                format!("error.code is {} {}, not a string", kind(value), quote(value)),
            ));
            (WireCode::Unknown(value.to_string()), None)
        }
        Member::Absent => {
            findings.push(Finding::violation(
                ERROR_CODE_MISSING,
                "the error member has no code: the SDK reports UNKNOWN_ERROR ('unknown error code')",
            ));
            (WireCode::Unknown(String::new()), None)
        }
    };
    // `sent` is the message only when the server sent a string: a stand-in for a missing or
    // mistyped one is never compared with the registry.
    let (message, sent) = match message {
        Member::Text(message) => (message.to_owned(), Some(message)),
        Member::Other(value) => {
            findings.push(Finding::violation(
                FIELD_TYPE,
                format!("error.message is {} {}, not a string", kind(value), quote(value)),
            ));
            (value.to_string(), None)
        }
        Member::Absent => {
            findings.push(Finding::violation(
                ERROR_MESSAGE_MISSING,
                "the error member has no message: the SDK reports 'unknown error message'",
            ));
            (String::new(), None)
        }
    };
    let mut state_or_mode = None;
    if let (Some(entry), WireCode::Known(known)) = (entry, &code) {
        if entry.http_status.as_u16() != status {
            let got = HttpStatus::new(status).map_or_else(|| status.to_string(), |s| s.to_string());
            findings.push(Finding::violation(
                STATUS_MISMATCH,
                format!("code {known} travels with HTTP {}, not {got}", entry.http_status),
            ));
        }
        if let Some(sent) = sent {
            state_or_mode = check_message_text(entry, *known, sent, findings);
        }
    }
    ErrorReply { code, message, entry, state_or_mode }
}

/// Compares a known code's message with the registry; returns the state or mode a templated
/// message names.
fn check_message_text(
    entry: &Entry,
    code: Code,
    message: &str,
    findings: &mut Vec<Finding>,
) -> Option<String> {
    if entry.template.is_some() {
        let value = entry.template_value(message);
        let exact = value.is_some_and(|v| entry.render(v).is_ok_and(|m| m == message));
        if !exact {
            findings.push(Finding::tolerated(
                MESSAGE_TEXT,
                format!(
                    "code {code} says {message:?}, not the registry's {:?} with a state or mode filled in",
                    entry.message
                ),
            ));
        }
        return value.map(str::to_owned);
    }
    let listed = || crate::registry().rows(u32::from(code.as_u16())).any(|r| r.message == message);
    if entry.message != message && !listed() {
        findings.push(Finding::tolerated(
            MESSAGE_TEXT,
            format!("code {code} says {message:?}, not the registry's {:?}", entry.message),
        ));
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// Why an error reply could not be written.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum EncodeError {
    /// A templated entry (2302, 2305) needs the state or mode its message names.
    MissingStateOrMode {
        /// The entry's code, four digits.
        code: String,
        /// The placeholder to fill, e.g. `(STATE)`.
        placeholder: String,
    },
    /// A state or mode was given for an entry whose message has no placeholder.
    UnexpectedStateOrMode {
        /// The entry's code, four digits.
        code: String,
        /// The value given.
        value: String,
    },
    /// The state or mode cannot stand in a message (empty, control characters).
    BadStateOrMode(TemplateError),
    /// The entry's code has more than four digits, so it is no ThinQ code.
    CodeOutOfRange {
        /// The code.
        code: u32,
    },
    /// The timestamp is not one ThinQ writes.
    Timestamp(TimestampError),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::MissingStateOrMode { code, placeholder } => write!(
                f,
                "code {code} needs a state or mode for {placeholder} in its message, e.g. HEAT"
            ),
            EncodeError::UnexpectedStateOrMode { code, value } => write!(
                f,
                "code {code} has a fixed message; the state or mode {value:?} has no place in it"
            ),
            EncodeError::BadStateOrMode(error) => error.fmt(f),
            EncodeError::CodeOutOfRange { code } => {
                write!(f, "code {code} has more than four digits: it is no ThinQ code")
            }
            EncodeError::Timestamp(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EncodeError::BadStateOrMode(error) => Some(error),
            EncodeError::Timestamp(error) => Some(error),
            _ => None,
        }
    }
}

/// Appends `text` as a JSON string literal.
fn push_json_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    // Ids and timestamps need no escapes: copied whole, as every reply writes two.
    if !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
        return;
    }
    for c in text.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if u32::from(c) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", u32::from(c)).as_bytes());
            }
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out.push(b'"');
}

/// The error envelope around a code and message exactly as given, in the live key order:
/// `{"messageId":..,"timestamp":..,"error":{"message":..,"code":..}}`.
///
/// Unlike [`encode_error`] nothing is checked, so it can write what a registry other than
/// LG's says (a user's TOML registry with codes of another width) or a templated row's message
/// with its placeholder, as `devfault explain` shows them.
///
/// ```
/// use devfault_thinq::wire::error_envelope;
/// let body = error_envelope("042", "Odd", "fNvdZ1brTn-wWKUlWGoSVw", "2019-06-25T04:52:18.370732");
/// assert_eq!(
///     String::from_utf8_lossy(&body),
///     r#"{"messageId":"fNvdZ1brTn-wWKUlWGoSVw","timestamp":"2019-06-25T04:52:18.370732","error":{"message":"Odd","code":"042"}}"#
/// );
/// ```
pub fn error_envelope(code: &str, message: &str, message_id: &str, timestamp: &str) -> Vec<u8> {
    error_body(code, message, message_id, timestamp)
}

/// `{"messageId":..,"timestamp":..,"error":{"message":..,"code":..}}`, key order as live.
fn error_body(code: &str, message: &str, message_id: &str, timestamp: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + message.len() + message_id.len());
    out.extend_from_slice(b"{\"messageId\":");
    push_json_string(&mut out, message_id);
    out.extend_from_slice(b",\"timestamp\":");
    push_json_string(&mut out, timestamp);
    out.extend_from_slice(b",\"error\":{\"message\":");
    push_json_string(&mut out, message);
    out.extend_from_slice(b",\"code\":");
    push_json_string(&mut out, code);
    out.extend_from_slice(b"}}");
    out
}

/// Writes the error reply for `entry`: its HTTP status, and the envelope with its message and
/// four-digit code, echoing `message_id`.
///
/// `state_or_mode` fills the placeholder of 2302/2305 and must be absent for every other
/// code. `message_id` is written as given, unchecked, so a reply to a malformed id (1104) can
/// echo that id; LG does not document which id its 1104 reply carries (the devfault cloud
/// answers with a fresh valid one, so that its envelope stays valid). `timestamp` must pass
/// [`check_timestamp`]; [`format_timestamp`] writes one.
///
/// ```
/// use devfault_thinq::wire::encode_error;
/// use devfault_thinq::Code;
/// let entry = Code::COMMAND_NOT_SUPPORTED_IN_STATE.entry();
/// let (status, body) =
///     encode_error(entry, Some("HEAT"), "zTL0BXUNT5KR0oZ7checHg", "2026-05-04T16:55:47.326484")
///         .expect("a templated entry with its state");
/// assert_eq!(status.as_u16(), 400);
/// assert_eq!(
///     String::from_utf8_lossy(&body),
///     r#"{"messageId":"zTL0BXUNT5KR0oZ7checHg","timestamp":"2026-05-04T16:55:47.326484","error":{"message":"Command not supported in HEAT","code":"2302"}}"#
/// );
/// ```
pub fn encode_error(
    entry: &Entry,
    state_or_mode: Option<&str>,
    message_id: &str,
    timestamp: &str,
) -> Result<(HttpStatus, Vec<u8>), EncodeError> {
    if entry.code > 9999 {
        return Err(EncodeError::CodeOutOfRange { code: entry.code });
    }
    let code = format!("{:04}", entry.code);
    let message = match (&entry.template, state_or_mode) {
        (Some(_), Some(value)) => entry.render(value).map_err(EncodeError::BadStateOrMode)?,
        (Some(placeholder), None) => {
            return Err(EncodeError::MissingStateOrMode { code, placeholder: placeholder.clone() });
        }
        (None, Some(value)) => {
            return Err(EncodeError::UnexpectedStateOrMode { code, value: value.to_owned() });
        }
        (None, None) => entry.message.clone(),
    };
    check_timestamp(timestamp).map_err(EncodeError::Timestamp)?;
    Ok((entry.http_status, error_body(&code, &message, message_id, timestamp)))
}

/// Writes a success reply: HTTP 200 and `{"messageId":..,"timestamp":..,"response":..}`.
///
/// Control and subscription endpoints answer `"response": {}`. The timestamp is written as
/// given; take it from [`format_timestamp`].
///
/// ```
/// use devfault_thinq::wire::encode_success;
/// let (status, body) =
///     encode_success(&serde_json::json!({}), "zTL0BXUNT5KR0oZ7checHg", "2024-09-01T06:23:20.866279");
/// assert_eq!(status.as_u16(), 200);
/// assert_eq!(
///     String::from_utf8_lossy(&body),
///     r#"{"messageId":"zTL0BXUNT5KR0oZ7checHg","timestamp":"2024-09-01T06:23:20.866279","response":{}}"#
/// );
/// ```
pub fn encode_success(
    response: &Value,
    message_id: &str,
    timestamp: &str,
) -> (HttpStatus, Vec<u8>) {
    // Serializing a Value into a Vec cannot fail (its keys are strings).
    let json = serde_json::to_vec(response).unwrap_or_else(|_| b"null".to_vec());
    (HttpStatus::OK, success_body(&json, message_id, timestamp))
}

/// [`encode_success`] around a `response` already written as JSON: a server that keeps an
/// appliance's state serialized (its reads far outnumber its changes) answers without
/// writing the tree again.
///
/// ```
/// use devfault_thinq::wire::encode_success_raw;
/// let state = serde_json::value::to_raw_value(&serde_json::json!({"a": 1})).unwrap();
/// let (_, body) = encode_success_raw(&state, "zTL0BXUNT5KR0oZ7checHg", "2024-09-01T06:23:20.866279");
/// assert_eq!(
///     String::from_utf8_lossy(&body),
///     r#"{"messageId":"zTL0BXUNT5KR0oZ7checHg","timestamp":"2024-09-01T06:23:20.866279","response":{"a":1}}"#
/// );
/// ```
pub fn encode_success_raw(
    response: &RawValue,
    message_id: &str,
    timestamp: &str,
) -> (HttpStatus, Vec<u8>) {
    (HttpStatus::OK, success_body(response.get().as_bytes(), message_id, timestamp))
}

/// `{"messageId":..,"timestamp":..,"response":..}` around JSON text.
fn success_body(response: &[u8], message_id: &str, timestamp: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + message_id.len() + timestamp.len() + response.len());
    out.extend_from_slice(b"{\"messageId\":");
    push_json_string(&mut out, message_id);
    out.extend_from_slice(b",\"timestamp\":");
    push_json_string(&mut out, timestamp);
    out.extend_from_slice(b",\"response\":");
    out.extend_from_slice(response);
    out.push(b'}');
    out
}

// ---------------------------------------------------------------------------------------------
// axum

/// An axum response for a registry entry: its status, `Content-Type: application/json`, and
/// the envelope with the current time. Status, code and message come from the entry, so a
/// handler cannot pair them wrongly.
///
/// ```
/// use axum::response::IntoResponse;
/// use devfault_thinq::wire::ErrorResponse;
/// use devfault_thinq::Code;
/// let reply = ErrorResponse {
///     entry: Code::NOT_CONNECTED_DEVICE.entry(),
///     state_or_mode: None,
///     message_id: "zTL0BXUNT5KR0oZ7checHg".to_owned(),
/// }
/// .into_response();
/// assert_eq!(reply.status().as_u16(), 416);
/// ```
#[cfg(feature = "axum")]
#[derive(Clone, Debug)]
pub struct ErrorResponse {
    /// The row to answer with.
    pub entry: &'static Entry,
    /// The state or mode for 2302/2305; `None` for every other code.
    pub state_or_mode: Option<String>,
    /// The request's `x-message-id`, echoed (see [`message_id_header`]).
    pub message_id: String,
}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for ErrorResponse {
    /// Answers even when the entry and `state_or_mode` do not fit together (a templated entry
    /// without a state): then the message is the entry's own, placeholder included, so the
    /// client still gets the right status and code rather than an unrelated 500.
    fn into_response(self) -> axum::response::Response {
        use axum::http::{HeaderValue, StatusCode, header};

        let timestamp = format_timestamp(SystemTime::now());
        let state = self.state_or_mode.as_deref();
        let (status, body) = match encode_error(self.entry, state, &self.message_id, &timestamp) {
            Ok(reply) => reply,
            Err(_) => {
                let code = format!("{:04}", self.entry.code);
                let body = error_body(&code, &self.entry.message, &self.message_id, &timestamp);
                (self.entry.http_status, body)
            }
        };
        let status =
            StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

/// The request's `x-message-id` to echo: the first such header as sent (lossy UTF-8), or an
/// empty string when there is none.
///
/// Whatever was sent is returned, valid or not: checking it (and answering 1104 or 1101) is
/// the job of the handler, which can call [`check_message_id`] and choose what to echo for an
/// id it refuses (the devfault cloud sends a fresh valid one). Nothing is generated for a
/// missing header here, since a fresh id would echo nothing the client sent.
#[cfg(feature = "axum")]
pub fn message_id_header(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("x-message-id")
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
