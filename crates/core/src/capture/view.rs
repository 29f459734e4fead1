//! Exchanges read borrowed from the input buffer: no `serde_json::Value` tree, header names and
//! values borrowed unless they hold escapes, bodies unescaped or base64-decoded into buffers the
//! caller reuses from one exchange to the next. This is the fast path of `devfault check`; the
//! `Value` readers of the parent module give the precise message when an item is malformed.

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::limits::{Bytes, Limits};
use super::time::parse_timestamp;
use super::{Position, parse_har_entry, parse_ndjson_line};

/// One header field, borrowed where it can be.
pub type Header<'a> = (Cow<'a, str>, Cow<'a, str>);

/// One exchange, borrowed from its line or entry and from the caller's [`Scratch`].
#[derive(Debug)]
pub struct ExchangeView<'a> {
    /// Where it stands in the capture.
    pub position: Position,
    /// When it started, in seconds since the Unix epoch (HAR `startedDateTime`, NDJSON `time`).
    pub time: Option<i64>,
    /// HTTP method; empty when the capture has no request.
    pub method: Cow<'a, str>,
    /// The full URL; empty when the capture has no request.
    pub url: Cow<'a, str>,
    /// Request header fields in order.
    pub request_headers: Vec<Header<'a>>,
    /// The request body, decoded.
    pub request_body: &'a [u8],
    /// The response status (HAR's 0 "no response" kept).
    pub status: u16,
    /// Response header fields in order.
    pub response_headers: Vec<Header<'a>>,
    /// The response body, decoded.
    pub response_body: &'a [u8],
}

/// Buffers a reader decodes bodies into; keep one per thread and pass it to every parse, so
/// bodies cost no allocation once the buffers have grown to the largest body seen.
#[derive(Default, Debug)]
pub struct Scratch {
    request: Vec<u8>,
    response: Vec<u8>,
    unescaped: Vec<u8>,
}

/// A body as the capture wrote it: a JSON string (text or base64), or nothing.
#[derive(Clone, Copy)]
enum RawBody<'a> {
    Text(&'a RawValue),
    Base64(&'a RawValue),
    None,
}

#[derive(Deserialize)]
struct NdLine<'a> {
    #[serde(borrow, default)]
    request: Option<NdSide<'a>>,
    #[serde(borrow, default)]
    response: Option<NdSide<'a>>,
    #[serde(borrow, default)]
    time: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct NdSide<'a> {
    #[serde(borrow, default)]
    method: Option<Str<'a>>,
    #[serde(borrow, default)]
    url: Option<Str<'a>>,
    #[serde(default)]
    status: Option<u64>,
    #[serde(borrow, default)]
    headers: Option<Headers<'a>>,
    #[serde(borrow, default)]
    body: Option<&'a RawValue>,
    #[serde(borrow, default)]
    body_base64: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct HarEntry<'a> {
    #[serde(borrow, default)]
    startedDateTime: Option<Str<'a>>,
    #[serde(borrow, default)]
    request: Option<HarRequest<'a>>,
    #[serde(borrow, default)]
    response: Option<HarResponse<'a>>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct HarRequest<'a> {
    #[serde(borrow, default)]
    method: Option<Str<'a>>,
    #[serde(borrow, default)]
    url: Option<Str<'a>>,
    #[serde(borrow, default)]
    headers: Option<Headers<'a>>,
    #[serde(borrow, default)]
    postData: Option<HarContent<'a>>,
}

#[derive(Deserialize)]
struct HarResponse<'a> {
    #[serde(default)]
    status: Option<u64>,
    #[serde(borrow, default)]
    headers: Option<Headers<'a>>,
    #[serde(borrow, default)]
    content: Option<HarContent<'a>>,
}

#[derive(Deserialize)]
struct HarContent<'a> {
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    encoding: Option<Str<'a>>,
}

/// Header fields as an object (name → value) or a HAR array of `{"name", "value"}`.
struct Headers<'a>(Vec<Header<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Headers<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HeadersVisitor(std::marker::PhantomData))
    }
}

struct HeadersVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for HeadersVisitor<'a> {
    type Value = Headers<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("headers as an object or an array of {\"name\", \"value\"}")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Headers(Vec::new()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::new();
        while let Some((Str(name), Text(value))) = map.next_entry::<Str<'de>, Text<'de>>()? {
            fields.push((name, value));
        }
        Ok(Headers(fields))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        #[derive(Deserialize)]
        struct NameValue<'a> {
            #[serde(borrow)]
            name: Str<'a>,
            #[serde(borrow)]
            value: Text<'a>,
        }
        let mut fields = Vec::new();
        while let Some(field) = seq.next_element::<NameValue<'de>>()? {
            fields.push((field.name.0, field.value.0));
        }
        Ok(Headers(fields))
    }
}

