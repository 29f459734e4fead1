//! A captured HTTP/1.x response as text: status line, headers, blank line, body. This is what a
//! support engineer pastes from `curl -i`, a proxy log or a terminal; [`parse_response`] reads
//! it without trusting any of it.

use std::fmt;

/// A response read from its text form.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HttpResponse {
    /// The status code of the status line.
    pub status: u16,
    /// The reason phrase of the status line (possibly empty).
    pub reason: String,
    /// Header fields in order, names as written.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked when the response was chunked.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name`, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why a text is not a readable HTTP response.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum HttpParseError {
    /// The first line is not `HTTP/x.y NNN reason`.
    StatusLine(String),
    /// The status is not a number from 100 to 599.
    Status(String),
    /// A header line without a colon, or with a name that is not a token.
    Header {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// The headers never end (no blank line).
    Unterminated,
    /// Fewer body bytes than `Content-Length` announces.
    Truncated {
        /// Bytes announced.
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// A `Content-Length` that is not a number.
    ContentLength(String),
    /// A chunked body that breaks the chunk grammar.
    Chunk(String),
}

impl fmt::Display for HttpParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpParseError::StatusLine(line) => {
                write!(f, "the status line {line:?} is not `HTTP/1.1 NNN Reason`")
            }
            HttpParseError::Status(status) => {
                write!(f, "status {status:?} is not an HTTP status (100–599)")
            }
            HttpParseError::Header { line, text } => {
                write!(f, "line {line}: {text:?} is not a header field `Name: value`")
            }
            HttpParseError::Unterminated => {
                f.write_str("the headers do not end: no blank line before the body")
            }
            HttpParseError::Truncated { expected, got } => write!(
                f,
                "the body is truncated: Content-Length says {expected} bytes, {got} are present"
            ),
            HttpParseError::ContentLength(value) => {
                write!(f, "Content-Length {value:?} is not a number of bytes")
            }
            HttpParseError::Chunk(why) => write!(f, "the chunked body is broken: {why}"),
        }
    }
}

impl std::error::Error for HttpParseError {}

/// True when `bytes` look like a response with a status line (rather than a bare body).
pub fn has_status_line(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    bytes[start..].starts_with(b"HTTP/")
}

/// Reads a response in its text form. Line ends may be CRLF or LF; a body longer than
/// `Content-Length` keeps its extra bytes (a capture may hold a second response; the caller
/// decides), a shorter one is an error.
pub fn parse_response(bytes: &[u8]) -> Result<HttpResponse, HttpParseError> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let mut rest = &bytes[start..];
    let mut line_no = 1;
    let status_line = next_line(&mut rest).ok_or(HttpParseError::Unterminated)?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    let reason = parts.next().unwrap_or_default().trim().to_owned();
    if !version.starts_with("HTTP/") || code.is_empty() {
        return Err(HttpParseError::StatusLine(status_line));
    }
    let status = code
        .parse::<u16>()
        .ok()
        .filter(|s| (100..=599).contains(s))
        .ok_or_else(|| HttpParseError::Status(code.to_owned()))?;

    let mut headers = Vec::new();
    loop {
        let line = next_line(&mut rest).ok_or(HttpParseError::Unterminated)?;
        line_no += 1;
        if line.is_empty() {
            break;
        }
        let header_error = || HttpParseError::Header { line: line_no, text: line.clone() };
        let (name, value) = line.split_once(':').ok_or_else(header_error)?;
        let is_token = !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !is_token {
            return Err(header_error());
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let mut response = HttpResponse { status, reason, headers, body: Vec::new() };
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().split(',').any(|t| t.trim() == "chunked"));
    if chunked {
        response.body = dechunk(rest)?;
    } else if let Some(length) = response.header("content-length") {
        let expected: usize =
            length.parse().map_err(|_| HttpParseError::ContentLength(length.to_owned()))?;
        if rest.len() < expected {
            return Err(HttpParseError::Truncated { expected, got: rest.len() });
        }
        response.body = rest.to_vec();
    } else {
        response.body = rest.to_vec();
    }
    Ok(response)
}