/// A string, borrowed from the input unless it holds escapes (serde's own `Cow` always copies
/// inside an `Option` or a map key).
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// A header value: a string, or a number written as one.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Reads one NDJSON line (without or with its line end) borrowed; `line` must already be within
/// [`Limits::line`].
pub fn parse_ndjson_view<'a>(
    line: &'a [u8],
    position: Position,
    limits: &Limits,
    scratch: &'a mut Scratch,
) -> Result<ExchangeView<'a>, String> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let parsed: NdLine<'a> = match serde_json::from_slice(line) {
        Ok(parsed) => parsed,
        Err(e) if e.is_syntax() || e.is_eof() => return Err(format!("not JSON: {e}")),
        // A shape error: the `Value` reader names the member and the value.
        Err(e) => return Err(parse_ndjson_line(line, position).err().unwrap_or(e.to_string())),
    };
    let response = parsed.response.ok_or("no \"response\" member")?;
    let status = check_status(response.status)?;
    let time = match parsed.time {
        None => None,
        Some(Str(text)) => Some(parse_timestamp(&text).ok_or_else(|| {
            format!("time {text:?} is not an RFC 3339 date-time (2026-11-21T10:00:00Z)")
        })?),
    };
    let response_raw = nd_body(&response, "response")?;
    let (method, url, request_headers, request_raw) = match parsed.request {
        None => (Cow::Borrowed(""), Cow::Borrowed(""), Vec::new(), RawBody::None),
        Some(request) => {
            let raw = nd_body(&request, "request")?;
            (
                request.method.map(|s| s.0).unwrap_or_default(),
                request.url.map(|s| s.0).unwrap_or_default(),
                request.headers.map(|h| h.0).unwrap_or_default(),
                raw,
            )
        }
    };
    let Scratch { request, response: response_buf, unescaped } = scratch;
    let request_body = decode_body(request_raw, request, unescaped, limits, "request")?;
    let response_body = decode_body(response_raw, response_buf, unescaped, limits, "response")?;
    Ok(ExchangeView {
        position,
        time,
        method,
        url,
        request_headers,
        request_body,
        status,
        response_headers: response.headers.map(|h| h.0).unwrap_or_default(),
        response_body,
    })
}

/// Reads one HAR entry (the JSON text of an element of `log.entries`) borrowed.
pub fn parse_har_view<'a>(
    entry: &'a [u8],
    position: Position,
    limits: &Limits,
    scratch: &'a mut Scratch,
) -> Result<ExchangeView<'a>, String> {
    let parsed: HarEntry<'a> = match serde_json::from_slice(entry) {
        Ok(parsed) => parsed,
        Err(e) if e.is_syntax() || e.is_eof() => return Err(format!("not JSON: {e}")),
        Err(e) => {
            let precise = serde_json::from_slice::<serde_json::Value>(entry)
                .ok()
                .and_then(|value| parse_har_entry(&value, position).err());
            return Err(precise.unwrap_or(e.to_string()));
        }
    };
    let request = parsed.request.ok_or("no \"request\"")?;
    let response = parsed.response.ok_or("no \"response\"")?;
    let status = check_status(response.status)?;
    let request_raw = har_body(request.postData.as_ref(), "request.postData")?;
    let response_raw = har_body(response.content.as_ref(), "response.content")?;
    let Scratch { request: request_buf, response: response_buf, unescaped } = scratch;
    let request_body = decode_body(request_raw, request_buf, unescaped, limits, "request")?;
    let response_body = decode_body(response_raw, response_buf, unescaped, limits, "response")?;
    Ok(ExchangeView {
        position,
        time: parsed.startedDateTime.and_then(|s| parse_timestamp(&s.0)),
        method: request.method.map(|s| s.0).unwrap_or_default(),
        url: request.url.map(|s| s.0).unwrap_or_default(),
        request_headers: request.headers.map(|h| h.0).unwrap_or_default(),
        request_body,
        status,
        response_headers: response.headers.map(|h| h.0).unwrap_or_default(),
        response_body,
    })
}

fn check_status(status: Option<u64>) -> Result<u16, String> {
    let value = status.ok_or("the response has no \"status\"")?;
    u16::try_from(value)
        .ok()
        .filter(|&n| n == 0 || (100..=599).contains(&n))
        .ok_or_else(|| format!("response status {value} is not an HTTP status (100–599, or 0)"))
}

fn is_null(raw: Option<&RawValue>) -> bool {
    raw.is_none_or(|r| r.get() == "null")
}

fn nd_body<'a>(side: &NdSide<'a>, what: &str) -> Result<RawBody<'a>, String> {
    match (is_null(side.body), is_null(side.body_base64)) {
        (true, true) => Ok(RawBody::None),
        (false, true) => Ok(RawBody::Text(side.body.ok_or("unreachable")?)),
        (true, false) => Ok(RawBody::Base64(side.body_base64.ok_or("unreachable")?)),
        (false, false) => Err(format!("{what} has both body and body_base64")),
    }
}

fn har_body<'a>(content: Option<&HarContent<'a>>, what: &str) -> Result<RawBody<'a>, String> {
    let Some(content) = content else { return Ok(RawBody::None) };
    let Some(text) = content.text.filter(|t| t.get() != "null") else {
        return Ok(RawBody::None);
    };
    match content.encoding.as_ref().map(|s| s.0.as_ref()) {
        Some("base64") => Ok(RawBody::Base64(text)),
        Some(other) if !other.is_empty() => {
            Err(format!("{what}.encoding {other:?} is not supported (only base64)"))
        }
        _ => Ok(RawBody::Text(text)),
    }
}

/// Writes a body's bytes into `buf` (cleared first) and borrows them: text unescaped, base64
/// decoded, each within its cap.
fn decode_body<'s>(
    raw: RawBody<'_>,
    buf: &'s mut Vec<u8>,
    unescaped: &mut Vec<u8>,
    limits: &Limits,
    what: &str,
) -> Result<&'s [u8], String> {
    buf.clear();
    match raw {
        RawBody::None => {}
        RawBody::Text(raw) => {
            let text = string_contents(raw, what)?;
            unescape(text, buf, limits.body)
                .map_err(|e| e.message(what, limits.body, "--max-body"))?;
        }
        RawBody::Base64(raw) => {
            let text = string_contents(raw, what)?;
            let encoded: &[u8] = if text.contains(&b'\\') {
                unescaped.clear();
                unescape(text, unescaped, limits.decoded_body.saturating_mul(2).saturating_add(16))
                    .map_err(|e| e.message(what, limits.decoded_body, "--max-decoded-body"))?;
                unescaped
            } else {
                text
            };
            let encoded = encoded.trim_ascii();
            let decoded_len = encoded.len() / 4 * 3;
            if decoded_len > limits.decoded_body.saturating_add(3) {
                return Err(format!(
                    "{what} body decodes to about {} from base64, over the {} cap (--max-decoded-body); skipped",
                    Bytes(decoded_len as u64),
                    Bytes(limits.decoded_body as u64)
                ));
            }
            base64::engine::general_purpose::STANDARD
                .decode_vec(encoded, buf)
                .map_err(|e| format!("{what} body is marked base64 but is not: {e}"))?;
            if buf.len() > limits.decoded_body {
                return Err(format!(
                    "{what} body decodes to {} from base64, over the {} cap (--max-decoded-body); skipped",
                    Bytes(buf.len() as u64),
                    Bytes(limits.decoded_body as u64)
                ));
            }
        }
    }
    Ok(buf)
}

/// The bytes between the quotes of a JSON string value.
fn string_contents<'a>(raw: &'a RawValue, what: &str) -> Result<&'a [u8], String> {
    let text = raw.get().as_bytes();
    match text {
        [b'"', inner @ .., b'"'] => Ok(inner),
        _ => Err(format!("{what} body must be a string, not {}", excerpt(raw.get()))),
    }
}

fn excerpt(text: &str) -> String {
    let end = text.char_indices().nth(40).map_or(text.len(), |(i, _)| i);
    if end < text.len() { format!("{}…", &text[..end]) } else { text.to_owned() }
}

enum UnescapeError {
    TooLong,
    Bad,
}

impl UnescapeError {
    fn message(&self, what: &str, cap: usize, flag: &str) -> String {
        match self {
            UnescapeError::TooLong => format!(
                "{what} body is longer than the {} cap ({flag}); skipped",
                Bytes(cap as u64)
            ),
            UnescapeError::Bad => format!("{what} body has a broken escape"),
        }
    }
}