/// The next line without its line end, advancing `rest` past it; `None` if no line end is left.
fn next_line(rest: &mut &[u8]) -> Option<String> {
    let end = rest.iter().position(|&b| b == b'\n')?;
    let line = &rest[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    *rest = &rest[end + 1..];
    Some(String::from_utf8_lossy(line).into_owned())
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, HttpParseError> {
    let mut body = Vec::new();
    loop {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| HttpParseError::Chunk("a chunk size line does not end".to_owned()))?;
        let line = String::from_utf8_lossy(&rest[..end]);
        let size_text = line.trim().split(';').next().unwrap_or_default().trim().to_owned();
        let size = usize::from_str_radix(&size_text, 16)
            .map_err(|_| HttpParseError::Chunk(format!("chunk size {size_text:?} is not hex")))?;
        rest = &rest[end + 1..];
        if size == 0 {
            return Ok(body);
        }
        if rest.len() < size {
            return Err(HttpParseError::Chunk(format!(
                "a chunk announces {size} bytes, {} are present",
                rest.len()
            )));
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size..];
        rest =
            rest.strip_prefix(b"\r\n").or_else(|| rest.strip_prefix(b"\n")).ok_or_else(|| {
                HttpParseError::Chunk("a chunk is not followed by a line end".to_owned())
            })?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_curl_capture_with_crlf() {
        let text = b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: 44\r\n\r\n{\"result\": [{\"status\": \"active\"}], \"id\": 50}";
        let response = parse_response(text).expect("parses");
        assert_eq!(response.status, 200);
        assert_eq!(response.reason, "OK");
        assert_eq!(response.header("content-type"), Some("application/json; charset=UTF-8"));
        assert_eq!(response.body.len(), 44);
    }

    #[test]
    fn lf_line_ends_and_no_length() {
        let response = parse_response(b"\nHTTP/1.1 416 \nx: y\n\n{}").expect("parses");
        assert_eq!((response.status, response.reason.as_str()), (416, ""));
        assert_eq!(response.body, b"{}");
    }

    #[test]
    fn chunked_bodies_are_joined() {
        let text = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=1\r\n:1}\r\n0\r\n\r\n";
        assert_eq!(parse_response(text).expect("parses").body, b"{\"a\":1}");
        let broken = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert!(matches!(parse_response(broken), Err(HttpParseError::Chunk(_))));
    }

    #[test]
    fn each_error_names_what_is_wrong() {
        assert!(
            matches!(parse_response(b"HTTP/1.1 999 X\n\n"), Err(HttpParseError::Status(s)) if s == "999")
        );
        assert!(matches!(parse_response(b"HTTP/1.1\n\n"), Err(HttpParseError::StatusLine(_))));
        assert!(matches!(
            parse_response(b"HTTP/1.1 200 OK\nbad header\n\n"),
            Err(HttpParseError::Header { line: 2, .. })
        ));
        assert_eq!(parse_response(b"HTTP/1.1 200 OK\nA: b\n"), Err(HttpParseError::Unterminated));
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\nContent-Length: 10\n\n{}"),
            Err(HttpParseError::Truncated { expected: 10, got: 2 })
        );
        let err =
            parse_response(b"HTTP/1.1 200 OK\nContent-Length: ten\n\n").expect_err("bad length");
        assert!(err.to_string().contains("\"ten\""), "{err}");
    }

    #[test]
    fn bare_bodies_are_told_apart() {
        assert!(has_status_line(b"  HTTP/1.1 200 OK\r\n"));
        assert!(!has_status_line(b"{\"error\":[7,\"Illegal State\"],\"id\":1}"));
        assert!(!has_status_line(b""));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for len in 0..2000usize {
            let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
            for _ in 0..(len % 97) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.push(b"\r\n:ab 0123456789\x00\xff"[(state % 18) as usize]);
            }
            let _ = parse_response(&bytes);
            let _ = parse_response(&bytes[17..]);
        }
    }
}