/// Appends the unescaped bytes of a JSON string's contents (already validated by serde_json)
/// to `out`, stopping once `out` would exceed `cap`.
fn unescape(mut text: &[u8], out: &mut Vec<u8>, cap: usize) -> Result<(), UnescapeError> {
    loop {
        let plain = memchr::memchr(b'\\', text).unwrap_or(text.len());
        if out.len() + plain > cap {
            return Err(UnescapeError::TooLong);
        }
        out.extend_from_slice(&text[..plain]);
        text = &text[plain..];
        let [b'\\', kind, rest @ ..] = text else {
            return if text.is_empty() { Ok(()) } else { Err(UnescapeError::Bad) };
        };
        text = rest;
        let byte = match kind {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let first = hex4(&mut text)?;
                let code = if (0xD800..0xDC00).contains(&first) {
                    match text {
                        [b'\\', b'u', ..] => {
                            text = &text[2..];
                            let second = hex4(&mut text)?;
                            if !(0xDC00..0xE000).contains(&second) {
                                return Err(UnescapeError::Bad);
                            }
                            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                        }
                        _ => return Err(UnescapeError::Bad),
                    }
                } else {
                    first
                };
                let c = char::from_u32(code).ok_or(UnescapeError::Bad)?;
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                if out.len() > cap {
                    return Err(UnescapeError::TooLong);
                }
                continue;
            }
            _ => return Err(UnescapeError::Bad),
        };
        if out.len() + 1 > cap {
            return Err(UnescapeError::TooLong);
        }
        out.push(byte);
    }
}

fn hex4(text: &mut &[u8]) -> Result<u32, UnescapeError> {
    let digits = text.get(..4).ok_or(UnescapeError::Bad)?;
    let mut value = 0;
    for d in digits {
        value = value * 16 + char::from(*d).to_digit(16).ok_or(UnescapeError::Bad)?;
    }
    *text = &text[4..];
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_lines_read_like_the_value_reader() {
        let line = br#"{"time":"2026-11-21T10:00:00Z","request":{"method":"POST","url":"http://tv/sony/audio","headers":{"X-Auth-PSK":"0000","N":5},"body":"{\"a\":\"\u00e9\ud83d\ude00\"}"},"response":{"status":200,"headers":[{"name":"Content-Type","value":"application/json"}],"body_base64":"e30="}}"#;
        let mut scratch = Scratch::default();
        let view = parse_ndjson_view(line, Position::Line(1), &Limits::DEFAULT, &mut scratch)
            .expect("reads");
        assert_eq!(view.time, Some(1_795_255_200));
        assert!(matches!(view.url, Cow::Borrowed(_)), "no copy of a plain string");
        assert_eq!(view.request_headers[1], (Cow::Borrowed("N"), Cow::Borrowed("5")));
        assert_eq!(view.request_body, "{\"a\":\"é😀\"}".as_bytes());
        assert_eq!(view.response_body, b"{}");
        assert_eq!(view.response_headers[0].1, "application/json");
    }

    #[test]
    fn errors_name_the_member_and_caps_apply() {
        let mut scratch = Scratch::default();
        let mut parse = |line: &str, limits: &Limits| {
            parse_ndjson_view(line.as_bytes(), Position::Line(1), limits, &mut scratch)
                .map(|_| ())
                .expect_err("broken")
        };
        let d = Limits::DEFAULT;
        assert!(parse("{\"response\":", &d).starts_with("not JSON"));
        assert!(parse(r#"{"response":{"status":999}}"#, &d).contains("999"));
        assert!(
            parse(r#"{"request":{"url":5},"response":{"status":200}}"#, &d).contains("request.url")
        );
        assert!(
            parse(r#"{"response":{"status":200,"body":"a","body_base64":"YQ=="}}"#, &d)
                .contains("both")
        );
        assert!(parse(r#"{"time":"noon","response":{"status":200}}"#, &d).contains("\"noon\""));
        let small = Limits { body: 4, decoded_body: 3, ..d };
        assert!(
            parse(r#"{"response":{"status":200,"body":"12345"}}"#, &small).contains("--max-body")
        );
        assert!(
            parse(r#"{"response":{"status":200,"body_base64":"MTIzNDU2Nzg="}}"#, &small)
                .contains("--max-decoded-body")
        );
        assert!(
            parse(r#"{"response":{"status":200,"body_base64":"%%%%"}}"#, &d).contains("base64")
        );
    }

    #[test]
    fn har_entries_read_borrowed() {
        let entry = br#"{"startedDateTime":"2026-11-21T10:00:00.000+00:00","request":{"method":"GET","url":"u","headers":[]},"response":{"status":401,"headers":[],"content":{"encoding":"base64","text":"eyJhIjoxfQ=="}}}"#;
        let mut scratch = Scratch::default();
        let view = parse_har_view(entry, Position::Entry(0), &Limits::DEFAULT, &mut scratch)
            .expect("reads");
        assert_eq!((view.status, view.response_body), (401, b"{\"a\":1}".as_slice()));
        assert_eq!(view.time, Some(1_795_255_200));
        let err = parse_har_view(
            br#"{"request":{}}"#,
            Position::Entry(0),
            &Limits::DEFAULT,
            &mut scratch,
        )
        .map(|_| ())
        .expect_err("no response");
        assert!(err.contains("response"), "{err}");
    }
}
